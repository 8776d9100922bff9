"""The node GraphQL schema (exported to ``graphql/node.graphql``).

Resolvers parse, authorise (each field names its scopes), call one service and map the
result; expected failures come back as typed problems.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

import mallnet
from mallnet.authz import public, requires
from mallnet.gql import JSONDocument, Points, Rial, ServerInfo, build_schema
from mallnet.gql_limits import page_size
from shop_node.api import types as t
from shop_node.api.access import MANAGE, OPERATE, STAFF, actor, runtime
from shop_node.api.activity import ActivityQuery
from shop_node.api.broadcast import BroadcastMutation, BroadcastQuery
from shop_node.api.campaigns import CampaignMutation, CampaignQuery
from shop_node.api.members import MemberMutation, MemberQuery
from shop_node.api.messages import MessageQuery
from shop_node.api.network import NetworkMutation, NetworkQuery
from shop_node.api.offers import OfferMutation, OfferQuery, OfferReportQuery
from shop_node.api.partnerships import PartnershipMutation, PartnershipQuery
from shop_node.api.policy import PolicyQuery
from shop_node.api.problems import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    MemberExists,
    NetworkValueProblem,
    NotFound,
    RefundExceedsPurchase,
    attempt,
)
from shop_node.api.settlement import SettlementQuery
from shop_node.api.staff import StaffMutation, StaffQuery
from shop_node.api.till import PurchasePreview, PurchasePreviewResult, preview_of
from shop_node.domain.earning import Line
from shop_node.services import adjustments, members, network, offer_till, policy, purchases, till
from shop_node.services.relay import hub_connection

RecordPurchaseResult = Annotated[
    t.PurchaseRecorded
    | InvalidInput
    | NotFound
    | IdempotencyConflict
    | InsufficientBalance
    | NetworkValueProblem,
    strawberry.union("RecordPurchaseResult"),
]
RefundPurchaseResult = Annotated[
    t.RefundRecorded | InvalidInput | NotFound | IdempotencyConflict | RefundExceedsPurchase,
    strawberry.union("RefundPurchaseResult"),
]
MemberResult = Annotated[t.Member | InvalidInput | NotFound, strawberry.union("MemberResult")]
EnrolMemberResult = Annotated[
    t.Member | InvalidInput | MemberExists, strawberry.union("EnrolMemberResult")
]
CreditQuoteResult = Annotated[
    t.CreditQuote | InvalidInput | NotFound, strawberry.union("CreditQuoteResult")
]
AdjustBalanceResult = Annotated[
    t.AdjustmentRecorded | InvalidInput | NotFound | IdempotencyConflict | InsufficientBalance,
    strawberry.union("AdjustBalanceResult"),
]
UpdatePolicyResult = Annotated[
    t.PolicyUpdated | InvalidInput, strawberry.union("UpdatePolicyResult")
]

NO_RIAL = Rial(0)


@strawberry.input(description="Exactly one of phone, cardCode or id.")
class MemberRefInput:
    phone: str | None = None
    card_code: str | None = None
    id: strawberry.ID | None = None

    def to_domain(self) -> members.MemberRef:
        member_id = None
        if self.id is not None:
            member_id = int(self.id) if str(self.id).isdigit() else -1
        return members.MemberRef(phone=self.phone, card_code=self.card_code, member_id=member_id)


@strawberry.input
class PurchaseLineInput:
    product_group: str
    amount_rial: Rial


@strawberry.input
class RecordPurchaseInput:
    receipt_id: str = strawberry.field(description="The POS receipt: the idempotency key.")
    total_rial: Rial
    lines: list[PurchaseLineInput]
    phone: str | None = None
    card_code: str | None = None
    credit_to_spend_rial: Rial = Rial(0)
    occurred_at: dt.datetime | None = None
    network_hold_id: str | None = strawberry.field(
        default=None, description="Pay part with network value held by holdNetworkValue."
    )
    network_rial: Rial | None = strawberry.field(
        default=None, description="How much of the hold to capture (all of it by default)."
    )

    def to_domain(self) -> purchases.PurchaseInput:
        return purchases.PurchaseInput(
            receipt_id=self.receipt_id,
            total_rial=self.total_rial,
            lines=[Line(x.product_group, x.amount_rial) for x in self.lines],
            phone=self.phone,
            card_code=self.card_code,
            credit_to_spend_rial=self.credit_to_spend_rial,
            occurred_at=self.occurred_at,
            network_hold_id=self.network_hold_id,
            network_rial=self.network_rial,
        )


@strawberry.input
class RefundPurchaseInput:
    refund_id: str = strawberry.field(description="Idempotency key of this refund.")
    receipt_id: str
    amount_rial: Rial | None = strawberry.field(
        default=None, description="Omit to refund everything still refundable."
    )
    reason: str | None = None


@strawberry.input
class EnrolMemberInput:
    phone: str
    name: str | None = None
    birthday: str | None = strawberry.field(
        default=None, description="Jalali (1370/05/12) or Gregorian (1991-08-03)."
    )
    membership_type: t.MembershipType = t.MembershipType.INDIVIDUAL
    company_card_code: str | None = None
    consent_sms: bool = True
    consent_promotional: bool = False
    consent_partner_sharing: bool = False
    tags: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateMemberInput:
    member: MemberRefInput
    name: str | None = None
    birthday: str | None = None
    consent_sms: bool | None = None
    consent_promotional: bool | None = None
    consent_partner_sharing: bool | None = None
    tags: list[str] | None = None


@strawberry.enum
class Asset(Enum):
    POINTS = "points"
    CREDIT = "rial"


@strawberry.input
class AdjustBalanceInput:
    member: MemberRefInput
    asset: Asset
    amount: Points = strawberry.field(description="Signed: points, or Rial for credit.")
    reason: str
    idempotency_key: str


@strawberry.type
class Query(
    MemberQuery,
    OfferQuery,
    OfferReportQuery,
    PolicyQuery,
    PartnershipQuery,
    NetworkQuery,
    SettlementQuery,
    CampaignQuery,
    StaffQuery,
    ActivityQuery,
    MessageQuery,
    BroadcastQuery,
):
    @strawberry.field(extensions=public(), description="Which server this is.")
    def server_info(self, info: strawberry.Info) -> ServerInfo:
        shop: str = info.context["state"].shop
        return ServerInfo(role="node", version=mallnet.__version__, shop=shop)

    @strawberry.field(extensions=requires(*STAFF), description="Look a member up.")
    async def member(self, info: strawberry.Info, ref: MemberRefInput) -> MemberResult:
        node = runtime(info)

        async def find() -> t.Member:
            row = await node.read(lambda s: members.get_member(s, ref.to_domain()))
            return t.Member(row=row)

        return await attempt(find)

    @strawberry.field(extensions=requires(*STAFF), description="Members, newest first.")
    async def members(
        self,
        info: strawberry.Info,
        search: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> t.MemberPage:
        cursor = int(after) if after and after.isdigit() else None
        page = await members.list_members(
            runtime(info), search=search, first=page_size(first, 200), after=cursor
        )
        return t.MemberPage(
            items=[t.Member(row=m) for m in page.members],
            end_cursor=None if page.end_cursor is None else str(page.end_cursor),
            has_next_page=page.has_next_page,
            total_count=page.total_count,
        )

    @strawberry.field(
        extensions=requires(*OPERATE), description="How much credit may pay for a purchase."
    )
    async def credit_quote(
        self,
        info: strawberry.Info,
        ref: MemberRefInput,
        total_rial: Rial,
        lines: Annotated[
            list[PurchaseLineInput] | None,
            strawberry.argument(
                description="The basket's lines: the quote then counts the offers' discounts."
            ),
        ] = None,
    ) -> CreditQuoteResult:
        basket = [Line(x.product_group, x.amount_rial) for x in lines or []]

        async def quote() -> t.CreditQuote:
            q = await purchases.quote_credit(runtime(info), ref.to_domain(), total_rial, basket)
            return t.CreditQuote(
                member=t.Member(row=q.member),
                available_credit_rial=Rial(q.available_credit_rial),
                spendable_rial=Rial(q.spendable_rial),
                points=Points(q.points_balance),
                tier=t.tier_of(q.tier),
                charged_rial=None if q.charged_rial is None else Rial(q.charged_rial),
                offers=(
                    []
                    if q.offered is None
                    else [t.AppliedOffer.of(g) for g in offer_till.given_now(q.offered)]
                ),
            )

        return await attempt(quote)

    @strawberry.field(
        extensions=requires(*OPERATE),
        description=(
            "What recordPurchase would earn for this member's basket now (the same"
            " arithmetic); records nothing."
        ),
    )
    async def purchase_preview(
        self,
        info: strawberry.Info,
        ref: MemberRefInput,
        total_rial: Rial,
        lines: list[PurchaseLineInput],
        credit_to_spend_rial: Rial = NO_RIAL,
        network_rial: Rial = NO_RIAL,
    ) -> PurchasePreviewResult:
        basket = till.BasketInput(
            total_rial=total_rial,
            lines=[Line(x.product_group, x.amount_rial) for x in lines],
            credit_to_spend_rial=credit_to_spend_rial,
            network_rial=network_rial,
        )

        async def preview() -> PurchasePreview:
            return preview_of(await till.preview_purchase(runtime(info), ref.to_domain(), basket))

        return await attempt(preview)

    @strawberry.field(extensions=requires(*STAFF), description="The club policy in force.")
    async def club_policy(self, info: strawberry.Info) -> t.ClubPolicy:
        node = runtime(info)
        version, current = await node.read(lambda s: policy.current_policy(s, node))
        return t.policy_view(version, current)


@strawberry.type
class Mutation(
    MemberMutation,
    OfferMutation,
    PartnershipMutation,
    NetworkMutation,
    CampaignMutation,
    StaffMutation,
    BroadcastMutation,
):
    @strawberry.mutation(
        extensions=requires(*OPERATE),
        description="Record a POS purchase (idempotent on receiptId); enrols new shoppers.",
    )
    async def record_purchase(
        self, info: strawberry.Info, input: RecordPurchaseInput
    ) -> RecordPurchaseResult:
        async def record() -> t.PurchaseRecorded:
            node = runtime(info)
            capture = None
            if input.network_hold_id is not None:
                hub = await hub_connection(node, info.context["state"].settings.public_hub_url)
                capture = network.capture_at(hub)
            o = await purchases.record_purchase(node, input.to_domain(), actor(info), capture)
            return t.PurchaseRecorded(
                purchase=t.Purchase.of(o.purchase, o.lines),
                member=t.Member(row=o.member),
                balances=t.balances(o.points_balance, o.credit_balance_rial),
                enrolled=o.enrolled,
                replayed=o.replayed,
            )

        return await attempt(record)

    @strawberry.mutation(
        extensions=requires(*OPERATE),
        description="Refund a purchase, fully or partly: reverses the value it created.",
    )
    async def refund_purchase(
        self, info: strawberry.Info, input: RefundPurchaseInput
    ) -> RefundPurchaseResult:
        async def refund() -> t.RefundRecorded:
            data = purchases.RefundInput(
                refund_key=input.refund_id,
                receipt_id=input.receipt_id,
                amount_rial=input.amount_rial,
                reason=input.reason,
            )
            o = await purchases.refund_purchase(runtime(info), data, actor(info))
            r = o.refund
            return t.RefundRecorded(
                refund=t.Refund(
                    id=strawberry.ID(str(r.id)),
                    refund_id=r.refund_key,
                    receipt_id=o.purchase.receipt_id,
                    amount_rial=Rial(r.amount_rial),
                    reversed_points=Points(r.reversed_points),
                    reversed_credit_rial=Rial(r.reversed_credit_rial),
                    returned_credit_rial=Rial(r.returned_credit_rial),
                    shortfall_points=Points(r.shortfall_points),
                    shortfall_credit_rial=Rial(r.shortfall_credit_rial),
                    lapsed_points=Points(r.lapsed_points),
                    lapsed_credit_rial=Rial(r.lapsed_credit_rial),
                    network_returned_rial=Rial(r.network_returned_rial),
                ),
                member=t.Member(row=o.member),
                balances=t.balances(o.points_balance, o.credit_balance_rial),
                replayed=o.replayed,
            )

        return await attempt(refund)

    @strawberry.mutation(extensions=requires(*OPERATE), description="Enrol a member by hand.")
    async def enrol_member(
        self, info: strawberry.Info, input: EnrolMemberInput
    ) -> EnrolMemberResult:
        async def enrol() -> t.Member:
            data = members.MemberInput(
                phone=input.phone,
                name=input.name,
                birthday=input.birthday,
                membership_type=input.membership_type.value,
                company_card_code=input.company_card_code,
                consent_sms=input.consent_sms,
                consent_promotional=input.consent_promotional,
                consent_partner_sharing=input.consent_partner_sharing,
                tags=input.tags,
            )
            return t.Member(row=await members.enrol_member(runtime(info), data, actor(info)))

        return await attempt(enrol)

    @strawberry.mutation(
        extensions=requires(*OPERATE), description="Change a member's details or consents."
    )
    async def update_member(self, info: strawberry.Info, input: UpdateMemberInput) -> MemberResult:
        async def update() -> t.Member:
            changes = members.MemberUpdate(
                name=input.name,
                birthday=input.birthday,
                consent_sms=input.consent_sms,
                consent_promotional=input.consent_promotional,
                consent_partner_sharing=input.consent_partner_sharing,
                tags=input.tags,
            )
            row = await members.update_member(
                runtime(info), input.member.to_domain(), changes, actor(info)
            )
            return t.Member(row=row)

        return await attempt(update)

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Give or take points or credit by hand; the reason is mandatory.",
    )
    async def adjust_balance(
        self, info: strawberry.Info, input: AdjustBalanceInput
    ) -> AdjustBalanceResult:
        async def adjust() -> t.AdjustmentRecorded:
            data = adjustments.AdjustmentInput(
                member=input.member.to_domain(),
                asset=input.asset.value,
                amount=input.amount,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            )
            o = await adjustments.adjust_balance(runtime(info), data, actor(info))
            return t.AdjustmentRecorded(
                transaction_id=strawberry.ID(str(o.transaction_id)),
                member=t.Member(row=o.member),
                balances=t.balances(o.points_balance, o.credit_balance_rial),
                replayed=o.replayed,
            )

        return await attempt(adjust)

    @strawberry.mutation(
        extensions=requires(*MANAGE), description="Replace the club policy (a new version)."
    )
    async def update_club_policy(
        self, info: strawberry.Info, document: JSONDocument
    ) -> UpdatePolicyResult:
        async def update() -> t.PolicyUpdated:
            version, new = await policy.update_policy(runtime(info), document, actor(info))  # type: ignore[arg-type]
            return t.PolicyUpdated(policy=t.policy_view(version, new))

        return await attempt(update)


schema = build_schema(Query, Mutation)
