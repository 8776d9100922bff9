"""The pure network value rules: what a purchase issues, which lots a hold takes, how a
capture and a refund split over a hold's portions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.domain.value_rules import (
    GENERAL,
    POOLED,
    TARGETED,
    CreditRule,
    Grant,
    IssuanceRules,
    LotView,
    PurchaseFacts,
    accepted_at,
    issuance,
    refund_targets,
    reserve,
    spending_order,
    split_capture,
)

T0 = dt.datetime(2026, 3, 21, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def facts(
    total: int,
    *,
    paid_with_value: int = 0,
    points: int = 0,
    lines: list[tuple[str, int]] | None = None,
) -> PurchaseFacts:
    return PurchaseFacts(
        total_rial=total,
        paid_with_value_rial=paid_with_value,
        points_earned=points,
        lines=[("general", total)] if lines is None else lines,
    )


def rules(pooled_share_bp: int = 0, *credit: CreditRule) -> IssuanceRules:
    return IssuanceRules(pooled_share_bp=pooled_share_bp, credit_rules=list(credit))


# --- Rule documents -------------------------------------------------------------------------


def test_a_credit_rule_names_shops_or_a_category_not_both() -> None:
    with pytest.raises(ValidationError, match="not both"):
        CreditRule(credit_bp=100, accepted_shops=["ketab-sara"], accepted_category="books")


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ({"credit_bp": 100}, GENERAL),
        ({"credit_bp": 100, "accepted_shops": ["ketab-sara"]}, TARGETED),
        ({"credit_bp": 100, "accepted_category": "books"}, TARGETED),
    ],
)
def test_credit_without_a_target_is_general_credit(document: dict[str, object], kind: str) -> None:
    assert CreditRule.model_validate(document).kind == kind


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            {"pooled_share_bp": 10_001},
            "pooled_share_bp\n  Input should be less than or equal to 10000",
        ),
        ({"pooled_share_bp": -1}, "pooled_share_bp\n  Input should be greater than or equal to 0"),
        # strict: no strings for numbers
        ({"pooled_share_bp": "100"}, "pooled_share_bp\n  Input should be a valid integer"),
        (
            {"pooled_valid_days": 0},
            "pooled_valid_days\n  Input should be greater than or equal to 1",
        ),
        (
            {"credit_rules": [{"credit_bp": 0}]},
            "credit_rules.0.credit_bp\n  Input should be greater than or equal to 1",
        ),
        (
            {"credit_rules": [{"credit_bp": 100, "accepted_shops": ["Not A Slug"]}]},
            "credit_rules.0.accepted_shops.0\n  String should match pattern",
        ),
        (
            {"credit_rules": [{"credit_bp": 100, "surprise": 1}]},
            "credit_rules.0.surprise\n  Extra inputs are not permitted",
        ),
        ({"unknown": True}, "unknown\n  Extra inputs are not permitted"),
        # The Rial bound of mallnet.values.
        (
            {"credit_rules": [{"credit_bp": 100, "min_purchase_rial": 10**15 + 1}]},
            "credit_rules.0.min_purchase_rial\n  Input should be less than or equal to "
            "1000000000000000",
        ),
    ],
)
def test_invalid_policy_documents_are_refused(document: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(reason)):
        IssuanceRules.model_validate(document)


# --- Issuance -------------------------------------------------------------------------------


def test_no_policy_issues_nothing() -> None:
    assert issuance(IssuanceRules(), facts(1_000_000, points=100)) == []


@pytest.mark.parametrize(
    ("points", "share_bp", "pooled"),
    [
        (100, 2_500, 25),
        (99, 1_000, 9),  # 9.9 points: rounds down
        (9, 1_000, 0),  # 0.9: nothing, and no empty grant
        (1, 9_999, 0),
        (7, 10_000, 7),
        (0, 5_000, 0),
    ],
)
def test_pooled_share_rounds_down(points: int, share_bp: int, pooled: int) -> None:
    grants = issuance(rules(share_bp), facts(500_000, points=points))
    if pooled == 0:
        assert grants == []
    else:
        assert grants == [Grant(POOLED, pooled, (), None, 365, "pooled share")]


def test_pooled_points_use_the_pooled_validity() -> None:
    policy = IssuanceRules(pooled_share_bp=5_000, pooled_valid_days=90)
    (grant,) = issuance(policy, facts(100_000, points=10))
    assert (grant.kind, grant.amount, grant.valid_days) == (POOLED, 5, 90)


def test_credit_is_a_share_of_the_purchase_rounded_down() -> None:
    rule = CreditRule(credit_bp=1_000, valid_days=14)
    assert issuance(rules(0, rule), facts(1_234_567)) == [
        Grant(GENERAL, 123_456, (), None, 14, "credit rule 1")
    ]


@pytest.mark.parametrize(
    ("total", "issued"), [(999_999, 0), (1_000_000, 100_000), (2_000_000, 200_000)]
)
def test_credit_needs_the_minimum_purchase(total: int, issued: int) -> None:
    rule = CreditRule(credit_bp=1_000, min_purchase_rial=1_000_000)
    grants = issuance(rules(0, rule), facts(total))
    assert [g.amount for g in grants] == ([issued] if issued else [])


def test_credit_counts_only_the_lines_of_its_groups() -> None:
    rule = CreditRule(credit_bp=1_000, groups=["shoes", "bags"])
    purchase = facts(1_000_000, lines=[("shoes", 300_000), ("socks", 500_000), ("bags", 200_000)])
    (grant,) = issuance(rules(0, rule), purchase)
    assert grant.amount == 50_000  # 10% of 300,000 + 200,000


def test_credit_for_groups_not_bought_is_nothing() -> None:
    rule = CreditRule(credit_bp=1_000, groups=["jewellery"])
    assert issuance(rules(0, rule), facts(1_000_000, lines=[("shoes", 1_000_000)])) == []


def test_credit_is_capped() -> None:
    rule = CreditRule(credit_bp=5_000, max_credit_rial=70_000)
    (grant,) = issuance(rules(0, rule), facts(1_000_000))
    assert grant.amount == 70_000
    (small,) = issuance(rules(0, rule), facts(100_000))
    assert small.amount == 50_000


def test_a_zero_cap_issues_nothing() -> None:
    rule = CreditRule(credit_bp=5_000, max_credit_rial=0)
    assert issuance(rules(0, rule), facts(1_000_000)) == []


def test_the_part_paid_with_value_earns_no_credit() -> None:
    rule = CreditRule(credit_bp=1_000)
    (grant,) = issuance(rules(0, rule), facts(1_000_000, paid_with_value=400_000))
    assert grant.amount == 60_000  # 10% of the 600,000 paid with money


def test_paid_with_value_is_spread_pro_rata_over_the_eligible_lines() -> None:
    rule = CreditRule(credit_bp=1_000, groups=["shoes"])
    purchase = facts(
        1_000_000, paid_with_value=500_000, lines=[("shoes", 400_000), ("socks", 600_000)]
    )
    (grant,) = issuance(rules(0, rule), purchase)
    assert grant.amount == 20_000  # half of the shoes was paid with money: 10% of 200,000


def test_a_purchase_paid_wholly_with_value_earns_no_credit() -> None:
    rule = CreditRule(credit_bp=1_000)
    assert issuance(rules(0, rule), facts(1_000_000, paid_with_value=1_000_000)) == []
    assert issuance(rules(0, rule), facts(1_000_000, paid_with_value=1_500_000)) == []


def test_paid_with_value_does_not_change_the_pooled_share() -> None:
    (grant,) = issuance(rules(1_000), facts(1_000_000, paid_with_value=1_000_000, points=50))
    assert (grant.kind, grant.amount) == (POOLED, 5)


def test_an_empty_purchase_earns_no_credit() -> None:
    assert issuance(rules(0, CreditRule(credit_bp=10_000)), facts(0, lines=[])) == []


def test_targeted_credit_carries_its_acceptance_and_every_rule_applies() -> None:
    policy = rules(
        2_000,
        CreditRule(credit_bp=500, accepted_shops=["kafsh-arya", "ketab-sara", "kafsh-arya"]),
        CreditRule(credit_bp=100, accepted_category="cafe", valid_days=7),
        CreditRule(credit_bp=300),
    )
    grants = issuance(policy, facts(1_000_000, points=40))
    assert grants == [
        Grant(POOLED, 8, (), None, 365, "pooled share"),
        Grant(TARGETED, 50_000, ("kafsh-arya", "ketab-sara"), None, 30, "credit rule 1"),
        Grant(TARGETED, 10_000, (), "cafe", 7, "credit rule 2"),
        Grant(GENERAL, 30_000, (), None, 30, "credit rule 3"),
    ]


@given(
    points=st.integers(0, 10**9),
    share=st.integers(0, 10_000),
    total=st.integers(1, 10**12),
    paid_part=st.floats(0, 1.2),
    credit_bp=st.integers(1, 10_000),
    cap=st.none() | st.integers(0, 10**10),
)
def test_issuance_never_gives_more_than_the_exact_share(
    points: int, share: int, total: int, paid_part: float, credit_bp: int, cap: int | None
) -> None:
    paid_with_value = int(total * paid_part)
    policy = rules(share, CreditRule(credit_bp=credit_bp, max_credit_rial=cap))
    grants = issuance(policy, facts(total, paid_with_value=paid_with_value, points=points))
    pooled = [g.amount for g in grants if g.kind == POOLED]
    credit = [g.amount for g in grants if g.kind == GENERAL]
    exact_pooled = points * share / 10_000
    assert sum(pooled) <= exact_pooled < sum(pooled) + 1
    paid = max(0, total - paid_with_value)
    expected = paid * credit_bp // 10_000 if cap is None else min(cap, paid * credit_bp // 10_000)
    assert credit == ([expected] if expected > 0 else [])
    assert all(g.amount > 0 for g in grants)


# --- Acceptance and order -------------------------------------------------------------------


def lot(
    lot_id: int,
    available: int,
    *,
    rate: int = 1,
    kind: str | None = None,
    expires: int = 30,
    shops: tuple[str, ...] = (),
    category: str | None = None,
) -> LotView:
    return LotView(
        id=lot_id,
        kind=kind or (POOLED if rate > 1 else GENERAL),
        available=available,
        rial_per_point=rate,
        expires_at=day(expires),
        accepted_shops=shops,
        accepted_category=category,
    )


@pytest.mark.parametrize(
    ("view", "shop", "category", "accepted"),
    [
        (lot(1, 5, rate=1_000), "kafsh-arya", "shoes", True),
        (lot(1, 5, rate=1_000), "kafsh-arya", None, True),
        (lot(1, 5), "kafsh-arya", None, True),
        (lot(1, 5, kind=TARGETED, shops=("ketab-sara",)), "ketab-sara", "books", True),
        (lot(1, 5, kind=TARGETED, shops=("ketab-sara",)), "kafsh-arya", "books", False),
        (lot(1, 5, kind=TARGETED, category="books"), "kafsh-arya", "books", True),
        (lot(1, 5, kind=TARGETED, category="books"), "kafsh-arya", "shoes", False),
        (lot(1, 5, kind=TARGETED, category="books"), "kafsh-arya", None, False),
        (lot(1, 5, kind=TARGETED), "kafsh-arya", None, False),
    ],
)
def test_acceptance(view: LotView, shop: str, category: str | None, accepted: bool) -> None:
    assert accepted_at(view, shop, category) is accepted


def test_spending_order_is_soonest_expiring_then_oldest() -> None:
    lots = [
        lot(5, 1, expires=30),
        lot(2, 1, expires=30),
        lot(9, 1, expires=3),
        lot(1, 1, expires=90),
    ]
    assert [v.id for v in spending_order(lots)] == [9, 2, 5, 1]


# --- Reserving lots for a hold --------------------------------------------------------------


def test_reserve_takes_lots_in_the_order_given_until_covered() -> None:
    taken, covered = reserve([lot(3, 400), lot(1, 1_000), lot(2, 1_000)], 1_000)
    assert (taken, covered) == ([(3, 400), (1, 600)], 1_000)


def test_reserve_takes_whole_points_only() -> None:
    taken, covered = reserve([lot(1, 5, rate=1_000)], 3_500)
    assert (taken, covered) == ([(1, 3)], 3_000)


def test_reserve_tops_up_points_with_credit() -> None:
    taken, covered = reserve([lot(1, 5, rate=1_000), lot(2, 10_000)], 3_500)
    assert (taken, covered) == ([(1, 3), (2, 500)], 3_500)


def test_reserve_skips_empty_lots_and_points_worth_more_than_what_is_left() -> None:
    taken, covered = reserve([lot(1, 0), lot(2, 3, rate=2_000), lot(3, 800)], 1_500)
    assert (taken, covered) == ([(3, 800)], 800)


def test_reserve_covers_what_there_is_when_there_is_not_enough() -> None:
    taken, covered = reserve([lot(1, 2, rate=1_000), lot(2, 300)], 1_000_000)
    assert (taken, covered) == ([(1, 2), (2, 300)], 2_300)


def test_reserve_keeps_the_order_given_when_it_covers_the_amount() -> None:
    # Credit expiring first is used first: 500 Rial and a point pay 1,500 exactly.
    soon_credit, points = lot(1, 500, expires=1), lot(2, 2, rate=1_000, expires=30)
    assert reserve([soon_credit, points], 1_500) == ([(1, 500), (2, 1)], 1_500)


def test_reserve_uses_points_first_when_the_order_given_leaves_part_uncovered() -> None:
    # 500 Rial of credit then 2 points: in that order 2,000 Rial is covered only to 1,500;
    # the 2 points cover it all.
    soon_credit, points = lot(1, 500, expires=1), lot(2, 2, rate=1_000, expires=30)
    assert reserve([soon_credit, points], 2_000) == ([(2, 2)], 2_000)
    # 2,300: two points and 300 Rial of credit.
    assert reserve([soon_credit, points], 2_300) == ([(1, 300), (2, 2)], 2_300)


def test_reserve_of_nothing() -> None:
    assert reserve([], 1_000) == ([], 0)
    assert reserve([lot(1, 5, rate=1_000)], 999) == ([], 0)


lot_views = st.lists(
    st.tuples(st.integers(0, 50), st.sampled_from([1, 1, 500, 1_000, 3_000])), max_size=8
).map(lambda specs: [lot(i + 1, a, rate=r) for i, (a, r) in enumerate(specs)])


@given(lots=lot_views, amount=st.integers(1, 200_000))
def test_reserve_never_takes_more_than_asked_or_available(lots: list[LotView], amount: int) -> None:
    taken, covered = reserve(lots, amount)
    by_id = {v.id: v for v in lots}
    assert 0 <= covered <= amount
    assert covered == sum(units * by_id[i].rial_per_point for i, units in taken)
    assert all(0 < units <= by_id[i].available for i, units in taken)
    ids = [i for i, _ in taken]
    assert ids == sorted(set(ids))  # each lot once, in the order given
    # What is left uncovered could not have been taken from any lot not drained.
    left = amount - covered
    drained = {i for i, units in taken if units == by_id[i].available}
    for view in lots:
        if view.available and view.id not in drained:
            assert left < view.rial_per_point


def _in_order(lots: list[LotView], amount: int) -> int:
    left = amount
    for view in lots:
        left -= min(view.available, left // view.rial_per_point) * view.rial_per_point
    return amount - left


@given(lots=lot_views, amount=st.integers(1, 200_000))
def test_reserve_covers_at_least_what_the_order_given_covers(
    lots: list[LotView], amount: int
) -> None:
    assert reserve(lots, amount)[1] >= _in_order(lots, amount)


@given(
    specs=st.lists(st.tuples(st.booleans(), st.integers(0, 30)), max_size=6),
    rate=st.sampled_from([700, 1_000, 2_500]),
    amount=st.integers(1, 100_000),
)
def test_reserve_covers_the_most_possible_with_one_point_value(
    specs: list[tuple[bool, int]], rate: int, amount: int
) -> None:
    """With one point value, the best is as many whole points as fit, then credit."""
    lots = [
        lot(i + 1, units, rate=rate) if is_points else lot(i + 1, units * 97)
        for i, (is_points, units) in enumerate(specs)
    ]
    points = sum(v.available for v in lots if v.rial_per_point == rate)
    credit = sum(v.available for v in lots if v.rial_per_point == 1)
    best = max(
        k * rate + min(credit, amount - k * rate) for k in range(min(points, amount // rate) + 1)
    )
    assert reserve(lots, amount)[1] == best


@given(amounts=st.lists(st.integers(0, 5_000), max_size=6), amount=st.integers(1, 40_000))
def test_reserve_of_credit_alone_covers_exactly(amounts: list[int], amount: int) -> None:
    lots = [lot(i + 1, a) for i, a in enumerate(amounts)]
    assert reserve(lots, amount)[1] == min(amount, sum(amounts))


# --- Capturing a hold -----------------------------------------------------------------------


def test_a_full_capture_takes_every_portion() -> None:
    assert split_capture([(3, 1_000), (500, 1)], 3_500) == ([3, 500], 3_500)


def test_a_partial_capture_takes_portions_in_order() -> None:
    assert split_capture([(3, 1_000), (500, 1)], 2_200) == ([2, 200], 2_200)
    assert split_capture([(400, 1), (600, 1)], 700) == ([400, 300], 700)


def test_a_partial_capture_uses_points_first_when_in_order_leaves_part_uncovered() -> None:
    # Held: 500 Rial of credit, then 2 points. 2,000 Rial is the 2 points, not 1,500.
    assert split_capture([(500, 1), (2, 1_000)], 2_000) == ([0, 2], 2_000)
    assert split_capture([(500, 1), (2, 1_000)], 1_500) == ([500, 1], 1_500)


def test_a_capture_never_takes_more_than_asked() -> None:
    # Less than a point's worth left: that point stays held (and is released).
    assert split_capture([(3, 1_000)], 2_500) == ([2], 2_000)
    assert split_capture([(3, 1_000)], 999) == ([0], 0)


def test_a_capture_beyond_the_hold_takes_the_hold() -> None:
    assert split_capture([(3, 1_000), (10, 1)], 10**9) == ([3, 10], 3_010)


portions_strategy = st.lists(
    st.tuples(st.integers(1, 40), st.sampled_from([1, 1, 700, 1_000, 2_500])),
    min_size=1,
    max_size=6,
)


@given(portions=portions_strategy, amount=st.integers(1, 200_000))
def test_split_capture_is_bounded_by_the_portions_and_the_amount(
    portions: list[tuple[int, int]], amount: int
) -> None:
    units, captured = split_capture(portions, amount)
    assert len(units) == len(portions)
    assert all(0 <= u <= held for u, (held, _) in zip(units, portions, strict=True))
    assert captured == sum(u * rate for u, (_, rate) in zip(units, portions, strict=True))
    assert 0 <= captured <= amount
    worth = sum(held * rate for held, rate in portions)
    if amount >= worth:
        assert units == [held for held, _ in portions]
    if all(rate == 1 for _, rate in portions):
        assert captured == min(amount, worth)


# --- Refunds --------------------------------------------------------------------------------


def test_refund_targets_return_credit_first_and_round_points_down() -> None:
    portions = [(3, 1_000), (500, 1)]
    assert refund_targets(portions, 0) == [0, 0]
    assert refund_targets(portions, 1) == [0, 1]
    assert refund_targets(portions, 500) == [0, 500]
    assert refund_targets(portions, 1_499) == [0, 500]
    assert refund_targets(portions, 1_500) == [1, 500]
    assert refund_targets(portions, 3_499) == [2, 500]
    assert refund_targets(portions, 3_500) == [3, 500]


def test_refund_targets_never_exceed_what_was_captured() -> None:
    assert refund_targets([(3, 1_000), (500, 1)], 10**9) == [3, 500]


captured_portions = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from([1, 1, 700, 1_000, 2_500])).filter(
        lambda p: p[0] > 0
    ),
    min_size=1,
    max_size=6,
)


@given(portions=captured_portions, steps=st.lists(st.integers(0, 30_000), max_size=8))
def test_refund_targets_are_monotone_and_a_full_refund_returns_exactly_what_was_captured(
    portions: list[tuple[int, int]], steps: list[int]
) -> None:
    worth = sum(units * rate for units, rate in portions)
    max_rate = max(rate for _, rate in portions)
    refunded, previous = 0, [0] * len(portions)
    for step in steps:
        refunded = min(worth, refunded + step)
        targets = refund_targets(portions, refunded)
        assert all(p <= t for p, t in zip(previous, targets, strict=True))
        assert all(0 <= t <= units for t, (units, _) in zip(targets, portions, strict=True))
        value = sum(t * rate for t, (_, rate) in zip(targets, portions, strict=True))
        # Never more than the refund's share, short of it by less than one point.
        assert refunded - max_rate < value <= refunded
        previous = targets
    assert refund_targets(portions, worth) == [units for units, _ in portions]
