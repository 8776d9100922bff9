"""What the till asks before recording: a basket's earnings, previewed without writing
(``Query.purchasePreview`` in ``shop_node.api.schema``, beside the purchase's own input)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from mallnet.authz import guard_fields
from mallnet.gql import Points, Rial
from shop_node.api import types as t
from shop_node.api.access import STAFF
from shop_node.api.problems import InsufficientBalance, InvalidInput, NotFound
from shop_node.services import offer_till, till


@strawberry.type(description="What recording this basket now would earn; nothing is written.")
class PurchasePreview:
    tier: t.Tier = strawberry.field(description="The tier the purchase earns at.")
    visit_number: int
    earned_points: Points
    earned_credit_rial: Rial
    frequency_points: Points = strawberry.field(description="The punch-card reward, if due.")
    frequency_credit_rial: Rial
    total_points: Points = strawberry.field(description="earnedPoints + frequencyPoints.")
    total_credit_rial: Rial = strawberry.field(description="earnedCreditRial + frequency.")
    available_credit_rial: Rial
    spendable_rial: Rial = strawberry.field(description="What credit may pay for this basket.")
    policy_version: int
    offers: list[t.AppliedOffer] = strawberry.field(
        description="What the shop's live offers give this basket, in the order applied."
    )
    offer_discount_rial: Rial
    offer_points: Points
    offer_credit_rial: Rial
    charged_rial: Rial = strawberry.field(
        description="The basket after the offers' discounts: what credit, network value and "
        "money pay."
    )


PurchasePreviewResult = Annotated[
    PurchasePreview | InvalidInput | NotFound | InsufficientBalance,
    strawberry.union("PurchasePreviewResult"),
]


guard_fields(PurchasePreview, *STAFF)


def preview_of(p: till.Preview) -> PurchasePreview:
    e = p.earning
    return PurchasePreview(
        tier=t.tier_of(p.tier),
        visit_number=p.visit_number,
        earned_points=Points(e.points),
        earned_credit_rial=Rial(e.credit_rial),
        frequency_points=Points(e.frequency_points),
        frequency_credit_rial=Rial(e.frequency_credit_rial),
        total_points=Points(e.total_points),
        total_credit_rial=Rial(e.total_credit_rial),
        available_credit_rial=Rial(p.available_credit_rial),
        spendable_rial=Rial(p.spendable_rial),
        policy_version=p.policy_version,
        offers=[t.AppliedOffer.of(g) for g in offer_till.given_now(p.offered)],
        offer_discount_rial=Rial(p.offered.discount_rial),
        offer_points=Points(p.offered.points),
        offer_credit_rial=Rial(p.offered.credit_rial),
        charged_rial=Rial(p.charged_rial),
    )
