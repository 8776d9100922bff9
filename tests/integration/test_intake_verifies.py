"""The hub checks what a node reports before it acts on it (issue 14, finding 4): a phone
must hash to the pseudonym it comes with, a shopper who signed in keeps her own phone, and
what the hub issues on a purchase is bounded by the purchase amount and the shop's
registered policy, not by the node's own figure of the points its club awarded. A refused
event writes nothing, and at the node it is set aside with the hub's reason while the rest
of the stream goes through."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import (
    BalanceChanged,
    Envelope,
    Line,
    MemberConsentChanged,
    MemberEnrolled,
    PurchaseRecorded,
    make_envelope,
)
from federation.ids import new_event_id
from hub.app import create_app as create_hub
from hub.db.models import (
    CampaignReward,
    FederationEvent,
    LocalBalance,
    Membership,
    NodeStream,
    Shopper,
    ValueLot,
)
from hub.domain.problems import ProblemCode
from hub.domain.value_rules import POOLED
from hub.services import abuse, campaigns, intake, lotteries, people, value
from hub.services.intake import IngestReport
from mallnet.config import Settings
from mallnet.db import create_engine, engine_scope, session_factory, utcnow
from mallnet.secrets_store import pseudonym
from shop_node.db.models import OutboxEvent
from shop_node.domain.earning import Line as TillLine
from shop_node.services.bootstrap import prepare_node
from shop_node.services.members import MemberInput, enrol_member
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import relay_all
from shop_node.services.runtime import NodeRuntime

from ..conftest import HubDatabases
from ..live_server import LiveServer
from .conftest import _connection
from .test_network_value import Hub, prepare_hub

KEY = b"the network key of these tests"
BOOKS, SHOES = "ketab-sara", "kafsh-arya"
ALI, SARA = "+989121234567", "+989351112233"
FORGED = "the phone reported is not the pseudonym's phone"


@pytest.fixture
async def hub(hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    """A hub with the test shops, on SQLite and on PostgreSQL."""
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        service = Hub(session_factory(engine))
        yield service
        assert await service.verify() == []


def _batch(node: str, payloads: list[Any], first_seq: int = 1) -> list[Envelope]:
    return [
        make_envelope(
            event_id=new_event_id(), node=node, seq=first_seq + i, occurred_at=utcnow(), payload=p
        )
        for i, p in enumerate(payloads)
    ]


async def _ingest(hub: Hub, node: str, batch: list[Envelope]) -> IngestReport:
    return await hub.run(lambda s: intake.ingest(s, node, batch, key=KEY))


async def _counts(hub: Hub) -> dict[str, int]:
    async def count(session: AsyncSession) -> dict[str, int]:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (FederationEvent, NodeStream, Shopper, Membership, LocalBalance)
        }

    return await hub.run(count)


async def _shopper(hub: Hub, phone: str) -> Shopper | None:
    return await hub.run(lambda s: s.get(Shopper, pseudonym(KEY, phone)))


def _report(kind: str, identity: str, phone: str | None, sharing: bool = True) -> Any:
    if kind == "enrolled":
        return MemberEnrolled(
            pseudonym=identity, joined_via="purchase", partner_sharing=sharing, phone=phone
        )
    return MemberConsentChanged(
        pseudonym=identity, partner_sharing=sharing, promotional=False, phone=phone
    )


def _purchase(receipt: str, who: str, total_rial: int, points: int, **more: Any) -> Any:
    return PurchaseRecorded(
        receipt_id=receipt,
        pseudonym=pseudonym(KEY, who),
        total_rial=total_rial,
        credit_spent_rial=more.pop("credit_spent_rial", 0),
        lines=more.pop("lines", [Line(group="general", amount_rial=total_rial)]),
        visit_number=1,
        points_earned=points,
        **more,
    )


@pytest.mark.parametrize("kind", ["enrolled", "consent"])
async def test_a_phone_that_is_not_the_pseudonyms_is_refused_and_nothing_is_written(
    hub: Hub, kind: str
) -> None:
    # Given a batch: Sara's balance, then a report binding Sara's phone to Ali's pseudonym
    honest = BalanceChanged(pseudonym=pseudonym(KEY, SARA), points=5, credit_rial=0)
    forged = _report(kind, pseudonym(KEY, ALI), SARA)
    batch = _batch(BOOKS, [honest, forged])

    # When the node delivers it, the hub refuses the batch, naming the event and why
    with pytest.raises(intake.RefusedEvent, match=FORGED) as refused:
        await _ingest(hub, BOOKS, batch)
    assert refused.value.code is ProblemCode.INVALID_BATCH
    assert batch[1].event_id in refused.value.message

    # Then nothing of it was written: no event, stream, shopper, membership or balance
    assert set((await _counts(hub)).values()) == {0}
    # and without the refused event the rest goes through (what the relay does)
    report = await _ingest(hub, BOOKS, batch[:1])
    assert report.accepted == [batch[0].event_id]
    assert await _shopper(hub, ALI) is None


async def test_a_phone_that_is_its_pseudonyms_is_kept_for_partner_introductions(
    hub: Hub,
) -> None:
    await _ingest(hub, BOOKS, _batch(BOOKS, [_report("enrolled", pseudonym(KEY, ALI), ALI)]))
    shopper = await _shopper(hub, ALI)
    assert shopper is not None
    assert shopper.phone == ALI


class _Texts:
    """An SMS line that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        self.sent.append((phone, text))


