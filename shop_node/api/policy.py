"""The club policy's editor: what a basket earns under a draft before it is saved, and the
versions saved so far (newest first, paged). ``clubPolicy`` and ``updateClubPolicy`` live
with the rest of the node's schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from mallnet.authz import guard_fields, requires
from mallnet.gql import JSONDocument, Points, Rial
from mallnet.gql_limits import page_size
from shop_node.api import types as t
from shop_node.api.access import MANAGE, STAFF, runtime
from shop_node.api.problems import InvalidInput, attempt
from shop_node.domain.earning import Earning, Line
from shop_node.services import policy
from shop_node.services.policy_preview import PolicyPreview, preview_policy


@strawberry.input(description="A line of the basket to price: its product group and amount.")
class PreviewLineInput:
    product_group: str
    amount_rial: Rial


@strawberry.type(description="Points and credit one purchase earns.")
class EarningFigures:
    points: Points
    credit_rial: Rial

    @classmethod
    def of(cls, points: int, credit_rial: int) -> EarningFigures:
        return cls(points=Points(points), credit_rial=Rial(credit_rial))


@strawberry.type(description="What the basket earns a member of one tier.")
class TierEarning:
    tier: t.Tier
    earning: EarningFigures


@strawberry.type(description="What a basket earns under a draft policy (nothing is saved).")
class ClubPolicyPreview:
    total_rial: Rial
    by_tier: list[TierEarning] = strawberry.field(
        description="Each tier, on an ordinary visit with nothing paid by credit."
    )
    punch_card_every_visits: int | None
    punch_card_reward: EarningFigures | None = strawberry.field(
        description="The punch card's reward alone, on its visit (null without a punch card)."
    )
    welcome: EarningFigures = strawberry.field(
        description="The welcome gift of a shopper this purchase enrols (zero in a closed club)."
    )


@strawberry.type(description="One saved version of the club policy.")
class ClubPolicyVersion:
    version: int
    created_at: dt.datetime
    created_by: str
    document: JSONDocument


@strawberry.type
class ClubPolicyVersionPage:
    items: list[ClubPolicyVersion]
    total_count: int
    next_before: int | None = strawberry.field(
        description="Pass as 'before' for the next, older page; null on the last page."
    )


for _previewed in (EarningFigures, TierEarning, ClubPolicyPreview):
    guard_fields(_previewed, *MANAGE)
for _listed in (ClubPolicyVersion, ClubPolicyVersionPage):
    guard_fields(_listed, *STAFF)

ClubPolicyPreviewResult = Annotated[
    ClubPolicyPreview | InvalidInput, strawberry.union("ClubPolicyPreviewResult")
]


def _figures(earning: Earning) -> EarningFigures:
    return EarningFigures.of(earning.points, earning.credit_rial)


def _preview_view(found: PolicyPreview) -> ClubPolicyPreview:
    punch = found.punch_card
    frequency = found.policy.frequency
    return ClubPolicyPreview(
        total_rial=Rial(found.total_rial),
        by_tier=[
            TierEarning(tier=t.tier_of(x.tier), earning=_figures(x.earning)) for x in found.by_tier
        ],
        punch_card_every_visits=None if frequency is None else frequency.every_visits,
        punch_card_reward=(
            None
            if punch is None
            else EarningFigures.of(punch.frequency_points, punch.frequency_credit_rial)
        ),
        welcome=EarningFigures.of(found.welcome_points, found.welcome_credit_rial),
    )


@strawberry.type
class PolicyQuery:
    @strawberry.field(
        extensions=requires(*MANAGE),
        description="What a basket would earn under a draft policy; the draft's problems come "
        "back at their fields, as saving it would report them. Nothing is saved.",
    )
    async def club_policy_preview(
        self, document: JSONDocument, basket: list[PreviewLineInput]
    ) -> ClubPolicyPreviewResult:
        lines = [Line(x.product_group, x.amount_rial) for x in basket]

        async def preview() -> ClubPolicyPreview:
            return _preview_view(preview_policy(document, lines))

        return await attempt(preview)

    @strawberry.field(
        extensions=requires(*STAFF), description="Saved versions of the club policy, newest first."
    )
    async def club_policy_versions(
        self, info: strawberry.Info, first: int = 10, before: int | None = None
    ) -> ClubPolicyVersionPage:
        size = page_size(first, policy.MAX_VERSIONS_PAGE)
        found = await runtime(info).read(lambda s: policy.policy_versions(s, size, before))
        return ClubPolicyVersionPage(
            items=[
                ClubPolicyVersion(
                    version=row.version,
                    created_at=row.created_at,
                    created_by=row.created_by,
                    document=JSONDocument(row.document),
                )
                for row in found.items
            ],
            total_count=found.total_count,
            next_before=found.next_before,
        )
