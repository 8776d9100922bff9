"""Offers at the till through the node's GraphQL API (SQLite and PostgreSQL): the preview
shows what recordPurchase then records; a discount lowers what is charged and the club
earns on what is paid; credit and points of several offers add up, discounts do not; a
one-time grant is used once; a budget stops an offer; a full refund takes every offer
reward back exactly; the ledger stays balanced."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from shop_node.db.models import OfferGrant, OfferReward, OutboxEvent
from shop_node.domain.earning import Line
from shop_node.services import offers, purchases

from ..node_client import NodeClient
from .test_node_club import ledger_problems, purchase, record
from .test_shop_activity import at
from .test_till_api import query

NOW = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
SARA, REZA = "09121110001", "09121110002"
ACTOR = "staff:7"
PREVIEW = """
query Preview($ref: MemberRefInput!, $total: Rial!, $lines: [PurchaseLineInput!]!) {
  purchasePreview(ref: $ref, totalRial: $total, lines: $lines) {
    __typename
    ... on PurchasePreview {
      totalPoints totalCreditRial offerDiscountRial offerPoints offerCreditRial chargedRial
      offers { nameEn discountRial creditRial bonusPoints }
    }
  }
}
"""


def _live(node: NodeClient, document: dict[str, Any]) -> str:
    base = {"name_fa": document["name_en"], **document}
    draft = node.call(offers.create, node.runtime, base, ACTOR)
    node.call(offers.activate, node.runtime, draft.id, ACTOR, "a test of the till")
    return draft.id


STATIONERY_SALE = {
    "kind": "permanent",
    "name_en": "20% off stationery",
    "reward": {"discount_bp": 2_000, "groups": ["stationery"]},
}
SMALL_SALE = {
    "kind": "permanent",
    "name_en": "10% off everything",
    "reward": {"discount_bp": 1_000},
}
BONUS = {
    "kind": "permanent",
    "name_en": "Big basket bonus",
    "when": {"kind": "basket_rial", "gte": 1_000_000},
    "reward": {"extra_credit_bp": 1_000, "bonus_points": 50},
}


def test_the_preview_is_what_the_purchase_then_records(node: NodeClient) -> None:
    at(node, NOW)
    first = record(node, purchase("R-0", [("books", 100_000)], phone=SARA))
    card = first["member"]["cardCode"]
    for document in (STATIONERY_SALE, SMALL_SALE, BONUS):
        _live(node, document)
    lines = [("books", 600_000), ("stationery", 400_000)]
    shown = query(
        node,
        PREVIEW,
        ref={"cardCode": card},
        total=1_000_000,
        lines=[{"productGroup": g, "amountRial": a} for g, a in lines],
    )["data"]["purchasePreview"]
    done = record(node, purchase("R-1", lines, cardCode=card))
    assert done["__typename"] == "PurchaseRecorded", done
    bought = done["purchase"]
    # Discounts do not add up: stationery 20% (80,000), books 10% (60,000) → 140,000 off
    assert bought["offerDiscountRial"] == shown["offerDiscountRial"] == 140_000
    assert bought["totalRial"] == shown["chargedRial"] == 860_000
    # The bonus holds on the basket as sent (1,000,000): 10% of the 860,000 paid + 50
    assert bought["offerCreditRial"] == shown["offerCreditRial"] == 86_000
    assert bought["offerPoints"] == shown["offerPoints"] == 50
    assert {
        o["nameEn"]: (o["discountRial"], o["creditRial"], o["bonusPoints"])
        for o in bought["offers"]
    } == {
        "20% off stationery": (80_000, 0, 0),
        "10% off everything": (60_000, 0, 0),
        "Big basket bonus": (0, 86_000, 50),
    }
    # the club earns on what is paid: books 10% of 540,000, stationery 5% of 320,000
    assert bought["earnedCreditRial"] == 54_000 + 16_000
    assert shown["totalCreditRial"] == bought["earnedCreditRial"] + bought["frequencyCreditRial"]
    assert ledger_problems(node) == []


def test_a_full_refund_takes_every_offer_reward_back(node: NodeClient) -> None:
    at(node, NOW)
    first = record(node, purchase("R-0", [("books", 100_000)], phone=SARA))
    before = first["balances"]
    _live(node, BONUS)
    done = record(
        node, purchase("R-1", [("books", 2_000_000)], cardCode=first["member"]["cardCode"])
    )
    assert done["purchase"]["offerPoints"] == 50
    refund = node.op(
        "RefundPurchase", input={"refundId": "F-1", "receiptId": "R-1", "amountRial": 2_000_000}
    )["refundPurchase"]
    assert refund["__typename"] == "RefundRecorded", refund
    assert refund["balances"] == before
    assert ledger_problems(node) == []


def test_a_one_time_grant_is_used_once(node: NodeClient) -> None:
    # Sara came three times long ago; Reza once
    for n, days in enumerate((120, 100, 95)):
        at(node, NOW - dt.timedelta(days=days))
        record(node, purchase(f"S-{n}", [("books", 200_000)], phone=SARA))
    at(node, NOW - dt.timedelta(days=95))
    record(node, purchase("Z-0", [("books", 200_000)], phone=REZA))
    at(node, NOW)
    _live(
        node,
        {
            "kind": "one_time",
            "name_en": "Come back",
            "audience": {
                "kind": "all",
                "of": [{"kind": "visits", "gt": 2}, {"kind": "days_since_last_visit", "gt": 90}],
            },
            "reward": {"extra_credit_bp": 3_500},
            "valid_days": 7,
            "control_bp": 0,
        },
    )
    came = record(node, purchase("S-3", [("books", 1_000_000)], phone=SARA))["purchase"]
    assert came["offerCreditRial"] == 350_000
    again = record(node, purchase("S-4", [("books", 1_000_000)], phone=SARA))["purchase"]
    assert again["offerCreditRial"] == 0
    other = record(node, purchase("Z-1", [("books", 1_000_000)], phone=REZA))["purchase"]
    assert other["offers"] == []

    async def grants(session: Any) -> list[tuple[str | None, bool]]:
        rows = await session.execute(select(OfferGrant.closed_reason, OfferGrant.control))
        return [tuple(r) for r in rows]

    assert node.call(node.runtime.read, grants) == [("used", False)]
    assert ledger_problems(node) == []


def test_a_budget_stops_an_offer_when_it_is_spent(node: NodeClient) -> None:
    at(node, NOW)
    _live(
        node,
        {
            "kind": "permanent",
            "name_en": "Opening credit",
            "reward": {"fixed_credit_rial": 30_000},
            "caps": {"budget_rial": 50_000, "per_member": 5},
        },
    )
    given = [
        record(node, purchase(f"R-{n}", [("books", 100_000)], phone=SARA))["purchase"][
            "offerCreditRial"
        ]
        for n in range(3)
    ]
    assert given == [30_000, 20_000, 0]


def _events(node: NodeClient) -> list[tuple[str, dict[str, Any]]]:
    async def read(session: Any) -> list[tuple[str, dict[str, Any]]]:
        rows = await session.execute(
            select(OutboxEvent.type, OutboxEvent.payload)
            .where(OutboxEvent.type.like("offer.%"))
            .order_by(OutboxEvent.id)
        )
        return [(str(t), dict(p)) for t, p in rows]

    return node.call(node.runtime.read, read)


def test_the_hub_hears_the_offer_its_grants_and_their_end_but_not_the_audience(
    node: NodeClient,
) -> None:
    for n, days in enumerate((120, 100, 95)):
        at(node, NOW - dt.timedelta(days=days))
        record(node, purchase(f"S-{n}", [("books", 200_000)], phone=SARA))
    at(node, NOW)
    offer_id = _live(
        node,
        {
            "kind": "one_time",
            "name_en": "Come back",
            "audience": {"kind": "days_since_last_visit", "gt": 90},
            "reward": {"extra_credit_bp": 3_500},
            "valid_days": 7,
            "control_bp": 0,
        },
    )
    record(node, purchase("S-3", [("books", 1_000_000)], phone=SARA))
    node.call(offers.stop, node.runtime, offer_id, ACTOR)
    told = _events(node)
    assert [t for t, _p in told] == [
        "offer.published",
        "offer.granted",
        "offer.grant_closed",
        "offer.withdrawn",
    ]
    published = told[0][1]
    assert published["summary_en"] == "35% more credit, once, within 7 days"
    assert "90" not in published["summary_fa"] + published["summary_en"]
    assert published["ends_at"].startswith("2026-12-12")
    granted, closed = told[1][1], told[2][1]
    assert granted["grant_id"] == closed["grant_id"]
    assert granted["pseudonym"] == closed["pseudonym"]
    assert closed["reason"] == "used"
    assert set(granted) == {"pseudonym", "offer_id", "grant_id", "expires_at"}


def test_a_till_cannot_date_a_purchase_into_an_expired_grant(node: NodeClient) -> None:
    """The grant expired yesterday; a purchase the till says happened last week still gets
    nothing: offers are judged at the node's time."""
    for n, days in enumerate((120, 100, 95)):
        at(node, NOW - dt.timedelta(days=days))
        record(node, purchase(f"S-{n}", [("books", 200_000)], phone=SARA))
    at(node, NOW)
    _live(
        node,
        {
            "kind": "one_time",
            "name_en": "Come back",
            "audience": {"kind": "days_since_last_visit", "gt": 90},
            "reward": {"extra_credit_bp": 3_500},
            "valid_days": 7,
            "control_bp": 0,
        },
    )
    at(node, NOW + dt.timedelta(days=8))
    backdated = purchase(
        "S-3",
        [("books", 1_000_000)],
        phone=SARA,
        occurredAt=(NOW + dt.timedelta(days=1)).isoformat(),
    )
    assert record(node, backdated)["purchase"]["offers"] == []