async def _sign_in(hub: Hub, phone: str) -> None:
    texts = _Texts()
    limits = abuse.Limits.in_memory()
    await hub.run(lambda s: people.send_code(s, texts, phone, "10.0.0.9", limits=limits))
    code = texts.sent[-1][1].rsplit(" ", 1)[-1]
    person = await hub.run(
        lambda s: people.sign_in_shopper(s, KEY, phone, code, limits=limits, ip="10.0.0.9")
    )
    assert person is not None


async def test_a_signed_in_shoppers_phone_is_never_replaced_by_a_node(hub: Hub) -> None:
    # Given Ali, signed in to the app with his phone
    await _sign_in(hub, ALI)
    before = await _shopper(hub, ALI)
    assert before is not None
    assert (before.phone, before.last_sign_in_at is not None) == (ALI, True)
    ali = pseudonym(KEY, ALI)

    # When a node reports Sara's phone for him (an enrolment, then a consent change)
    for seq, kind in enumerate(["enrolled", "consent"], start=1):
        with pytest.raises(intake.RefusedEvent, match=FORGED):
            await _ingest(hub, BOOKS, _batch(BOOKS, [_report(kind, ali, SARA)], seq))
    # or his own phone, or withdraws his consent
    await _ingest(hub, BOOKS, _batch(BOOKS, [_report("consent", ali, ALI)], 1))
    await _ingest(hub, BOOKS, _batch(BOOKS, [_report("consent", ali, None, False)], 2))

    # Then his phone is the one he signed in with, and so is his sign-in
    after = await _shopper(hub, ALI)
    assert after is not None
    assert (after.phone, after.last_sign_in_at) == (ALI, before.last_sign_in_at)


async def _policy_and_campaign(hub: Hub) -> str:
    """The bookshop issues half its club's points as pooled points (1,000 Rial a point);
    a campaign both shops accepted doubles them, with a budget of a billion Rial."""
    await hub.run(lambda s: value.set_issuance_policy(s, BOOKS, {"pooled_share_bp": 5_000}, "t"))
    now = utcnow()
    data = campaigns.CampaignInput(
        name_fa="جشنواره",
        name_en="Festival",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=2),
        shops=[BOOKS, SHOES],
        reward={"pooled_multiplier_bp": 20_000},
        budget_rial=10**9,
        cost_rule="equal",
    )
    row = await hub.run(lambda s: campaigns.create(s, data, "test:marketing"))
    for shop in (BOOKS, SHOES):
        await hub.run(lambda s, sh=shop: lotteries.respond(s, row.id, sh, True))
    return row.id


async def _issued(hub: Hub, receipt: str) -> dict[str, int]:
    async def read(session: AsyncSession) -> dict[str, int]:
        rows = await session.scalars(
            select(ValueLot).where(ValueLot.origin == value.purchase_origin(BOOKS, receipt))
        )
        found: dict[str, int] = {}
        for lot in rows:
            found[lot.issuer_shop] = found.get(lot.issuer_shop, 0) + lot.amount
        return found

    return await hub.run(read)


async def test_an_inflated_points_figure_issues_no_more_than_the_purchase_allows(
    hub: Hub,
) -> None:
    campaign = await _policy_and_campaign(hub)
    # Given an honest purchase of 1,000,000 Rial whose club awarded 100 points
    await _ingest(hub, BOOKS, _batch(BOOKS, [_purchase("R-1", ALI, 1_000_000, 100)]))
    assert await _issued(hub, "R-1") == {BOOKS: 50, f"campaign:{campaign}": 50}

    # When the node says the same amount earned a billion points
    await _ingest(hub, BOOKS, _batch(BOOKS, [_purchase("R-2", ALI, 1_000_000, 10**9)], 2))

    # Then the hub takes no more points than the 1,000,000 Rial paid are worth (1,000), so
    # the bookshop's half is 500 and the campaign's doubling 500 more: 500,000 Rial of a
    # billion, billed to both shops, and the campaign runs on
    assert await _issued(hub, "R-2") == {BOOKS: 500, f"campaign:{campaign}": 500}
    row = await hub.run(lambda s: campaigns.get(s, campaign))
    assert (row.spent_rial, row.status) == (550_000, "active")
    # Paid with credit, a purchase takes in less: the bound follows what was paid in money
    paid_with_credit = _purchase("R-3", ALI, 1_000_000, 10**9, credit_spent_rial=600_000)
    await _ingest(hub, BOOKS, _batch(BOOKS, [paid_with_credit], 3))
    assert await _issued(hub, "R-3") == {BOOKS: 200, f"campaign:{campaign}": 200}


