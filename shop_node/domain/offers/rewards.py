"""What the offers that apply to a purchase give, in a stated order by a stated rule.

Order: the member's one-time grants first (the soonest deadline first), then permanent
offers by priority (lower first), ties by id.

Stacking:
1. Discounts do not add up: on each line only the largest discount share of the offers
   that apply to it is given (the earlier offer in the order on a tie), by that offer.
2. Extra credit, bonus points and fixed credit of every offer that applies add up.
   Extra credit is a share of what the shopper pays for the offer's lines: the line after
   its discount, less its part of any club credit spent on the purchase.
3. Each offer gives at most what is left of its budget (discount first, then credit).
4. All offer credit together never exceeds what the shopper pays.
Every amount is an integer, rounded down; nothing is ever negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shop_node.domain.offers.definition import Offer

BP_ONE = 10_000


@dataclass(frozen=True)
class Candidate:
    """An offer that holds for this member and purchase: ``grant`` names the one-time
    grant it uses (None: a permanent offer); ``deadline_key`` orders grants."""

    offer_id: str
    offer: Offer
    grant: str | None = None
    deadline_key: str = ""

    @property
    def order(self) -> tuple[int, str, int, str]:
        if self.grant is not None:
            return (0, self.deadline_key, 0, self.offer_id)
        return (1, "", self.offer.priority, self.offer_id)


@dataclass(frozen=True)
class Given:
    offer_id: str
    grant: str | None
    discount_rial: int
    credit_rial: int  # extra credit + fixed credit
    bonus_points: int

    @property
    def rial(self) -> int:
        return self.discount_rial + self.credit_rial


@dataclass(frozen=True)
class Applied:
    given: list[Given]
    lines: list[tuple[str, int]]  # the basket as charged: each line after its discount


def give(
    candidates: Sequence[Candidate],
    lines: Sequence[tuple[str, int]],
    *,
    credit_spent_rial: int = 0,
    budget_left: Mapping[str, int | None] | None = None,
) -> list[Given]:
    """What each candidate gives (``apply``'s ``given``)."""
    return apply(
        candidates, lines, credit_spent_rial=credit_spent_rial, budget_left=budget_left
    ).given


def apply(
    candidates: Sequence[Candidate],
    lines: Sequence[tuple[str, int]],
    *,
    credit_spent_rial: int = 0,
    budget_left: Mapping[str, int | None] | None = None,
) -> Applied:
    """What each candidate gives at a purchase of ``lines`` ((group, Rial), Rial ≥ 0) of
    which ``credit_spent_rial`` is paid with club credit or network value (at most what
    is left after discounts), and the lines as charged. Candidates that give nothing are
    left out."""
    total = sum(amount for _group, amount in lines)
    if total <= 0 or not 0 <= credit_spent_rial <= total or any(a < 0 for _g, a in lines):
        raise ValueError("lines must have a positive total covering the credit spent")
    ordered = sorted(candidates, key=lambda c: c.order)
    budgets = dict(budget_left or {})
    # The largest discount on each line, and which offer gives it (within its budget).
    best: list[tuple[int, int]] = []  # (discount_bp, index in ordered) per line
    for group, _amount in lines:
        share, winner = 0, -1
        for i, candidate in enumerate(ordered):
            bp = candidate.offer.reward.discount_bp if _covers(candidate.offer, group) else 0
            if bp > share:
                share, winner = bp, i
        best.append((share, winner))
    discounts = [0] * len(ordered)
    after: list[int] = []
    for (share, winner), (_group, amount) in zip(best, lines, strict=True):
        cut = amount * share // BP_ONE
        if winner >= 0:
            left = budgets.get(ordered[winner].offer_id)
            if left is not None:
                cut = min(cut, left)
                budgets[ordered[winner].offer_id] = left - cut
            discounts[winner] += cut
        after.append(amount - cut)
    paying_total = sum(after)
    # What the shopper pays for each line: after its discount, less its share of club
    # credit (rounded down per line, so the shares stay within what is paid).
    spent = min(credit_spent_rial, paying_total)
    paid = [line - (line * spent // paying_total if paying_total else 0) for line in after]
    given: list[Given] = []
    credit_room = paying_total - spent  # what the shopper pays
    for i, candidate in enumerate(ordered):
        reward = candidate.offer.reward
        base = sum(
            p for (group, _a), p in zip(lines, paid, strict=True) if _covers(candidate.offer, group)
        )
        credit = base * reward.extra_credit_bp // BP_ONE + reward.fixed_credit_rial
        credit = min(credit, credit_room)
        budget = budgets.get(candidate.offer_id)
        if budget is not None:
            credit = min(credit, budget)
            budgets[candidate.offer_id] = budget - credit
        credit_room -= credit
        if discounts[i] or credit or reward.bonus_points:
            given.append(
                Given(
                    candidate.offer_id, candidate.grant, discounts[i], credit, reward.bonus_points
                )
            )
    return Applied(given, [(g, a) for (g, _a), a in zip(lines, after, strict=True)])


def _covers(offer: Offer, group: str) -> bool:
    return offer.reward.groups is None or group in offer.reward.groups
