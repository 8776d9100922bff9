"""The refund arithmetic: what a refund takes back and gives back, in any number of parts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_node.domain.errors import ProblemCode, RefundExceedsPurchase
from shop_node.domain.lots import OpenLot
from shop_node.domain.refunds import (
    CreditReturn,
    Holdings,
    PurchaseValue,
    RefundPlan,
    RefundShare,
    Takeback,
    plan_refund,
    refund_share,
    return_credit,
    take_back,
    takeback_order,
    window,
)

T0 = dt.datetime(2025, 3, 21, tzinfo=dt.UTC)
OWN = 100  # the lot id the refunded purchase granted, in each asset
PURCHASE = PurchaseValue(
    total_rial=333_333,
    earned_points=32,
    earned_credit_rial=32_333,
    credit_spent_rial=10_000,
    network_paid_rial=0,
)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def holding(*lots: OpenLot, expired_own: int = 0, lapsed_before: int = 0) -> Holdings:
    return Holdings(tuple(lots), frozenset({OWN}), expired_own, lapsed_before)


# --- refund_share -------------------------------------------------------------------------


def test_three_refunds_reverse_what_the_purchase_created() -> None:
    """The node's integration example (R-2 refunded 100,000 + 100,000 + the rest)."""
    shares = []
    before = 0
    for requested in (100_000, 100_000, None):
        share = refund_share(PURCHASE, before, requested)
        shares.append(share)
        before += share.amount_rial
    assert [s.amount_rial for s in shares] == [100_000, 100_000, 133_333]
    assert [s.reversed_points for s in shares] == [9, 10, 13]
    assert sum(s.reversed_credit_rial for s in shares) == 32_333
    assert [s.credit_paid_back_rial for s in shares] == [3_000, 3_000, 4_000]
    assert [s.credit_paid_back_before_rial for s in shares] == [0, 3_000, 6_000]
    assert [s.refunded_before_rial for s in shares] == [0, 100_000, 200_000]


def test_a_full_refund_reverses_everything_and_the_network_part() -> None:
    purchase = replace(PURCHASE, network_paid_rial=50_000)
    share = refund_share(purchase, 0, None)
    assert share == RefundShare(
        amount_rial=333_333,
        refunded_before_rial=0,
        reversed_points=32,
        reversed_credit_rial=32_333,
        credit_paid_back_rial=10_000,
        credit_paid_back_before_rial=0,
        network_returned_rial=50_000,
    )


@pytest.mark.parametrize(
    ("before", "requested", "refundable"),
    [
        (0, 333_334, 333_333),  # more than the purchase
        (300_000, 33_334, 33_333),  # more than is left
        (333_333, None, 0),  # nothing left
        (333_333, 1, 0),
    ],
)
def test_a_refund_beyond_what_is_left_is_refused(
    before: int, requested: int | None, refundable: int
) -> None:
    with pytest.raises(RefundExceedsPurchase, match="still refundable") as refused:
        refund_share(PURCHASE, before, requested)
    assert refused.value.code is ProblemCode.REFUND_EXCEEDS_PURCHASE
    assert refused.value.refundable_rial == refundable
    assert refused.value.requested_rial == (requested if requested is not None else 0)