async def test_a_campaign_never_multiplies_more_points_than_the_purchase_took_in(
    hub: Hub,
) -> None:
    campaign = await _policy_and_campaign(hub)
    ali = pseudonym(KEY, ALI)
    # A lot far larger than a 100,000 Rial purchase is worth (100 points at 1,000 Rial)
    lot = await hub.issue(ali, POOLED, 1_000_000, issuer=BOOKS, rate=1_000)
    bought = campaigns.Purchase(BOOKS, "E-1", "R-1", ali, 100_000, utcnow(), [lot])
    given: list[CampaignReward] = await hub.run(lambda s: campaigns.apply_purchase(s, bought))
    assert [(g.kind, g.cost_rial) for g in given] == [("multiplier", 100_000)]
    row = await hub.run(lambda s: campaigns.get(s, campaign))
    assert row.spent_rial == 100_000


@pytest.mark.parametrize(
    ("more", "why"),
    [
        (
            {"lines": [Line(group="general", amount_rial=10**12)]},
            "its lines add up to 1000000000000 Rial, not its total 1000000",
        ),
        (
            {"credit_spent_rial": 700_000, "network_paid_rial": 400_000},
            "more was paid with credit and network value than its total",
        ),
    ],
)
async def test_a_purchase_whose_figures_do_not_add_up_is_refused(
    hub: Hub, more: dict[str, Any], why: str
) -> None:
    await hub.run(lambda s: value.set_issuance_policy(s, BOOKS, {"pooled_share_bp": 5_000}, "t"))
    batch = _batch(BOOKS, [_purchase("R-1", ALI, 1_000_000, 100, **more)])
    with pytest.raises(intake.RefusedEvent, match=why):
        await _ingest(hub, BOOKS, batch)
    assert set((await _counts(hub)).values()) == {0}
    assert await _issued(hub, "R-1") == {}


# --- over HTTP, through the node's relay -----------------------------------------------------


@pytest.fixture
async def node(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[NodeRuntime]:
    settings, _ = network
    await prepare_node(settings, BOOKS)
    engine = create_engine(settings.node_db_url(BOOKS))
    try:
        yield await NodeRuntime.start(BOOKS, engine, settings)
    finally:
        await engine.dispose()


async def test_a_forged_phone_is_set_aside_at_the_node_and_the_rest_arrives(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    # Given Ali and Sara, members who consented to partner sharing, and their purchases
    for phone in (ALI, SARA):
        await enrol_member(node, MemberInput(phone=phone, consent_partner_sharing=True), "staff")
        receipt = f"R-{phone[-4:]}"
        await record_purchase(
            node, PurchaseInput(receipt, 100_000, [TillLine("general", 100_000)], phone), "pos"
        )

    # and Ali's enrolment rewritten in the outbox to carry Sara's phone
    async def forge(session: Any) -> str:
        rows = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.type == "member.enrolled"))
        ).all()
        row = next(r for r in rows if r.payload["pseudonym"] == pseudonym(node.network_key, ALI))
        row.payload = {**row.payload, "phone": SARA}
        return str(row.event_id)

    forged_id = await node.transaction(forge)

    # When the relay delivers the outbox
    with LiveServer(create_hub(settings), info["port"]):
        delivered = await relay_all(node, _connection(network))

    # Then that one event is set aside with the hub's reason, and everything else arrived
    async def outbox(session: Any) -> list[tuple[str, bool, str | None]]:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
        return [(r.event_id, r.delivered_at is not None, r.last_error) for r in rows]

    rows = await node.read(outbox)
    refused = [(event_id, error) for event_id, done, error in rows if not done]
    assert len(refused) == 1
    assert refused[0][0] == forged_id
    assert refused[0][1] is not None
    assert FORGED in refused[0][1]
    assert delivered == len(rows) - 1
    # and the hub holds Sara's phone for Sara only; Ali's purchases arrived without it
    async with engine_scope(settings.hub_db_url) as engine, session_factory(engine)() as s:
        phones = dict((await s.execute(select(Shopper.pseudonym, Shopper.phone))).all())
    assert phones == {
        pseudonym(node.network_key, ALI): None,
        pseudonym(node.network_key, SARA): SARA,
    }