def test_two_tills_at_once_do_not_spend_a_budget_twice(node: NodeClient) -> None:
    """Two members buy at the same moment, the offer's budget covers one of them: what the
    offer gave in all stays within its budget."""
    at(node, NOW)
    for phone in (SARA, REZA):
        record(node, purchase(f"first-{phone}", [("books", 100_000)], phone=phone))
    offer_id = _live(
        node,
        {
            "kind": "permanent",
            "name_en": "Last of the budget",
            "reward": {"fixed_credit_rial": 40_000},
            "caps": {"budget_rial": 50_000},
        },
    )

    async def both() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    purchases.record_purchase(
                        node.runtime,
                        purchases.PurchaseInput(
                            receipt_id=f"race-{phone}",
                            total_rial=500_000,
                            lines=[Line("books", 500_000)],
                            phone=phone,
                        ),
                        "staff:till",
                    )
                    for phone in (SARA, REZA)
                )
            )
        )

    node.call(both)

    async def given(session: Any) -> int:
        total: int = await session.scalar(
            select(func.sum(OfferReward.credit_rial)).where(OfferReward.offer_id == offer_id)
        )
        return total

    assert node.call(node.runtime.read, given) == 50_000  # 40,000 and the last 10,000
    assert ledger_problems(node) == []


def test_the_credit_quote_counts_the_offers_discount_when_given_the_lines(
    node: NodeClient,
) -> None:
    at(node, NOW)
    card = record(node, purchase("R-0", [("books", 100_000)], phone=SARA))["member"]["cardCode"]
    _live(node, STATIONERY_SALE)
    lines = [{"productGroup": "stationery", "amountRial": 400_000}]
    quoted = node.op("CreditQuote", ref={"cardCode": card}, totalRial=400_000, lines=lines)
    quote = quoted["creditQuote"]
    assert (quote["chargedRial"], quote["offers"][0]["discountRial"]) == (320_000, 80_000)
    plain = node.op("CreditQuote", ref={"cardCode": card}, totalRial=400_000)["creditQuote"]
    assert (plain["chargedRial"], plain["offers"]) == (None, [])
