"""The money rules of a purchase: earning, credit spend limits and proportional refunds."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_node.domain.earning import (
    BP_ONE,
    Earning,
    Line,
    compute_earning,
    max_credit_spend,
    proportional_share,
)
from shop_node.domain.policy import (
    DEFAULT_POLICY,
    ClubPolicy,
    EarningRule,
    FrequencyRule,
    ProductGroup,
    Tier,
)

BASE = Tier(code="base", name_fa="پایه", name_en="Base", threshold=0)
SILVER = DEFAULT_POLICY.tiers[1]  # x1.25
GOLD = DEFAULT_POLICY.tiers[2]  # x1.5


def make_policy(**overrides: Any) -> ClubPolicy:
    fields: dict[str, Any] = {
        "product_groups": [
            ProductGroup(code="general", name_fa="عمومی", name_en="General"),
            ProductGroup(code="food", name_fa="خوراکی", name_en="Food"),
        ],
        "earning": EarningRule(credit_bp=500, points=1, per_rial=10_000),
        "earning_by_group": {"food": EarningRule(credit_bp=1_000, points=3, per_rial=1_000)},
        "tiers": [BASE],
    }
    fields.update(overrides)
    return ClubPolicy(**fields)


def earn(
    policy: ClubPolicy,
    lines: list[tuple[str, int]],
    *,
    spent: int = 0,
    tier: Tier = BASE,
    visit: int = 1,
) -> Earning:
    return compute_earning(
        policy,
        [Line(group, amount) for group, amount in lines],
        credit_spent_rial=spent,
        tier=tier,
        visit_number=visit,
    )


# --- hand-checked examples -------------------------------------------------------------


def test_default_policy_base_tier() -> None:
    bronze = DEFAULT_POLICY.tiers[0]
    # 5% credit and 1 point per 10,000 Rial on 1,000,000 Rial.
    assert earn(DEFAULT_POLICY, [("general", 1_000_000)], tier=bronze) == Earning(100, 50_000, 0, 0)


def test_per_group_rules() -> None:
    # general: 500 bp, 1 point / 10,000; food: 1,000 bp, 3 points / 1,000.
    result = earn(make_policy(), [("general", 250_000), ("food", 120_000)])
    assert result == Earning(points=25 + 360, credit_rial=12_500 + 12_000, **_no_frequency())


def test_group_without_override_uses_the_default_rule() -> None:
    result = earn(make_policy(), [("general", 120_000)])
    assert result == Earning(points=12, credit_rial=6_000, **_no_frequency())


def test_tier_multiplier_applies_to_points_and_credit() -> None:
    assert earn(DEFAULT_POLICY, [("general", 1_000_000)], tier=SILVER) == Earning(125, 62_500, 0, 0)
    assert earn(DEFAULT_POLICY, [("general", 1_000_000)], tier=GOLD) == Earning(150, 75_000, 0, 0)


def test_zero_multiplier_earns_nothing() -> None:
    zero = Tier(code="frozen", name_fa="x", name_en="x", threshold=0, multiplier_bp=0)
    assert earn(make_policy(), [("food", 1_000_000)], tier=zero) == Earning(0, 0, 0, 0)


def test_caps_apply_after_the_multiplier() -> None:
    policy = make_policy(max_points_per_purchase=50, max_credit_per_purchase_rial=10_000)
    # Uncapped: 100 points x1.5 = 150, 50,000 credit x1.5 = 75,000.
    assert earn(policy, [("general", 1_000_000)], tier=GOLD) == Earning(50, 10_000, 0, 0)
    # Below the caps nothing changes: 20 points x1.5 = 30, 10,000 x1.5 = 15,000 > cap.
    assert earn(policy, [("general", 200_000)], tier=GOLD) == Earning(30, 10_000, 0, 0)
    assert earn(policy, [("general", 100_000)]) == Earning(10, 5_000, 0, 0)


def test_zero_caps() -> None:
    policy = make_policy(max_points_per_purchase=0, max_credit_per_purchase_rial=0)
    assert earn(policy, [("food", 1_000_000)]) == Earning(0, 0, 0, 0)


@pytest.mark.parametrize(
    ("visit", "rewarded"),
    [(1, False), (2, False), (3, True), (4, False), (5, False), (6, True), (300, True)],
)
def test_frequency_reward_only_on_every_nth_visit(visit: int, rewarded: bool) -> None:
    policy = make_policy(
        frequency=FrequencyRule(every_visits=3, reward_points=40, reward_credit_rial=7_000)
    )
    result = earn(policy, [("general", 100_000)], visit=visit)
    assert (result.points, result.credit_rial) == (10, 5_000)
    assert (result.frequency_points, result.frequency_credit_rial) == (
        (40, 7_000) if rewarded else (0, 0)
    )


def test_frequency_reward_is_not_multiplied_nor_capped() -> None:
    policy = make_policy(
        frequency=FrequencyRule(every_visits=2, reward_points=100, reward_credit_rial=20_000),
        max_points_per_purchase=50,
        max_credit_per_purchase_rial=10_000,
    )
    result = earn(policy, [("general", 1_000_000)], tier=GOLD, visit=4)
    assert result == Earning(50, 10_000, 100, 20_000)
    assert result.total_points == 150
    assert result.total_credit_rial == 30_000


def test_frequency_reward_even_when_all_is_paid_with_credit() -> None:
    policy = make_policy(frequency=FrequencyRule(every_visits=2, reward_points=9))
    assert earn(policy, [("general", 50_000)], spent=50_000, visit=2) == Earning(0, 0, 9, 0)


def test_no_frequency_rule_no_reward() -> None:
    result = earn(make_policy(frequency=None), [("general", 100_000)], visit=10)
    assert (result.frequency_points, result.frequency_credit_rial) == (0, 0)


def test_earning_is_on_the_paid_share_when_credit_is_spent() -> None:
    # 400,000 total, 100,000 paid with credit: each line earns on 3/4 of its amount.
    result = earn(make_policy(), [("general", 300_000), ("food", 100_000)], spent=100_000)
    # general: 225,000 -> 22 points (22.5), 11,250 credit; food: 75,000 -> 225 points, 7,500.
    assert result == Earning(points=22 + 225, credit_rial=11_250 + 7_500, **_no_frequency())


def test_rounding_is_always_down() -> None:
    # 19,999 Rial: 1.9999 points -> 1, 999.95 credit -> 999.
    assert earn(make_policy(), [("general", 19_999)]) == Earning(1, 999, 0, 0)
    # x1.25 of 999 = 1,248.75 -> 1,248; 1 point x1.25 -> 1.
    assert earn(make_policy(), [("general", 19_999)], tier=SILVER) == Earning(1, 1_248, 0, 0)
    # Paid share 2,999/3,000 of each line: 999.67 -> 999 and 1,999.33 -> 1,999; then 5% of
    # each, 49.95 -> 49 and 99.95 -> 99 (not 5% of 2,999 = 149.95 -> 149).
    result = earn(make_policy(), [("general", 1_000), ("general", 2_000)], spent=1)
    assert result == Earning(0, 148, 0, 0)
    # Below one point's worth: nothing.
    assert earn(make_policy(), [("general", 9_999)]) == Earning(0, 499, 0, 0)


@pytest.mark.parametrize(
    ("lines", "spent"),
    [
        ([], 0),
        ([("general", 0)], 0),
        ([("general", 100)], 101),
        ([("general", 100)], -1),
    ],
)
def test_invalid_purchase_raises(lines: list[tuple[str, int]], spent: int) -> None:
    with pytest.raises(ValueError, match="positive total"):
        earn(make_policy(), lines, spent=spent)


def _no_frequency() -> dict[str, int]:
    return {"frequency_points": 0, "frequency_credit_rial": 0}


# --- properties ------------------------------------------------------------------------

rules = st.builds(
    EarningRule,
    credit_bp=st.integers(0, BP_ONE),
    points=st.integers(0, 1_000),
    per_rial=st.integers(1, 10**7),
)
tiers = st.builds(
    Tier,
    code=st.just("t"),
    name_fa=st.just("t"),
    name_en=st.just("t"),
    threshold=st.just(0),
    multiplier_bp=st.integers(0, 100_000),
)
policies = st.builds(
    make_policy,
    earning=rules,
    earning_by_group=st.dictionaries(st.sampled_from(["general", "food"]), rules),
    max_points_per_purchase=st.none() | st.integers(0, 10**6),
    max_credit_per_purchase_rial=st.none() | st.integers(0, 10**9),
    frequency=st.none()
    | st.builds(
        FrequencyRule,
        every_visits=st.integers(2, 20),
        reward_points=st.integers(0, 10**4),
        reward_credit_rial=st.integers(0, 10**7),
    ),
)
baskets = st.lists(
    st.tuples(st.sampled_from(["general", "food"]), st.integers(0, 10**10)), min_size=1, max_size=6
).filter(lambda lines: sum(amount for _, amount in lines) > 0)


def _ceiling(
    policy: ClubPolicy, lines: list[tuple[str, int]], spent: int, tier: Tier
) -> tuple[Fraction, Fraction]:
    """Exact (unrounded) points and credit the rule rates allow, before caps."""
    total = sum(amount for _, amount in lines)
    paid = Fraction(total - spent, total)
    points = credit = Fraction(0)
    for group, amount in lines:
        rule = policy.rule_for(group)
        points += amount * paid * Fraction(rule.points, rule.per_rial)
        credit += amount * paid * Fraction(rule.credit_bp, BP_ONE)
    multiplier = Fraction(tier.multiplier_bp, BP_ONE)
    return points * multiplier, credit * multiplier


@given(policies, baskets, tiers, st.integers(1, 1_000), st.data())
def test_earning_is_bounded_by_the_rule_rates(
    policy: ClubPolicy,
    lines: list[tuple[str, int]],
    tier: Tier,
    visit: int,
    data: st.DataObject,
) -> None:
    total = sum(amount for _, amount in lines)
    spent = data.draw(st.integers(0, total), label="spent")
    result = earn(policy, lines, spent=spent, tier=tier, visit=visit)

    for value in (
        result.points,
        result.credit_rial,
        result.frequency_points,
        result.frequency_credit_rial,
    ):
        assert type(value) is int
        assert value >= 0

    max_points, max_credit = _ceiling(policy, lines, spent, tier)
    assert result.points <= max_points
    assert result.credit_rial <= max_credit
    if policy.max_points_per_purchase is not None:
        assert result.points <= policy.max_points_per_purchase
    if policy.max_credit_per_purchase_rial is not None:
        assert result.credit_rial <= policy.max_credit_per_purchase_rial

    rewarded = policy.frequency is not None and visit % policy.frequency.every_visits == 0
    expected_frequency = (
        (policy.frequency.reward_points, policy.frequency.reward_credit_rial)
        if rewarded and policy.frequency is not None
        else (0, 0)
    )
    assert (result.frequency_points, result.frequency_credit_rial) == expected_frequency


@given(policies, baskets, tiers, st.data())
def test_spending_more_credit_never_increases_earning(
    policy: ClubPolicy, lines: list[tuple[str, int]], tier: Tier, data: st.DataObject
) -> None:
    total = sum(amount for _, amount in lines)
    less = data.draw(st.integers(0, total), label="less")
    more = data.draw(st.integers(less, total), label="more")
    low = earn(policy, lines, spent=more, tier=tier)
    high = earn(policy, lines, spent=less, tier=tier)
    assert low.points <= high.points
    assert low.credit_rial <= high.credit_rial
    assert (low.frequency_points, low.frequency_credit_rial) == (
        high.frequency_points,
        high.frequency_credit_rial,
    )


@given(policies, baskets, tiers)
def test_paying_everything_with_credit_earns_nothing(
    policy: ClubPolicy, lines: list[tuple[str, int]], tier: Tier
) -> None:
    total = sum(amount for _, amount in lines)
    result = earn(policy, lines, spent=total, tier=tier)
    assert (result.points, result.credit_rial) == (0, 0)


# --- max_credit_spend ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend_bp", "total", "available", "expected"),
    [
        (10_000, 100_000, 250_000, 100_000),
        (10_000, 100_000, 40_000, 40_000),
        (5_000, 100_000, 250_000, 50_000),
        (5_000, 100_000, 30_000, 30_000),
        (3_333, 1_001, 10**9, 333),  # 333.6333 -> 333
        (0, 100_000, 250_000, 0),
        (10_000, 100_000, 0, 0),
    ],
)
def test_max_credit_spend_examples(
    spend_bp: int, total: int, available: int, expected: int
) -> None:
    policy = make_policy(max_credit_spend_bp=spend_bp)
    assert max_credit_spend(policy, total, available) == expected


@given(st.integers(0, BP_ONE), st.integers(0, 10**12), st.integers(0, 10**12))
def test_max_credit_spend_respects_share_and_balance(
    spend_bp: int, total: int, available: int
) -> None:
    policy = make_policy(max_credit_spend_bp=spend_bp)
    allowed = max_credit_spend(policy, total, available)
    assert 0 <= allowed <= available
    assert allowed <= total
    assert allowed * BP_ONE <= total * spend_bp
    # As much as both limits allow, not less.
    assert allowed == available or (allowed + 1) * BP_ONE > total * spend_bp


# --- proportional_share ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "whole", "before", "now", "expected"),
    [
        (100, 1_000, 0, 1_000, 100),
        (100, 1_000, 0, 500, 50),
        (100, 1_000, 500, 500, 50),
        (10, 3, 0, 1, 3),  # floor(10/3)
        (10, 3, 1, 1, 3),  # floor(20/3) - 3
        (10, 3, 2, 1, 4),  # 10 - 6: the last refund takes the remainder
        (0, 1_000, 0, 1_000, 0),
    ],
)
def test_proportional_share_examples(
    value: int, whole: int, before: int, now: int, expected: int
) -> None:
    assert proportional_share(value, whole, before, now) == expected


@pytest.mark.parametrize(
    ("whole", "before", "now"),
    [
        (1_000, 0, 1_001),  # beyond the whole
        (1_000, 600, 401),  # cumulative beyond the whole
        (1_000, 1_000, 1),  # nothing left
        (1_000, 0, 0),  # non-positive now
        (1_000, 0, -5),
        (1_000, -1, 10),  # negative before
        (0, 0, 1),
    ],
)
def test_proportional_share_rejects_invalid_refunds(whole: int, before: int, now: int) -> None:
    with pytest.raises(ValueError, match="within the purchase"):
        proportional_share(100, whole, before, now)


@st.composite
def splits(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A positive whole and a split of it into positive parts (a series of refunds)."""
    parts = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=12))
    return sum(parts), parts


@given(st.integers(0, 10**15), splits())
def test_proportional_shares_of_a_full_series_sum_to_the_value(
    value: int, split: tuple[int, list[int]]
) -> None:
    whole, parts = split
    shares = []
    before = 0
    for now in parts:
        share = proportional_share(value, whole, before, now)
        assert share >= 0
        # Never more than the (rounded up) proportional part.
        assert share * whole <= value * now + whole
        shares.append(share)
        before += now
    assert sum(shares) == value


@given(st.integers(0, 10**15), splits(), st.integers(1, 10**9))
def test_refunding_beyond_the_whole_raises(
    value: int, split: tuple[int, list[int]], extra: int
) -> None:
    whole, parts = split
    before = sum(parts[:-1])
    with pytest.raises(ValueError, match="within the purchase"):
        proportional_share(value, whole, before, parts[-1] + extra)
