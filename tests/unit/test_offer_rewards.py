"""What offers give at a purchase: the stated order and stacking rule, and properties over
any offers and baskets — nothing negative, never more than the basket, never over budget."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shop_node.domain.offers.definition import Offer
from shop_node.domain.offers.parsing import parse_offer
from shop_node.domain.offers.rewards import Candidate, give

GROUPS = ["a", "b", "c"]


def _offer(reward: dict[str, Any], *, kind: str = "permanent", priority: int = 100) -> Offer:
    document: dict[str, Any] = {
        "kind": kind,
        "name_fa": "آ",
        "name_en": "A",
        "reward": reward,
        "priority": priority,
    }
    if kind == "one_time":
        document |= {"audience": {"kind": "visits", "gte": 0}, "valid_days": 7}
    return parse_offer(document, GROUPS)


def test_discounts_do_not_add_up_the_largest_on_each_line_wins() -> None:
    ten = Candidate("ten", _offer({"discount_bp": 1_000}))
    twenty_on_b = Candidate("twenty-b", _offer({"discount_bp": 2_000, "groups": ["b"]}))
    given_ = {g.offer_id: g for g in give([ten, twenty_on_b], [("a", 1_000), ("b", 1_000)])}
    assert given_["ten"].discount_rial == 100  # line a only
    assert given_["twenty-b"].discount_rial == 200  # line b: 20% beats 10%


def test_credit_adds_up_on_what_is_paid_after_discounts_and_club_credit() -> None:
    off = Candidate("off", _offer({"discount_bp": 1_000}))
    more = Candidate("more", _offer({"extra_credit_bp": 1_000, "fixed_credit_rial": 50}))
    points = Candidate("points", _offer({"bonus_points": 7}))
    found = give([points, more, off], [("a", 10_000)], credit_spent_rial=4_000)
    by_id = {g.offer_id: g for g in found}
    assert by_id["off"].discount_rial == 1_000
    # paid: 9,000 after the discount, less 4,000 of club credit = 5,000; 10% + 50
    assert by_id["more"].credit_rial == 550
    assert by_id["points"].bonus_points == 7


def test_the_order_is_grants_by_deadline_then_permanent_offers_by_priority() -> None:
    late = Candidate("late", _offer({"discount_bp": 500}, kind="one_time"), "g2", "2026-12-20")
    soon = Candidate("soon", _offer({"discount_bp": 500}, kind="one_time"), "g1", "2026-12-10")
    first = Candidate("first", _offer({"discount_bp": 500}, priority=1))
    second = Candidate("second", _offer({"discount_bp": 500}, priority=2))
    # Equal discounts: the first in the order gives it
    found = give([second, first, late, soon], [("a", 1_000)])
    assert [g.offer_id for g in found] == ["soon"]
    found = give([second, first], [("a", 1_000)])
    assert [g.offer_id for g in found] == ["first"]


def test_a_budget_caps_what_an_offer_gives() -> None:
    rich = Candidate("rich", _offer({"discount_bp": 5_000, "extra_credit_bp": 5_000}))
    [given_] = give([rich], [("a", 10_000)], budget_left={"rich": 6_000})
    assert (given_.discount_rial, given_.credit_rial) == (5_000, 1_000)


rewards = st.fixed_dictionaries(
    {},
    optional={
        "extra_credit_bp": st.integers(0, 10_000),
        "discount_bp": st.integers(0, 9_000),
        "bonus_points": st.integers(0, 10_000),
        "fixed_credit_rial": st.integers(0, 10**9),
        "groups": st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3, unique=True),
    },
).filter(
    lambda r: any(
        r.get(k) for k in ("extra_credit_bp", "discount_bp", "bonus_points", "fixed_credit_rial")
    )
)


@settings(max_examples=300, deadline=None)
@given(
    offers=st.lists(st.tuples(rewards, st.one_of(st.none(), st.integers(0, 10**8))), max_size=5),
    lines=st.lists(
        st.tuples(st.sampled_from(GROUPS), st.integers(0, 10**9)), min_size=1, max_size=5
    ).filter(lambda ls: sum(a for _g, a in ls) > 0),
    spent_share=st.integers(0, 100),
)
def test_rewards_are_never_negative_nor_more_than_the_basket_or_the_budget(
    offers: list[tuple[dict[str, Any], int | None]],
    lines: list[tuple[str, int]],
    spent_share: int,
) -> None:
    total = sum(a for _g, a in lines)
    spent = total * spent_share // 100
    candidates = [Candidate(f"o{i}", _offer(r)) for i, (r, _b) in enumerate(offers)]
    budgets = {f"o{i}": b for i, (_r, b) in enumerate(offers)}
    found = give(candidates, lines, credit_spent_rial=spent, budget_left=budgets)
    for g in found:
        assert g.discount_rial >= 0
        assert g.credit_rial >= 0
        assert g.bonus_points >= 0
        budget = budgets[g.offer_id]
        assert budget is None or g.rial <= budget
    discounts = sum(g.discount_rial for g in found)
    assert discounts <= total
    # all offer credit within what the shopper pays after discounts and club credit
    paying = total - discounts
    assert sum(g.credit_rial for g in found) <= paying - min(spent, paying)
