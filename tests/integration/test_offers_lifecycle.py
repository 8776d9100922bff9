"""A shop's offers from draft to stop on the node (SQLite and PostgreSQL): documents
checked against the club's groups with nothing written on a problem, the margin check
refusing an offer below margin unless a reason is given (kept), the backtest over the
node's own purchases, a one-time offer launched to the members its audience selects
(control group kept apart), and stopping closing its grants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from shop_node.db.models import Offer, OfferGrant
from shop_node.domain.errors import BelowMargin, OfferNotChangeable
from shop_node.domain.offers.parsing import InvalidOffer
from shop_node.services import offers

from ..node_client import NodeClient
from .test_node_club import purchase, record
from .test_shop_activity import at

NOW = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
LAPSED, REGULAR, ONCE = "09121110001", "09121110002", "09121110003"
ACTOR = "staff:7"


def _count(node: NodeClient, model: Any) -> int:
    async def read(session: Any) -> int:
        found: int = await session.scalar(select(func.count()).select_from(model))
        return found

    return node.call(node.runtime.read, read)


def _visit(node: NodeClient, receipt: str, phone: str, days_ago: int, toman: int) -> None:
    at(node, NOW - dt.timedelta(days=days_ago))
    done = record(node, purchase(receipt, [("books", toman * 10)], phone=phone))
    assert done["__typename"] == "PurchaseRecorded", done


@pytest.fixture
def shoppers(node: NodeClient) -> NodeClient:
    """Three members: one who came three times and not for 40 days, a regular who came
    three times this month, one who came once long ago."""
    for n, days in enumerate((100, 70, 40)):
        _visit(node, f"L-{n}", LAPSED, days, 200_000)
    for n, days in enumerate((20, 10, 2)):
        _visit(node, f"R-{n}", REGULAR, days, 100_000)
    _visit(node, "O-0", ONCE, 200, 50_000)
    at(node, NOW)
    return node


COME_BACK: dict[str, Any] = {
    "kind": "one_time",
    "name_fa": "برگرد",
    "name_en": "Come back",
    "audience": {
        "kind": "all",
        "of": [{"kind": "visits", "gt": 2}, {"kind": "days_since_last_visit", "gt": 30}],
    },
    "reward": {"extra_credit_bp": 1_000},
    "valid_days": 7,
    "control_bp": 0,
}


def test_a_document_with_problems_is_refused_whole_and_writes_nothing(node: NodeClient) -> None:
    bad = {**COME_BACK, "reward": {"discount_bp": 500, "groups": ["shoes"]}}
    with pytest.raises(InvalidOffer) as refused:
        node.call(offers.create, node.runtime, bad, ACTOR)
    assert [p.path for p in refused.value.located] == ["offer.reward.groups[0]"]
    assert _count(node, Offer) == 0


def test_a_one_time_offer_is_granted_to_its_audience_and_stopping_closes_the_grants(
    shoppers: NodeClient,
) -> None:
    node = shoppers
    draft = node.call(offers.create, node.runtime, COME_BACK, ACTOR)
    assert (draft.status, draft.kind) == ("draft", "one_time")
    done = node.call(offers.activate, node.runtime, draft.id, ACTOR)
    assert (done.granted, done.control) == (1, 0)  # the lapsed member only

    async def grants(session: Any) -> list[tuple[str, bool, dt.datetime, str | None]]:
        rows = await session.execute(
            select(
                OfferGrant.member_id,
                OfferGrant.control,
                OfferGrant.expires_at,
                OfferGrant.closed_reason,
            )
        )
        return list(rows)

    [(_member, control, expires, closed)] = node.call(node.runtime.read, grants)
    assert (control, closed) == (False, None)
    assert expires == NOW + dt.timedelta(days=7)
    with pytest.raises(OfferNotChangeable):
        node.call(offers.update_draft, node.runtime, draft.id, COME_BACK, ACTOR)
    node.call(offers.stop, node.runtime, draft.id, ACTOR)
    [(_member, _control, _expires, closed)] = node.call(node.runtime.read, grants)
    assert closed == "withdrawn"
    with pytest.raises(OfferNotChangeable):
        node.call(offers.activate, node.runtime, draft.id, ACTOR)


def test_an_offer_below_margin_needs_a_reason_which_is_kept(node: NodeClient) -> None:
    """Books: 25% margin; the club gives 10% credit, ×1.5 at silver: 15%; 15% more credit
    leaves −5%."""
    greedy = {
        "kind": "permanent",
        "name_fa": "اعتبار بیشتر",
        "name_en": "More credit",
        "reward": {"extra_credit_bp": 1_500, "groups": ["books"]},
    }
    draft = node.call(offers.create, node.runtime, greedy, ACTOR)
    with pytest.raises(BelowMargin) as refused:
        node.call(offers.activate, node.runtime, draft.id, ACTOR)
    assert refused.value.groups == ["books"]
    assert node.call(offers.get, node.runtime, draft.id).status == "draft"
    done = node.call(offers.activate, node.runtime, draft.id, ACTOR, "opening week, on purpose")
    assert (done.offer.status, done.offer.override_reason) == ("active", "opening week, on purpose")
    assert done.offer.activated_by == ACTOR


def test_the_backtest_replays_the_last_days_purchases(shoppers: NodeClient) -> None:
    """10% more credit on baskets of 150,000 toman or more, over the last 60 days: the
    lapsed member's two purchases of 200,000 toman (70 and 40 days ago: one in the
    window) qualify; the regular's of 100,000 do not."""
    node = shoppers
    document = {
        "kind": "permanent",
        "name_fa": "سبد بزرگ",
        "name_en": "Big basket",
        "when": {"kind": "basket_rial", "gte": 1_500_000},
        "reward": {"extra_credit_bp": 1_000},
    }
    found = node.call(offers.check, node.runtime, document, [("books", 6_000_000)], 60)
    test = found.backtest
    assert (test.purchases_seen, test.purchases_affected, test.members_reached) == (4, 1, 1)
    assert (test.credit_rial, test.discount_rial) == (200_000, 0)
    assert test.sales_affected_rial == 2_000_000
    # margin 25% = 500,000 Rial; the club's 10% credit ×1.5 (she is silver by then) as
    # recorded, 300,000; the offer's 200,000: nothing left
    assert test.margin_left_rial == 0
    assert found.below_margin == []
    # the basket: 600,000 toman of books at the base tier: 150,000 toman of margin, less
    # 60,000 of the club's credit and 60,000 of the offer's
    assert found.basket.with_offer.left_rial == 300_000
    assert _count(node, Offer) == 0  # a check saves nothing
