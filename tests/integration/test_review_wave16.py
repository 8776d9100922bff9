"""Review wave 16, against the databases:

1. A control character in a tier name (a NUL above all: PostgreSQL refuses it in text) is
   refused where a manager names a tier, and a node's event carrying one is refused by the
   hub as an invalid batch, so the relay sets that one event aside and the rest of the
   node's stream arrives (before, a PostgreSQL hub failed the whole batch with a database
   error and the relay sent it again for ever).
2. A shop's balance report, and the tier in its own words with it, reaches the wallet of
   a member of that shop only: a report for anyone else is ignored (the stream goes on).
3. ``Member.purchases(before:)`` and ``Member.history(before:)`` take only a row id:
   '²' (a digit to ``str.isdigit``, not to ``int``) and a 25-digit number are
   INVALID_INPUT, not an unexpected error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from federation.envelope import BalanceChanged, MemberEnrolled
from hub.app import create_app as create_hub
from hub.db.models import LocalBalance, NodeStream
from mallnet.config import Settings
from mallnet.db import create_engine, engine_scope, session_factory
from mallnet.secrets_store import pseudonym
from shop_node.db.models import OutboxEvent
from shop_node.domain.earning import Line as TillLine
from shop_node.services.bootstrap import prepare_node
from shop_node.services.members import MemberInput, enrol_member
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import relay_all
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from ..node_client import NodeClient
from .conftest import _connection
from .test_intake_verifies import ALI, BOOKS, KEY, SARA, SHOES, _batch, _ingest, hub
from .test_network_value import Hub
from .test_node_club import counts, purchase, record
from .test_till_api import PURCHASES, query

__all__ = ["hub"]

SILVER = {
    "tier_code": "silver",
    "tier_name_fa": "نقره\u200cای",
    "tier_name_en": "Silver",
    "tier_basis": "earned_points",
    "tier_metric": 10,
}


# --- 1. control characters in tier names -----------------------------------------------------


def test_a_policy_edit_with_a_nul_in_a_tier_name_is_invalid_input_and_writes_nothing(
    node: NodeClient,
) -> None:
    current = node.op("ClubPolicy")["clubPolicy"]
    document = current["document"]
    tiers = [dict(t) for t in document["tiers"]]
    tiers[0]["name_fa"] = "برنز\x00ی"
    result = node.op("UpdateClubPolicy", document={**document, "tiers": tiers})
    refused = result["updateClubPolicy"]
    assert refused["__typename"] == "InvalidInput"
    assert [p["field"] for p in refused["problems"]] == ["policy.tiers[0].name_fa"]
    assert "control characters" in refused["problems"][0]["message"]
    assert node.op("ClubPolicy")["clubPolicy"] == current
    # A Persian name with a zero-width non-joiner is a name like any other
    tiers[0]["name_fa"] = "برنز\u200cی"
    taken = node.op("UpdateClubPolicy", document={**document, "tiers": tiers})
    assert taken["updateClubPolicy"]["policy"]["version"] == current["version"] + 1


@pytest.fixture
async def shop(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[NodeRuntime]:
    settings, _ = network
    await prepare_node(settings, BOOKS)
    engine = create_engine(settings.node_db_url(BOOKS))
    try:
        yield await NodeRuntime.start(BOOKS, engine, settings)
    finally:
        await engine.dispose()


async def test_a_nul_in_a_reported_tier_name_is_set_aside_and_the_stream_goes_on(
    network: tuple[Settings, dict[str, Any]], shop: NodeRuntime
) -> None:
    settings, info = network
    # Given Ali's and Sara's purchases at the shop, each with its balance report
    for phone in (ALI, SARA):
        await enrol_member(shop, MemberInput(phone=phone), "staff")
        receipt = f"R-{phone[-4:]}"
        await record_purchase(
            shop, PurchaseInput(receipt, 100_000, [TillLine("general", 100_000)], phone), "pos"
        )

    # and Ali's first balance report carrying a NUL in his tier's name (as a node whose
    # policy took one before it was refused would have sent it)
    async def spoil(session: Any) -> str:
        rows = (
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.type == "balance.changed")
                .order_by(OutboxEvent.id)
            )
        ).all()
        row = next(r for r in rows if r.payload["pseudonym"] == pseudonym(shop.network_key, ALI))
        row.payload = {**row.payload, **SILVER, "tier_name_fa": "نقره\x00ای"}
        return str(row.event_id)

    spoiled = await shop.transaction(spoil)

    # When the relay delivers the outbox (to a hub on SQLite or on PostgreSQL)
    with LiveServer(create_hub(settings), info["port"]):
        delivered = await relay_all(shop, _connection(network))

    # Then that one event is set aside with the hub's reason, and everything else arrived
    async def outbox(session: Any) -> list[tuple[str, bool, bool, str | None]]:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
        return [
            (r.event_id, r.delivered_at is not None, r.rejected_at is not None, r.last_error)
            for r in rows
        ]

    rows = await shop.read(outbox)
    assert [(e, d, r) for e, d, r, _ in rows if not d] == [(spoiled, False, True)]
    reason = next(error for event, _, _, error in rows if event == spoiled)
    assert reason is not None
    assert "control characters" in reason
    assert delivered == len(rows) - 1
    # and the hub holds both members' balances at the shop (Ali's from his later report)
    async with engine_scope(settings.hub_db_url) as engine, session_factory(engine)() as s:
        shops = (await s.scalars(select(LocalBalance.shop))).all()
        stream = await s.get(NodeStream, BOOKS)
    assert shops == [BOOKS, BOOKS]
    assert stream is not None
    assert stream.events == len(rows) - 1


# --- 2. a balance only for a member of the reporting shop ------------------------------------


async def _balances(hub: Hub, who: str) -> list[tuple[str, int, str | None]]:
    async def read(session: Any) -> list[tuple[str, int, str | None]]:
        rows = (
            await session.scalars(
                select(LocalBalance)
                .where(LocalBalance.pseudonym == pseudonym(KEY, who))
                .order_by(LocalBalance.shop)
            )
        ).all()
        return [(r.shop, r.points, r.tier_name_en) for r in rows]

    return await hub.run(read)


def _enrolled(who: str) -> MemberEnrolled:
    return MemberEnrolled(
        pseudonym=pseudonym(KEY, who), joined_via="purchase", partner_sharing=False, phone=who
    )


def _balance(who: str, points: int, **tier: Any) -> BalanceChanged:
    return BalanceChanged(pseudonym=pseudonym(KEY, who), points=points, credit_rial=0, **tier)


async def test_a_balance_for_a_shopper_who_is_not_the_shops_member_is_ignored(hub: Hub) -> None:
    # Given Sara, a member at the shoe shop only
    await _ingest(hub, SHOES, _batch(SHOES, [_enrolled(SARA), _balance(SARA, 7)]))
    assert await _balances(hub, SARA) == [(SHOES, 7, None)]

    # When the bookshop, where she never joined, reports a balance and a tier in its own words
    won = {**SILVER, "tier_name_en": "You won! Call 09120000000"}
    batch = _batch(BOOKS, [_balance(SARA, 0, **won)])
    report = await _ingest(hub, BOOKS, batch)

    # Then the event is accepted (the bookshop's stream goes on) but not applied
    assert report.accepted == [batch[0].event_id]
    assert report.ignored == [batch[0].event_id]
    assert report.contiguous_seq == 1
    assert await _balances(hub, SARA) == [(SHOES, 7, None)]


async def test_a_balance_after_the_enrolment_in_the_same_batch_is_applied(hub: Hub) -> None:
    batch = _batch(BOOKS, [_enrolled(ALI), _balance(ALI, 25, **SILVER)])
    report = await _ingest(hub, BOOKS, batch)
    assert report.ignored == []
    assert await _balances(hub, ALI) == [(BOOKS, 25, "Silver")]
    # and a later report (the next batch) replaces it
    report = await _ingest(hub, BOOKS, _batch(BOOKS, [_balance(ALI, 30)], first_seq=3))
    assert (report.ignored, await _balances(hub, ALI)) == ([], [(BOOKS, 30, None)])


# --- 3. a page cursor is a row id ------------------------------------------------------------

HISTORY = """
query History($card: String!, $before: ID) {
  member(ref: {cardCode: $card}) { ... on Member { history(first: 5, before: $before) { id } } }
}
"""


def _page(node: NodeClient, document: str, card: str, before: str) -> Any:
    more: dict[str, Any] = {"first": 5} if document is PURCHASES else {}
    return query(node, document, card=card, before=before, **more)


@pytest.mark.parametrize("document", [PURCHASES, HISTORY], ids=["purchases", "history"])
@pytest.mark.parametrize("before", ["\u00b2", "9" * 25, "1" * 19, "12\n", " 12", "-1"])
def test_a_before_that_is_not_a_row_id_is_invalid_input(
    node: NodeClient, document: str, before: str
) -> None:
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    body = _page(node, document, card, before)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert codes == ["INVALID_INPUT"], body


def test_a_before_of_eighteen_digits_is_a_row_id(node: NodeClient) -> None:
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    for document in (PURCHASES, HISTORY):
        body = _page(node, document, card, "9" * 18)
        assert "errors" not in body, body
    recent = _page(node, PURCHASES, card, "9" * 18)
    assert [p["receiptId"] for p in recent["data"]["member"]["purchases"]] == ["R-1"]
    assert counts(node)["purchases"] == 1
