"""Applying the hub's commands on a node: each exactly once (by command id), in order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubConnection
from federation.envelope import (
    EnrolMember,
    InvalidEnvelope,
    LinkTelegram,
    NotifyMember,
    RevokeStaffSessions,
    SetConsent,
    parse_envelope,
)
from mallnet.messaging.dispatch import Draft, enqueue
from mallnet.messaging.templates import Kind, Values
from mallnet.secrets_store import pseudonym
from shop_node.db.models import AppliedCommand, Member, Message, TelegramChat
from shop_node.services import notify, outbox, sessions
from shop_node.services.ledger import Ledger
from shop_node.services.members import MEMBER_BY_PHONE, create_member, grant_legs
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime


async def apply_command(runtime: NodeRuntime, data: object) -> str:
    """Apply one command envelope; returns what happened (also when it already had). A
    message a command asks for is queued with it, keyed by the command: sent once, after
    the commit (``shop_node.services.messages``)."""
    try:
        envelope = parse_envelope(data)
    except InvalidEnvelope as exc:
        return f"unreadable: {exc}"[:200]
    if envelope.node != runtime.shop:
        return "not for this shop"
    command = envelope.typed()

    async def work(session: AsyncSession) -> str:
        done = await session.get(AppliedCommand, envelope.event_id)
        if done is not None:
            return done.outcome
        outcome = "ignored: unknown command"
        if isinstance(command, EnrolMember):
            outcome = await _enrol(session, runtime, envelope.event_id, command)
        elif isinstance(command, NotifyMember):
            outcome = await _notice(session, runtime, envelope.event_id, command)
        elif isinstance(command, SetConsent):
            outcome = await _set_consent(session, runtime, envelope.event_id, command)
        elif isinstance(command, RevokeStaffSessions):
            ended = await sessions.revoke(
                session, command.subject, command.reason, envelope.occurred_at, runtime.clock()
            )
            who = command.subject or "all staff"
            outcome = f"revoked {who} ({command.reason}): {ended} session(s) ended"
        elif isinstance(command, LinkTelegram):
            outcome = await _link_telegram(session, runtime, command)
        session.add(
            AppliedCommand(
                command_id=envelope.event_id,
                type=envelope.type.value,
                outcome=outcome,
                applied_at=runtime.clock(),
            )
        )
        return outcome

    return await runtime.transaction(work)


async def _member_named(session: AsyncSession, runtime: NodeRuntime, who: str) -> Member | None:
    """The member a command names by pseudonym: the node keeps phones, not pseudonyms, so
    it computes them (these commands are rare)."""
    rows = await session.execute(select(Member.id, Member.phone))
    for member_id, phone in rows.all():
        if pseudonym(runtime.network_key, phone) == who:
            return await session.get(Member, member_id)
    return None


# What the hub may ask a shop to pass on to its member on the service line.
NOTICE_KINDS = frozenset({"lottery_win"})


async def _notice(
    session: AsyncSession, runtime: NodeRuntime, command_id: str, command: NotifyMember
) -> str:
    """Queue the hub's text (a lottery win) for the member it names, if she accepts SMS.
    Only a lottery win: it goes on the service line, where nothing waits for consent or
    quiet hours, so the hub may not send anything else through the shop this way."""
    if command.kind not in NOTICE_KINDS:
        return f"skipped: the hub may not send {command.kind!r} notices through this shop"
    member = await _member_named(session, runtime, command.pseudonym)
    if member is None:
        return "skipped: not a member here"
    if not member.consent_sms:
        return "skipped: no SMS consent"
    draft = Draft(
        key=f"command:{command_id}",
        kind=command.kind,
        medium="sms",
        line="service",
        recipient=member.phone,
        text=command.text,
        subject=str(member.id),
    )
    await enqueue(
        session,
        Message,
        draft,
        now=runtime.clock(),
        quiet=runtime.quiet,
        part_price_rial=runtime.sms_part_price_rial,
    )
    return "sent"


async def _set_consent(
    session: AsyncSession, runtime: NodeRuntime, command_id: str, command: SetConsent
) -> str:
    """The shopper changed her consents here in the app: the consents she gave change
    (the others stay), and the hub hears the result, naming the command it answers."""
    member = await _member_named(session, runtime, command.pseudonym)
    if member is None:
        return "skipped: not a member here"
    # Locked and re-read, as a staff edit of the member is: the two never interleave.
    await session.refresh(member, with_for_update=True)
    if command.partner_sharing is not None:
        member.consent_partner_sharing = command.partner_sharing
    if command.promotional is not None:
        member.consent_promotional = command.promotional
    # Reported even when nothing changed: the hub holds her change until this answer.
    report = outbox.consent_changed(runtime.network_key, member, command_id)
    await outbox.emit(session, runtime.clock(), [report])
    on_off = {True: "on", False: "off"}
    return (
        f"consents of member {member.card_code} set: partner sharing"
        f" {on_off[member.consent_partner_sharing]},"
        f" promotional SMS {on_off[member.consent_promotional]}"
    )


async def _link_telegram(session: AsyncSession, runtime: NodeRuntime, command: LinkTelegram) -> str:
    """The member linked her Telegram chat at the mall's bot (or unlinked it): the node's
    copy follows, so her next service message goes to the chat she has now, and one queued
    for a chat she unlinked is stopped before it goes (``messages.refusals``)."""
    member = await _member_named(session, runtime, command.pseudonym)
    if member is None:
        return "skipped: not a member here"
    chat = await session.get(TelegramChat, member.id, with_for_update=True)
    if command.chat_id is None:
        if chat is None:
            return f"member {member.card_code} had no Telegram chat"
        await session.delete(chat)
        return f"Telegram chat of member {member.card_code} unlinked"
    if chat is None:
        chat = TelegramChat(member_id=member.id, chat_id=command.chat_id, linked_at=runtime.clock())
        session.add(chat)
    elif chat.chat_id != command.chat_id:
        chat.chat_id, chat.linked_at = command.chat_id, runtime.clock()
    chat.promotional = command.promotional
    offers = "with" if command.promotional else "without"
    return f"Telegram chat of member {member.card_code} linked ({offers} offers)"


async def _enrol(
    session: AsyncSession, runtime: NodeRuntime, command_id: str, command: EnrolMember
) -> str:
    if command.phone is None:
        return "skipped: no contact (the shopper has not consented to sharing)"
    if await session.scalar(MEMBER_BY_PHONE, {"phone": command.phone}) is not None:
        return "already a member"
    _version, policy = await current_policy(session, runtime)
    ledger = Ledger(session, runtime.system_accounts, runtime.clock())
    # Enrolled by a partnership: the agreement's welcome, not the open-club one.
    closed = policy.model_copy(update={"welcome_points": 0, "welcome_credit_rial": 0})
    member, accounts = await create_member(
        session,
        ledger,
        phone=command.phone,
        via="partner",
        actor=f"hub:{command.origin_shop}",
        policy=closed,
        now=ledger.now,
        # Service SMS as for every member; nothing the shopper did not say herself: no
        # promotional SMS, and no passing her contact on to this shop's own partners.
        consents=(True, False, False),
    )
    legs = [
        *grant_legs(ledger, accounts, "points", command.welcome_points, policy, ledger.now),
        *grant_legs(ledger, accounts, "rial", command.welcome_credit_rial, policy, ledger.now),
    ]
    if legs:
        recorded = await ledger.record(
            key=f"partner-welcome:{command_id}",
            reason="welcome",
            reference=f"agreement:{command.agreement_id}",
            member_id=member.id,
            actor=f"hub:{command.origin_shop}",
            legs=legs,
            memo=f"welcome through the partnership with {command.origin_shop}",
        )
        accounts = recorded.after(accounts)
    balance = await outbox.balance_now(session, runtime, member, accounts.points, accounts.rial)
    await outbox.emit(session, ledger.now, [outbox.enrolled(runtime.network_key, member), balance])
    welcome = Values(via_shop=command.origin_shop)
    key = f"command:{command_id}"
    await notify.tell(session, runtime, policy, member, Kind.PARTNER_WELCOME, welcome, key=key)
    return f"enrolled member {member.card_code}"


async def pull_and_apply(runtime: NodeRuntime, hub: HubConnection) -> int:
    """Apply every waiting command in order, acknowledging as far as applied."""
    applied = 0
    while items := await hub.inbox():
        for item in items:
            await apply_command(runtime, item["envelope"])
            applied += 1
        await hub.ack(int(items[-1]["cursor"]))
    return applied
