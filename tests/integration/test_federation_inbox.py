"""Hub commands reach a node through its inbox and are applied once, whatever happens to
the acknowledgements (the hub a real server, the node a real database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from federation.envelope import EnrolMember
from hub.app import create_app as create_hub
from hub.db.models import NodeCursor
from hub.services import inbox as hub_inbox
from mallnet.config import Settings
from mallnet.db import create_engine
from mallnet.secrets_store import pseudonym
from shop_node.db.models import AppliedCommand, Member, OutboxEvent
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import pull_and_apply
from shop_node.services.ledger import member_accounts
from shop_node.services.runtime import NodeRuntime

from ..conftest import in_transaction
from ..live_server import LiveServer
from .conftest import _connection

PHONE = "+989121234567"


@pytest.fixture
async def node(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[NodeRuntime]:
    settings, _ = network
    await prepare_node(settings, "ketab-sara")
    engine = create_engine(settings.node_db_url("ketab-sara"))
    try:
        yield await NodeRuntime.start("ketab-sara", engine, settings)
    finally:
        await engine.dispose()


async def _hub(settings: Settings, work: Any) -> Any:
    return await in_transaction(settings.hub_db_url, work)


def _enrol(node: NodeRuntime, phone: str | None) -> EnrolMember:
    return EnrolMember(
        pseudonym=pseudonym(node.network_key, phone or "+989350000000"),
        origin_shop="kafsh-arya",
        agreement_id="AG-1",
        welcome_points=30,
        welcome_credit_rial=50_000,
        phone=phone,
    )


async def _count(node: NodeRuntime, model: Any) -> int:
    async def read(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return await node.read(read)


async def test_a_command_enrols_the_shopper_once_with_the_agreements_welcome(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    await _hub(settings, lambda s: hub_inbox.enqueue(s, "ketab-sara", _enrol(node, PHONE)))
    await _hub(settings, lambda s: hub_inbox.enqueue(s, "ketab-sara", _enrol(node, None)))
    await _hub(settings, lambda s: hub_inbox.enqueue(s, "kafsh-arya", _enrol(node, PHONE)))
    hub = _connection(network)
    with LiveServer(create_hub(settings), info["port"]):
        assert await pull_and_apply(node, hub) == 2  # only ketab-sara's own commands
        assert await pull_and_apply(node, hub) == 0  # acknowledged: nothing waits

        # The acknowledgement was lost: the hub sends both again.
        async def rewind(session: Any) -> None:
            await session.execute(update(NodeCursor).values(acked_seq=0))

        await _hub(settings, rewind)
        assert await pull_and_apply(node, hub) == 2
    assert await _count(node, Member) == 1  # one enrolment, the contact-less one skipped

    async def member(session: Any) -> tuple[Member, Any]:
        row = await session.scalar(select(Member).where(Member.phone == PHONE))
        return row, await member_accounts(session, row.id)

    row, accounts = await node.read(member)
    assert row.joined_via == "partner"
    # Nothing is switched on for her: a shop she was introduced to passes her contact on to
    # no partner of its own, and sends her no promotions, until she says so herself.
    assert (row.consent_partner_sharing, row.consent_promotional) == (False, False)
    assert (accounts.points, accounts.rial) == (30, 50_000)  # the agreement's welcome only

    async def outcomes(session: Any) -> list[str]:
        return list((await session.scalars(select(AppliedCommand.outcome))).all())

    assert sorted(await node.read(outcomes)) == [
        f"enrolled member {row.card_code}",
        "skipped: no contact (the shopper has not consented to sharing)",
    ]

    # The hub hears of the new member like any other.
    async def types(session: Any) -> list[str]:
        return list((await session.scalars(select(OutboxEvent.type))).all())

    assert await node.read(types) == ["member.enrolled", "balance.changed"]

    async def enrolled(session: Any) -> dict[str, Any]:
        event = await session.scalar(
            select(OutboxEvent).where(OutboxEvent.type == "member.enrolled")
        )
        return dict(event.payload)

    # ...and the hub hears no contact from it, nor a consent she did not give.
    reported = await node.read(enrolled)
    assert (reported["partner_sharing"], reported["promotional"]) == (False, False)
    assert reported["phone"] is None


async def test_a_notice_reaches_the_member_through_their_shop_once(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime, tmp_path: Any
) -> None:
    """The hub has no phone for a lottery winner; the shop where she bought has: it sends
    the SMS, once, even when the command comes again; not to someone it does not know, nor
    to a member who refused SMS."""
    from federation.envelope import NotifyMember
    from shop_node.services.members import MemberInput, enrol_member
    from shop_node.services.messages import send_due

    settings, info = network
    await enrol_member(node, MemberInput(phone=PHONE), "staff")
    await enrol_member(node, MemberInput(phone="+989121110000", consent_sms=False), "staff")
    key = node.network_key
    for who in (PHONE, "+989121110000", "+989129999999"):
        notice = NotifyMember(pseudonym=pseudonym(key, who), kind="lottery_win", text="برنده شدید")
        await _hub(settings, lambda s, n=notice: hub_inbox.enqueue(s, "ketab-sara", n))
    outbox = tmp_path / "sms.jsonl"
    hub = _connection(network)
    with LiveServer(create_hub(settings), info["port"]):
        assert await pull_and_apply(node, hub) == 3

        async def rewind(session: Any) -> None:
            await session.execute(update(NodeCursor).values(acked_seq=0))

        await _hub(settings, rewind)
        assert await pull_and_apply(node, hub) == 3  # delivered again
    # Queued with the command, sent by the node's dispatcher after the commit: once.
    assert (await send_due(node, settings.model_copy(update={"sms_outbox": outbox}))).sent == 1
    assert (await send_due(node, settings.model_copy(update={"sms_outbox": outbox}))).sent == 0
    sent = outbox.read_text(encoding="utf-8").splitlines()
    assert len(sent) == 1
    assert PHONE in sent[0]
    assert "lottery_win" in sent[0]

    async def outcomes(session: Any) -> list[str]:
        rows = await session.scalars(
            select(AppliedCommand.outcome).order_by(AppliedCommand.applied_at)
        )
        return list(rows.all())

    assert sorted(await node.read(outcomes)) == [
        "sent",
        "skipped: no SMS consent",
        "skipped: not a member here",
    ]


async def test_the_hub_may_pass_on_only_a_lottery_win(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    """A notice goes on the service line (no consent, no quiet hours): anything but a
    lottery win — a campaign, say — is refused (review finding F11)."""
    from federation.envelope import NotifyMember, make_envelope
    from federation.ids import new_event_id
    from mallnet.db import utcnow
    from shop_node.db.models import Message
    from shop_node.services.inbox import apply_command
    from shop_node.services.members import MemberInput, enrol_member

    await enrol_member(node, MemberInput(phone=PHONE), "staff")
    who = pseudonym(node.network_key, PHONE)
    campaign = NotifyMember(pseudonym=who, kind="campaign", text="50% off tonight")
    envelope = make_envelope(
        event_id=new_event_id(), node="ketab-sara", seq=1, occurred_at=utcnow(), payload=campaign
    )
    outcome = await apply_command(node, envelope.model_dump(mode="json"))
    assert outcome.startswith("skipped")

    async def queued(session: Any) -> int:
        return len(list(await session.scalars(select(Message))))

    assert await node.read(queued) == 0
