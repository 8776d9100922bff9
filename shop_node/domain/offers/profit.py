"""What an offer costs the shop and what it leaves, from the margin of each product group
(the club policy's ``margin_bp``), before it goes live.

The reasoning is seed 001's shoe shop: a 200,000 toman pair earns the shop 30%, 60,000
toman; the club gives 10% credit, 20,000 toman, which costs the shop only when the shopper
spends it on a later visit — counted here at its face value, as if spent. So the shop keeps
40,000 toman. An offer of 20% credit instead of 10% above 600,000 toman: on 600,000 toman
the margin is 180,000, the credit 120,000, and the shop still keeps 60,000 — more than on
the small basket, and the shopper has a reason to come back.

``basket_economics`` prices one basket with and without the offer; ``group_margins`` is
the check before activation: for each product group the offer can reward, the margin
against the most the club and the offer together give there (the highest tier's
multiplier on the club's credit, the offer's discount and extra credit). An offer that
leaves a negative margin in any group sells below margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop_node.domain.earning import Line, compute_earning
from shop_node.domain.offers.definition import All, BasketAmount, Condition, Offer
from shop_node.domain.offers.rewards import BP_ONE, Candidate, give
from shop_node.domain.policy import ClubPolicy, Tier


@dataclass(frozen=True)
class Economics:
    """One basket: what the shop earns on it and what the club and the offer give."""

    basket_rial: int
    margin_rial: int
    discount_rial: int
    club_credit_rial: int
    offer_credit_rial: int
    bonus_points: int

    @property
    def left_rial(self) -> int:
        """Margin left once the discount is given and all credit is spent."""
        return (
            self.margin_rial - self.discount_rial - self.club_credit_rial - self.offer_credit_rial
        )


@dataclass(frozen=True)
class BasketCheck:
    without: Economics
    with_offer: Economics

    @property
    def cost_rial(self) -> int:
        return self.without.left_rial - self.with_offer.left_rial

    @property
    def below_margin(self) -> bool:
        return self.with_offer.left_rial < 0


def basket_economics(
    policy: ClubPolicy, offer: Offer, lines: Sequence[tuple[str, int]], tier: Tier | None = None
) -> BasketCheck:
    """``lines`` ((group, Rial)) priced without and with ``offer`` given in full, for a
    member of ``tier`` (the base tier if None), paying no club credit."""
    tier = tier or policy.tiers[0]
    margin = sum(amount * _margin(policy, group) // BP_ONE for group, amount in lines)
    total = sum(amount for _group, amount in lines)
    club = compute_earning(
        policy, [Line(g, a) for g, a in lines], credit_spent_rial=0, tier=tier, visit_number=1
    )
    without = Economics(total, margin, 0, club.credit_rial, 0, 0)
    given = give([Candidate("offer", offer)], lines)
    discount = sum(g.discount_rial for g in given)
    # The club earns on what is paid: after the offer's discount.
    paid_lines = _after_discount(offer, lines)
    club_after = (
        compute_earning(
            policy,
            [Line(g, a) for g, a in paid_lines],
            credit_spent_rial=0,
            tier=tier,
            visit_number=1,
        )
        if sum(a for _g, a in paid_lines) > 0
        else None
    )
    with_offer = Economics(
        total,
        margin,
        discount,
        club_after.credit_rial if club_after else 0,
        sum(g.credit_rial for g in given),
        sum(g.bonus_points for g in given),
    )
    return BasketCheck(without, with_offer)


@dataclass(frozen=True)
class GroupMargin:
    group: str
    margin_bp: int
    club_credit_bp: int  # at the highest tier
    # The offers' part: the largest discount, every extra credit, and fixed credit as a
    # share of the smallest basket it is given on — this offer's with the live offers it
    # stacks with.
    offer_bp: int

    @property
    def left_bp(self) -> int:
        return self.margin_bp - self.club_credit_bp - self.offer_bp

    @property
    def below_margin(self) -> bool:
        return self.left_bp < 0


def group_margins(
    policy: ClubPolicy, offer: Offer, others: Sequence[Offer] = ()
) -> list[GroupMargin]:
    """Each product group the offer's money rewards reach, worst case: the club's credit at
    its highest multiplier plus what this offer and the live ``others`` give there
    together (discounts do not add up: the largest; credit does), against the group's
    margin. Bonus points have no price on the node and are left out."""
    reward = offer.reward
    if not (reward.discount_bp or reward.extra_credit_bp or reward.fixed_credit_rial):
        return []
    top = max(t.multiplier_bp for t in policy.tiers)
    groups = reward.groups or [g.code for g in policy.product_groups]
    everyone = [offer, *others]
    found = []
    for group in groups:
        club = policy.rule_for(group).credit_bp * top // BP_ONE
        reaching = [o for o in everyone if o.reward.groups is None or group in o.reward.groups]
        offers_bp = (
            max(o.reward.discount_bp for o in reaching)
            + sum(o.reward.extra_credit_bp for o in reaching)
            + sum(_fixed_share_bp(o) for o in reaching)
        )
        found.append(GroupMargin(group, _margin(policy, group), club, offers_bp))
    return found


def _fixed_share_bp(offer: Offer) -> int:
    """Fixed credit as a share of the smallest basket the offer is given on (its ``when``
    asks at least that much); with no such bound it may be the whole basket."""
    fixed = offer.reward.fixed_credit_rial
    if not fixed:
        return 0
    smallest = min_basket_rial(offer.when)
    if not smallest:
        return BP_ONE
    return min(BP_ONE, -(-fixed * BP_ONE // smallest))


def min_basket_rial(condition: Condition | None) -> int | None:
    """The least basket ``condition`` lets through, when it says (at its top or under all)."""
    if isinstance(condition, BasketAmount):
        if condition.gte is not None:
            return condition.gte
        return None if condition.gt is None else condition.gt + 1
    if isinstance(condition, All):
        bounds = [b for c in condition.of if (b := min_basket_rial(c)) is not None]
        return max(bounds) if bounds else None
    return None


def _margin(policy: ClubPolicy, group: str) -> int:
    for product_group in policy.product_groups:
        if product_group.code == group:
            return product_group.margin_bp
    raise ValueError(f"{group!r} is not a product group of the club")


def _after_discount(offer: Offer, lines: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    share = offer.reward.discount_bp
    groups = offer.reward.groups
    return [
        (g, a - (a * share // BP_ONE if groups is None or g in groups else 0)) for g, a in lines
    ]