@pytest.mark.parametrize(
    ("before", "requested", "message"),
    [
        (-1, 10, "earlier refunds must stay within the purchase"),
        (333_334, None, "earlier refunds must stay within the purchase"),
        (0, 0, "a refund is of a positive amount"),
        (0, -5, "a refund is of a positive amount"),
    ],
)
def test_impossible_refund_states_are_bugs(
    before: int, requested: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        refund_share(PURCHASE, before, requested)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"total_rial": 0}, "a purchase has a positive total"),
        ({"earned_points": -1}, "a purchase has a positive total"),
        (
            {"credit_spent_rial": 300_000, "network_paid_rial": 33_334},
            "credit and network value cannot pay more than the total",
        ),
    ],
)
def test_a_purchase_value_refuses_impossible_amounts(fields: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(PURCHASE, **fields)


# --- take_back -----------------------------------------------------------------------------


def test_the_purchases_own_lot_is_taken_first_then_soonest_expiring() -> None:
    lots = (
        OpenLot(7, 50, day(90)),
        OpenLot(OWN, 20, day(30)),
        OpenLot(3, 50, day(10)),
        OpenLot(9, 50, None),
    )
    assert [lot.lot_id for lot in takeback_order(holding(*lots))] == [OWN, 3, 7, 9]
    taken = take_back(80, holding(*lots), "rial")
    assert taken == Takeback(lapsed=0, taken=((OWN, 20), (3, 50), (7, 10)), shortfall=0)
    assert taken.recovered == 80


def test_what_the_member_already_spent_is_a_shortfall_never_a_negative_balance() -> None:
    taken = take_back(100_000, holding(OpenLot(5, 30_000, day(10))), "rial")
    assert taken == Takeback(lapsed=0, taken=((5, 30_000),), shortfall=70_000)
    assert take_back(500, holding(), "points") == Takeback(0, (), 500)


def test_what_expired_from_the_purchases_lot_is_not_taken_twice() -> None:
    other = OpenLot(8, 20_000, day(60))
    # 10,000 of the purchase's credit expired; a later purchase's lot is untouched.
    assert take_back(10_000, holding(other, expired_own=10_000), "rial") == Takeback(10_000, (), 0)
    # An earlier refund counted 6,000 of it already: 4,000 is left to count as lapsed.
    later = take_back(10_000, holding(other, expired_own=10_000, lapsed_before=6_000), "rial")
    assert later == Takeback(4_000, ((8, 6_000),), 0)


def test_nothing_wanted_takes_nothing() -> None:
    assert take_back(0, holding(OpenLot(OWN, 5, None), expired_own=5), "points") == Takeback(
        0, (), 0
    )


# --- return_credit and window ----------------------------------------------------------------


def test_window_slices_amounts_laid_end_to_end() -> None:
    parts = [(1, 30), (2, 50), (3, 20)]
    assert window(parts, 0, 30) == [(1, 30)]
    assert window(parts, 20, 40) == [(1, 10), (2, 30)]
    assert window(parts, 70, 100) == [(2, 10), (3, 20)]
    assert window(parts, 100, 5) == []


def test_credit_paid_comes_back_to_the_lots_it_was_spent_from_in_order() -> None:
    spent_from = [(4, 6_000), (6, 4_000)]
    shares = [refund_share(PURCHASE, b, r) for b, r in ((0, 100_000), (100_000, 100_000))]
    backs = [return_credit(share, 0, spent_from) for share in shares]
    assert backs == [CreditReturn(((4, 3_000),), 0), CreditReturn(((4, 3_000),), 0)]
    last = return_credit(refund_share(PURCHASE, 200_000, None), 0, spent_from)
    assert last == CreditReturn(((6, 4_000),), 0)


def test_credit_paid_first_covers_earned_credit_already_spent() -> None:
    share = refund_share(PURCHASE, 0, None)  # 10,000 paid with credit comes back
    assert return_credit(share, 2_500, [(4, 10_000)]) == CreditReturn(((4, 7_500),), 2_500)
    assert return_credit(share, 40_000, [(4, 10_000)]) == CreditReturn((), 10_000)


def test_returning_more_than_the_purchase_spent_is_a_bug() -> None:
    share = refund_share(PURCHASE, 0, None)
    with pytest.raises(ValueError, match="more than the purchase spent"):
        return_credit(share, 0, [(4, 9_999)])


# --- plan_refund ---------------------------------------------------------------------------


def test_a_refund_after_spending_the_earned_credit_writes_off_what_is_not_covered() -> None:
    """Earned 32,333 credit, kept 2,000 of it; paid 10,000 with credit."""
    plan = plan_refund(
        refund_share(PURCHASE, 0, None),
        holding(OpenLot(OWN, 32, day(365))),
        holding(OpenLot(OWN, 2_000, day(30))),
        [(4, 10_000)],
    )
    assert plan.points == Takeback(0, ((OWN, 32),), 0)
    assert plan.credit == Takeback(0, ((OWN, 2_000),), 30_333)
    assert plan.credit_return == CreditReturn((), 10_000)
    assert (plan.shortfall_points, plan.shortfall_credit_rial) == (0, 20_333)


# --- Properties: refunds in parts ------------------------------------------------------------


@st.composite
def purchases(draw: st.DrawFn) -> PurchaseValue:
    total = draw(st.integers(1, 10**12))
    credit = draw(st.integers(0, total))
    network = draw(st.integers(0, total - credit))
    return PurchaseValue(
        total_rial=total,
        earned_points=draw(st.integers(0, 10**9)),
        earned_credit_rial=draw(st.integers(0, 10**12)),
        credit_spent_rial=credit,
        network_paid_rial=network,
    )


@st.composite
def refunds_in_parts(draw: st.DrawFn) -> tuple[PurchaseValue, list[int | None]]:
    """A purchase and a series of refunds of all of it: amounts, the last one often left
    out (None: "all that is left")."""
    purchase = draw(purchases())
    cuts = draw(st.lists(st.integers(1, purchase.total_rial), max_size=10, unique=True))
    points = sorted({0, purchase.total_rial, *cuts})
    parts: list[int | None] = [b - a for a, b in pairwise(points)]
    if draw(st.booleans()):
        parts[-1] = None
    return purchase, parts


def _series(purchase: PurchaseValue, parts: list[int | None]) -> list[RefundShare]:
    shares, before = [], 0
    for requested in parts:
        share = refund_share(purchase, before, requested)
        shares.append(share)
        before += share.amount_rial
    return shares


@given(refunds_in_parts())
def test_refunds_in_any_number_of_parts_reverse_what_one_full_refund_would(
    case: tuple[PurchaseValue, list[int | None]],
) -> None:
    purchase, parts = case
    whole = refund_share(purchase, 0, None)
    shares = _series(purchase, parts)
    for name in (
        "amount_rial",
        "reversed_points",
        "reversed_credit_rial",
        "credit_paid_back_rial",
        "network_returned_rial",
    ):
        assert sum(getattr(share, name) for share in shares) == getattr(whole, name), name
    assert whole.reversed_points == purchase.earned_points
    assert whole.reversed_credit_rial == purchase.earned_credit_rial
    assert whole.credit_paid_back_rial == purchase.credit_spent_rial
    assert whole.network_returned_rial == purchase.network_paid_rial
    with pytest.raises(RefundExceedsPurchase, match="the 0 Rial still refundable"):
        refund_share(purchase, purchase.total_rial, None)


@given(refunds_in_parts())
def test_no_part_is_negative_and_no_prefix_takes_more_than_was_earned(
    case: tuple[PurchaseValue, list[int | None]],
) -> None:
    purchase, parts = case
    taken = {"points": 0, "credit": 0, "paid": 0, "network": 0}
    for share in _series(purchase, parts):
        values = (
            share.reversed_points,
            share.reversed_credit_rial,
            share.credit_paid_back_rial,
            share.network_returned_rial,
        )
        assert min(values) >= 0
        taken["points"] += share.reversed_points
        taken["credit"] += share.reversed_credit_rial
        assert share.credit_paid_back_before_rial == taken["paid"]
        taken["paid"] += share.credit_paid_back_rial
        taken["network"] += share.network_returned_rial
        assert taken["points"] <= purchase.earned_points
        assert taken["credit"] <= purchase.earned_credit_rial
        assert taken["paid"] <= purchase.credit_spent_rial
        assert taken["network"] <= purchase.network_paid_rial


@st.composite
def member_lots(draw: st.DrawFn, own: int) -> list[OpenLot]:
    """The purchase's own lot (holding ``own``, if any left) and the member's others."""
    others = draw(
        st.lists(
            st.builds(
                OpenLot,
                st.integers(1, 99),
                st.integers(1, 10**6),
                st.one_of(st.none(), st.integers(0, 400).map(day)),
            ),
            max_size=5,
            unique_by=lambda lot: lot.lot_id,
        )
    )
    return ([OpenLot(OWN, own, day(30))] if own else []) + others


@given(st.integers(0, 10**7), st.data())
def test_a_take_back_accounts_for_every_unit_and_never_takes_more_than_a_lot_holds(
    wanted: int, data: st.DataObject
) -> None:
    lots = data.draw(member_lots(data.draw(st.integers(0, 10**6))))
    expired_own = data.draw(st.integers(0, 10**6))
    lapsed_before = data.draw(st.integers(0, 10**6))
    holdings = Holdings(tuple(lots), frozenset({OWN}), expired_own, lapsed_before)
    taken = take_back(wanted, holdings, "points")
    assert min(taken.lapsed, taken.shortfall, taken.recovered) >= 0
    assert taken.lapsed + taken.recovered + taken.shortfall == wanted
    assert taken.lapsed <= max(0, expired_own - lapsed_before)
    remaining = {lot.lot_id: lot.remaining for lot in lots}
    assert all(0 < amount <= remaining[lot_id] for lot_id, amount in taken.taken)
    assert len({lot_id for lot_id, _ in taken.taken}) == len(taken.taken)
    # A shortfall only when everything the member holds was taken.
    assert taken.shortfall == 0 or taken.recovered == sum(remaining.values())


@given(refunds_in_parts(), st.data())
def test_a_series_of_refunds_takes_back_exactly_what_was_earned_and_returns_what_was_paid(
    case: tuple[PurchaseValue, list[int | None]], data: st.DataObject
) -> None:
    """Refunds in parts against a member who still holds some of what the purchase gave
    and spent or lost to expiry some: each part planned on the lots the earlier parts
    left. Over the series, the points and credit reversed are exactly what was earned,
    split into lapsed, taken back and written off; the credit paid is all given back or
    offset; no lot gives more than it had, nor gets back more than was spent from it."""
    purchase, parts = case
    points_lots = data.draw(member_lots(data.draw(st.integers(0, purchase.earned_points))))
    credit_lots = data.draw(member_lots(data.draw(st.integers(0, purchase.earned_credit_rial))))
    expired = {
        "points": data.draw(st.integers(0, purchase.earned_points)),
        "rial": data.draw(st.integers(0, purchase.earned_credit_rial)),
    }
    spent = purchase.credit_spent_rial
    spent_cuts = data.draw(st.lists(st.integers(1, spent), max_size=3)) if spent else []
    # The lots the purchase's credit spend came from (ids apart from the member's lots).
    spent_from = [
        (200 + i, b - a) for i, (a, b) in enumerate(pairwise(sorted({0, spent, *spent_cuts})))
    ]
    held = {
        "points": {lot.lot_id: lot for lot in points_lots},
        "rial": {lot.lot_id: lot for lot in credit_lots},
    }
    start = {asset: sum(lot.remaining for lot in lots.values()) for asset, lots in held.items()}
    lapsed = {"points": 0, "rial": 0}
    plans: list[RefundPlan] = []
    for share in _series(purchase, parts):
        plan = plan_refund(
            share,
            Holdings(
                tuple(held["points"].values()),
                frozenset({OWN}),
                expired["points"],
                lapsed["points"],
            ),
            Holdings(
                tuple(held["rial"].values()), frozenset({OWN}), expired["rial"], lapsed["rial"]
            ),
            spent_from,
        )
        plans.append(plan)
        for asset, takeback in (("points", plan.points), ("rial", plan.credit)):
            lapsed[asset] += takeback.lapsed
            for lot_id, amount in takeback.taken:
                lot = held[asset][lot_id]
                held[asset][lot_id] = replace(lot, remaining=lot.remaining - amount)
        assert plan.shortfall_credit_rial >= 0
        assert plan.shortfall_points >= 0
    points = [p.points for p in plans]
    credit = [p.credit for p in plans]
    assert sum(t.lapsed + t.recovered + t.shortfall for t in points) == purchase.earned_points
    assert sum(t.lapsed + t.recovered + t.shortfall for t in credit) == purchase.earned_credit_rial
    assert sum(t.lapsed for t in points) <= expired["points"]
    assert sum(t.recovered for t in points) <= start["points"]
    assert all(lot.remaining >= 0 for lots in held.values() for lot in lots.values())
    returned = [p.credit_return for p in plans]
    assert sum(r.returned_rial + r.offset_rial for r in returned) == purchase.credit_spent_rial
    back: dict[int, int] = {}
    for r in returned:
        for lot_id, amount in r.returned:
            back[lot_id] = back.get(lot_id, 0) + amount
    assert all(back[lot_id] <= spent for lot_id, spent in spent_from if lot_id in back)
    # What is offset is earned credit the member could not give back.
    assert all(
        p.credit_return.offset_rial <= p.credit.shortfall
        and p.shortfall_credit_rial == p.credit.shortfall - p.credit_return.offset_rial
        for p in plans
    )
