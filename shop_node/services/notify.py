"""What the club tells a member, queued in the transaction of the event it tells of.

Each message is keyed by its event (the receipt, the refund, the adjustment, the grant…),
so a retried request queues nothing new. Service messages (a purchase, a change of
balance, an offer granted, a new tier, a birthday) go by SMS to every member who accepts
SMS, and to her Telegram chat if she linked one; promotional ones also need her
promotional consent and wait out the quiet hours, and carry her opt-out link at the hub
(``mallnet.messaging.optout_link``). A kind the shop turned off in its policy
(``messaging.off``) is not sent. Every text names the shop (``templates.render``).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import BalanceChanged
from mallnet.messaging import optout_link
from mallnet.messaging.dispatch import Draft, enqueue
from mallnet.messaging.templates import SPECS, Kind, Lang, Values, render
from shop_node.db.models import Member, Message, TelegramChat
from shop_node.domain.policy import ClubPolicy
from shop_node.services.outbox import shopper
from shop_node.services.runtime import NodeRuntime


def shop_name(policy: ClubPolicy, shop: str, lang: str = "fa") -> str:
    """The name the shop's messages carry: the policy's, else its slug."""
    named = policy.messaging.sender_name_en if lang == "en" else policy.messaging.sender_name_fa
    return named or shop


async def tell(
    session: AsyncSession,
    runtime: NodeRuntime,
    policy: ClubPolicy,
    member: Member,
    kind: Kind,
    values: Values,
    *,
    key: str,
    batch_id: str | None = None,
    template: str | None = None,
    lang: Lang = "fa",
) -> int:
    """Queue ``kind`` for ``member`` on every channel she accepts it on; how many were
    queued (0: she accepts none, the shop turned the kind off, or the key was queued)."""
    if kind.value in policy.messaging.off:
        return 0
    line = SPECS[kind].line
    if line == "promotional" and not member.consent_promotional:
        return 0
    values = replace(values, shop=shop_name(policy, runtime.shop, lang), name=member.name)
    if line == "promotional":
        who = shopper(runtime.network_key, member)
        link = optout_link.url(runtime.hub_url, runtime.network_key, runtime.shop, who)
        values = replace(values, opt_out_url=link)
    text = render(kind, lang, values, template=template)
    addresses: list[tuple[str, str]] = []
    if member.consent_sms:
        addresses.append(("sms", member.phone))
    chat = await session.get(TelegramChat, member.id)
    # An offer reaches her chat only with her yes in the chat itself.
    if chat is not None and (line == "service" or chat.promotional):
        addresses.append(("telegram", chat.chat_id))
    queued = 0
    for medium, recipient in addresses:
        draft = Draft(
            # The medium first, the event's own (free-text) id last: no key of one event
            # can end like another's.
            key=f"{medium}:{key}",
            kind=kind.value,
            medium=medium,
            line=line,
            recipient=recipient,
            text=text,
            lang=lang,
            subject=str(member.id),
            batch_id=batch_id,
        )
        queued += await enqueue(
            session,
            Message,
            draft,
            now=runtime.clock(),
            quiet=runtime.quiet,
            part_price_rial=runtime.sms_part_price_rial,
        )
    return queued


async def after_purchase(
    session: AsyncSession,
    runtime: NodeRuntime,
    policy: ClubPolicy,
    member: Member,
    *,
    receipt: str,
    enrolled: bool,
    tier_before: str,
    points: int,
    credit_spent_rial: int,
    balance: BalanceChanged,
) -> None:
    """A purchase's messages: the welcome of a member it enrolled, the purchase itself,
    and her new tier if it moved her up."""
    key = f"purchase:{receipt}"
    if enrolled:
        welcome = f"purchase-welcome:{receipt}"
        await tell(session, runtime, policy, member, Kind.WELCOME, Values(), key=welcome)
    values = Values(
        points=points,
        credit_rial=credit_spent_rial,
        balance_points=balance.points,
        balance_rial=balance.credit_rial,
    )
    await tell(session, runtime, policy, member, Kind.PURCHASE, values, key=key)
    if not enrolled and balance.tier_code is not None and balance.tier_code != tier_before:
        tier = Values(tier=balance.tier_name_fa or balance.tier_code)
        tier_key = f"purchase-tier:{receipt}"
        await tell(session, runtime, policy, member, Kind.TIER_CHANGE, tier, key=tier_key)


async def after_change(
    session: AsyncSession,
    runtime: NodeRuntime,
    policy: ClubPolicy,
    member: Member,
    *,
    key: str,
    points: int,
    credit_rial: int,
    balance: BalanceChanged,
) -> None:
    """A change of her balances that was no purchase (a refund, a manager's adjustment)."""
    if points == 0 and credit_rial == 0:
        return
    values = Values(
        points=points or None,
        credit_rial=credit_rial or None,
        balance_points=balance.points,
        balance_rial=balance.credit_rial,
    )
    await tell(session, runtime, policy, member, Kind.CREDIT_CHANGE, values, key=key)
