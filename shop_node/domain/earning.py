"""What a purchase earns, and what a refund takes back: integer arithmetic, rounding down.

Earning is computed on what the shopper actually paid: each line's share of the amount
not covered by credit. Refunds reverse value in proportion to the refunded amount,
cumulatively, so a series of partial refunds adding up to the whole purchase reverses
exactly what the purchase created — never a Rial more or less.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop_node.domain.policy import ClubPolicy, Tier

BP_ONE = 10_000


@dataclass(frozen=True)
class Line:
    group: str
    amount_rial: int


@dataclass(frozen=True)
class Earning:
    points: int
    credit_rial: int
    frequency_points: int
    frequency_credit_rial: int

    @property
    def total_points(self) -> int:
        return self.points + self.frequency_points

    @property
    def total_credit_rial(self) -> int:
        return self.credit_rial + self.frequency_credit_rial


def compute_earning(
    policy: ClubPolicy,
    lines: Sequence[Line],
    *,
    credit_spent_rial: int,
    tier: Tier,
    visit_number: int,
) -> Earning:
    total = sum(line.amount_rial for line in lines)
    if total <= 0 or not 0 <= credit_spent_rial <= total:
        raise ValueError("lines must have a positive total covering the credit spent")
    paid = total - credit_spent_rial
    points = credit = 0
    for line in lines:
        eligible = line.amount_rial * paid // total
        rule = policy.rule_for(line.group)
        credit += eligible * rule.credit_bp // BP_ONE
        points += eligible * rule.points // rule.per_rial
    points = points * tier.multiplier_bp // BP_ONE
    credit = credit * tier.multiplier_bp // BP_ONE
    if policy.max_points_per_purchase is not None:
        points = min(points, policy.max_points_per_purchase)
    if policy.max_credit_per_purchase_rial is not None:
        credit = min(credit, policy.max_credit_per_purchase_rial)
    frequency_points = frequency_credit = 0
    if policy.frequency is not None and visit_number % policy.frequency.every_visits == 0:
        frequency_points = policy.frequency.reward_points
        frequency_credit = policy.frequency.reward_credit_rial
    return Earning(points, credit, frequency_points, frequency_credit)


def max_credit_spend(policy: ClubPolicy, total_rial: int, available_rial: int) -> int:
    """How much credit may pay for a purchase of ``total_rial``."""
    return min(available_rial, total_rial * policy.max_credit_spend_bp // BP_ONE)


def proportional_share(value: int, whole: int, before: int, now: int) -> int:
    """The part of ``value`` that refunding ``now`` more (``before`` already refunded) of a
    ``whole`` reverses. Cumulative floors: shares of a full series sum to ``value``."""
    if not (before >= 0 and now > 0 and before + now <= whole):
        raise ValueError("refund amounts must stay within the purchase")
    return value * (before + now) // whole - value * before // whole
