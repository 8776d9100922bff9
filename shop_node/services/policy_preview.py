"""What a basket would earn under a draft club policy, before the manager saves it.

The same arithmetic as a recorded purchase (``compute_earning``): one figure per tier
(a first visit, nothing paid with credit), the punch card's reward on its visit, and the
welcome gift of a shopper the purchase enrols. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop_node.domain.earning import Earning, Line, compute_earning
from shop_node.domain.errors import FieldProblem, InvalidInput
from shop_node.domain.policy import ClubPolicy, Tier, parse_policy

MAX_LINES = 50
# The same bound as an amount the API takes (the Rial scalar's JSON-safe range).
MAX_LINE_RIAL = 2**53 - 1


@dataclass(frozen=True)
class TierEarning:
    tier: Tier
    earning: Earning


@dataclass(frozen=True)
class PolicyPreview:
    policy: ClubPolicy
    total_rial: int
    by_tier: list[TierEarning]
    punch_card: Earning | None  # the reward on the punch card's visit (base tier)
    welcome_points: int
    welcome_credit_rial: int


def _check_basket(policy: ClubPolicy, lines: Sequence[Line]) -> None:
    problems: list[FieldProblem] = []
    if not 1 <= len(lines) <= MAX_LINES:
        problems.append(FieldProblem("basket", f"a basket has 1-{MAX_LINES} lines"))
    for i, line in enumerate(lines[:MAX_LINES]):
        if line.group not in policy.group_codes:
            problems.append(
                FieldProblem(f"basket[{i}].productGroup", "not a product group of this policy")
            )
        if not 1 <= line.amount_rial <= MAX_LINE_RIAL:
            problems.append(FieldProblem(f"basket[{i}].amountRial", "must be a positive amount"))
    if problems:
        raise InvalidInput(problems)


def preview_policy(document: object, lines: Sequence[Line]) -> PolicyPreview:
    """Validate ``document`` as a policy (problems at their fields, as saving would) and
    price ``lines`` under it."""
    policy = parse_policy(document)
    _check_basket(policy, lines)
    by_tier = [
        TierEarning(
            tier, compute_earning(policy, lines, credit_spent_rial=0, tier=tier, visit_number=1)
        )
        for tier in policy.tiers
    ]
    punch = None
    if policy.frequency is not None:
        punch = compute_earning(
            policy,
            lines,
            credit_spent_rial=0,
            tier=policy.tiers[0],
            visit_number=policy.frequency.every_visits,
        )
    welcome = policy.open_club
    return PolicyPreview(
        policy=policy,
        total_rial=sum(line.amount_rial for line in lines),
        by_tier=by_tier,
        punch_card=punch,
        welcome_points=policy.welcome_points if welcome else 0,
        welcome_credit_rial=policy.welcome_credit_rial if welcome else 0,
    )
