"""The node's GraphQL output types, mapped from the domain's rows and outcomes."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Any

import strawberry

from graphql import GraphQLError
from mallnet.authz import guard_fields
from mallnet.gql import Amount, JSONDocument, Points, Rial
from mallnet.gql_limits import page_size
from mallnet.jalali import tehran_date, to_jalali_str
from mallnet.phone import local_format
from shop_node.api.access import STAFF, runtime
from shop_node.api.loaders import loaders
from shop_node.db import models
from shop_node.services import members as member_service
from shop_node.services import offer_till, till

# A row id as a page cursor: ASCII digits only (str.isdigit() takes '²', which int()
# refuses) and at most 18 of them (below BIGINT's limit, which the database would refuse).
_ROW_ID = re.compile(r"[0-9]{1,18}")


def _is_row_id(value: object) -> bool:
    return _ROW_ID.fullmatch(str(value)) is not None


@strawberry.enum
class MembershipType(Enum):
    INDIVIDUAL = "individual"
    COMPANY = "company"
    EMPLOYEE = "employee"


@strawberry.enum
class LedgerReason(Enum):
    WELCOME = "welcome"
    PURCHASE = "purchase"
    FREQUENCY = "frequency"
    SPEND = "spend"
    REFUND = "refund"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"


@strawberry.type
class Consents:
    sms: bool
    promotional: bool
    partner_sharing: bool = strawberry.field(
        description="May the hub share this member's contact with partner shops?"
    )


@strawberry.type
class Balances:
    points: Points
    credit_rial: Rial


@strawberry.type
class Tier:
    code: str
    name_fa: str
    name_en: str
    threshold: Amount = strawberry.field(description="Earned points, or Rial of 12-month spend.")
    multiplier_bp: int = strawberry.field(description="10000 = x1, 15000 = x1.5.")


@strawberry.type
class TierStatus:
    current: Tier
    basis: str = strawberry.field(description="earned_points or spend_12m.")
    metric: Amount = strawberry.field(description="Earned points, or Rial spent in 12 months.")
    next: Tier | None
    to_next: Amount | None = strawberry.field(description="How much more metric reaches next.")


@strawberry.type
class HistoryEntry:
    id: strawberry.ID
    at: dt.datetime
    at_jalali: str
    reason: LedgerReason
    reference: str
    memo: str | None
    actor: str
    points_delta: Points
    credit_delta_rial: Rial


def tier_of(value: Any) -> Tier:
    return Tier(
        code=value.code,
        name_fa=value.name_fa,
        name_en=value.name_en,
        threshold=Amount(value.threshold),
        multiplier_bp=value.multiplier_bp,
    )


@strawberry.type
class Member:
    row: strawberry.Private[models.Member]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def card_code(self) -> str:
        return self.row.card_code

    @strawberry.field(description="E.164, e.g. +989121234567.")
    def phone(self) -> str:
        return self.row.phone

    @strawberry.field(description="As Iranians write it, e.g. 09121234567.")
    def phone_local(self) -> str:
        return local_format(self.row.phone)

    @strawberry.field
    def name(self) -> str | None:
        return self.row.name

    @strawberry.field
    def birthday(self) -> dt.date | None:
        return self.row.birthday

    @strawberry.field
    def birthday_jalali(self) -> str | None:
        return None if self.row.birthday is None else to_jalali_str(self.row.birthday)

    @strawberry.field
    def membership_type(self) -> MembershipType:
        return MembershipType(self.row.membership_type)

    @strawberry.field
    async def company(
        self, info: strawberry.Info
    ) -> Annotated[Member, strawberry.lazy("shop_node.api.types")] | None:
        if self.row.company_id is None:
            return None
        return Member(row=await loaders(info).member.load(self.row.company_id))

    @strawberry.field
    def consents(self) -> Consents:
        return Consents(
            sms=self.row.consent_sms,
            promotional=self.row.consent_promotional,
            partner_sharing=self.row.consent_partner_sharing,
        )

    @strawberry.field
    def tags(self) -> list[str]:
        return list(self.row.tags)

    @strawberry.field
    def joined_at(self) -> dt.datetime:
        return self.row.joined_at

    @strawberry.field
    def joined_at_jalali(self) -> str:
        return to_jalali_str(tehran_date(self.row.joined_at))

    @strawberry.field(description="purchase (auto-enrolled at the till), staff or partner.")
    def joined_via(self) -> str:
        return self.row.joined_via

    @strawberry.field
    async def balances(self, info: strawberry.Info) -> Balances:
        accounts = await loaders(info).balances.load(self.row.id)
        return Balances(points=Points(accounts.points), credit_rial=Rial(accounts.rial))

    @strawberry.field
    async def tier(self, info: strawberry.Info) -> TierStatus:
        standing = await loaders(info).tier.load(self.row.id)
        return TierStatus(
            current=tier_of(standing.current),
            basis=standing.basis,
            metric=Amount(standing.metric),
            next=None if standing.next is None else tier_of(standing.next),
            to_next=None if standing.to_next is None else Amount(standing.to_next),
        )

    @strawberry.field(description="Every change of points and credit, newest first.")
    async def history(
        self, info: strawberry.Info, first: int = 20, before: strawberry.ID | None = None
    ) -> list[HistoryEntry]:
        first = page_size(first, 200)
        if before is not None and not _is_row_id(before):
            raise GraphQLError(
                "history(before:) takes the id of a history entry",
                extensions={"code": "INVALID_INPUT"},
            )
        entries = await runtime(info).read(
            lambda s: member_service.member_history(
                s, self.row.id, first=first, before=None if before is None else int(before)
            )
        )
        return [
            HistoryEntry(
                id=strawberry.ID(str(e.transaction_id)),
                at=e.created_at,
                at_jalali=to_jalali_str(tehran_date(e.created_at)),
                reason=LedgerReason(e.reason),
                reference=e.reference,
                memo=e.memo,
                actor=e.actor,
                points_delta=Points(e.points_delta),
                credit_delta_rial=Rial(e.credit_delta_rial),
            )
            for e in entries
        ]

    @strawberry.field(description="Purchases at this shop, newest first (to refund from).")
    async def purchases(
        self, info: strawberry.Info, first: int = 20, before: strawberry.ID | None = None
    ) -> list[Annotated[Purchase, strawberry.lazy("shop_node.api.types")]]:
        first = page_size(first, till.MAX_PAGE)
        if before is not None and not _is_row_id(before):
            raise GraphQLError(
                "purchases(before:) takes the id of a purchase",
                extensions={"code": "INVALID_INPUT"},
            )
        listed = await runtime(info).read(
            lambda s: till.member_purchases(
                s, self.row.id, first=first, before=None if before is None else int(before)
            )
        )
        return [Purchase.of(x.purchase, x.lines) for x in listed]


@strawberry.type
class PurchaseLine:
    product_group: str
    amount_rial: Rial


@strawberry.type(description="What one offer gave at a purchase (or, in a preview, would).")
class AppliedOffer:
    offer_id: strawberry.ID
    name_fa: str
    name_en: str
    discount_rial: Rial
    credit_rial: Rial
    bonus_points: Points

    @classmethod
    def of(cls, g: offer_till.GivenAt) -> AppliedOffer:
        return cls(
            offer_id=strawberry.ID(g.offer_id),
            name_fa=g.name_fa,
            name_en=g.name_en,
            discount_rial=Rial(g.discount_rial),
            credit_rial=Rial(g.credit_rial),
            bonus_points=Points(g.bonus_points),
        )


@strawberry.type
class Purchase:
    id: strawberry.ID
    receipt_id: str
    total_rial: Rial
    credit_spent_rial: Rial
    occurred_at: dt.datetime
    tier_code: str
    visit_number: int
    earned_points: Points
    earned_credit_rial: Rial
    frequency_points: Points
    frequency_credit_rial: Rial
    policy_version: int
    lines: list[PurchaseLine]
    network_paid_rial: Rial = strawberry.field(description="Paid with network value.")
    network_hold_id: str | None
    offer_discount_rial: Rial = strawberry.field(
        description="Taken off the basket by offers: totalRial and the lines are after it."
    )
    offer_points: Points = strawberry.field(description="Points offers added.")
    offer_credit_rial: Rial = strawberry.field(description="Credit offers added.")

    @strawberry.field(description="Refunded so far.")
    async def refunded_rial(self, info: strawberry.Info) -> Rial:
        return Rial(await loaders(info).refunded.load(int(self.id)))

    @strawberry.field(description="What each offer gave at this purchase.")
    async def offers(self, info: strawberry.Info) -> list[AppliedOffer]:
        return [AppliedOffer.of(g) for g in await loaders(info).offers.load(int(self.id))]

    @classmethod
    def of(cls, row: models.Purchase, lines: list[models.PurchaseLine]) -> Purchase:
        return cls(
            id=strawberry.ID(str(row.id)),
            receipt_id=row.receipt_id,
            total_rial=Rial(row.total_rial),
            credit_spent_rial=Rial(row.credit_spent_rial),
            occurred_at=row.occurred_at,
            tier_code=row.tier_code,
            visit_number=row.visit_number,
            earned_points=Points(row.earned_points),
            earned_credit_rial=Rial(row.earned_credit_rial),
            frequency_points=Points(row.frequency_points),
            frequency_credit_rial=Rial(row.frequency_credit_rial),
            policy_version=row.policy_version,
            network_paid_rial=Rial(row.network_paid_rial or 0),
            network_hold_id=row.network_hold_id,
            offer_discount_rial=Rial(row.offer_discount_rial or 0),
            offer_points=Points(row.offer_points or 0),
            offer_credit_rial=Rial(row.offer_credit_rial or 0),
            lines=[
                PurchaseLine(product_group=x.product_group, amount_rial=Rial(x.amount_rial))
                for x in lines
            ],
        )


@strawberry.type
class PurchaseRecorded:
    purchase: Purchase
    member: Member
    balances: Balances
    enrolled: bool = strawberry.field(description="This purchase enrolled the shopper.")
    replayed: bool = strawberry.field(
        description="The receipt was already recorded; nothing changed."
    )


@strawberry.type
class Refund:
    id: strawberry.ID
    refund_id: str
    receipt_id: str
    amount_rial: Rial
    reversed_points: Points
    reversed_credit_rial: Rial
    returned_credit_rial: Rial
    shortfall_points: Points = strawberry.field(description="Already spent; written off.")
    shortfall_credit_rial: Rial = strawberry.field(description="Already spent; written off.")
    lapsed_points: Points = strawberry.field(description="Had expired; nothing to take back.")
    lapsed_credit_rial: Rial = strawberry.field(description="Had expired; nothing to take back.")
    network_returned_rial: Rial = strawberry.field(
        description="Goes back to the shopper's network value (the hub returns it)."
    )


@strawberry.type
class RefundRecorded:
    refund: Refund
    member: Member
    balances: Balances
    replayed: bool


@strawberry.type
class CreditQuote:
    member: Member
    available_credit_rial: Rial
    spendable_rial: Rial = strawberry.field(description="What may pay for this purchase.")
    points: Points
    tier: Tier
    charged_rial: Rial | None = strawberry.field(
        default=None, description="With lines: the basket after the offers' discounts."
    )
    offers: list[AppliedOffer] = strawberry.field(
        default_factory=list, description="With lines: what the shop's live offers give it."
    )


@strawberry.type
class MemberPage:
    items: list[Member]
    end_cursor: str | None
    has_next_page: bool
    total_count: int


@strawberry.type
class AdjustmentRecorded:
    transaction_id: strawberry.ID
    member: Member
    balances: Balances
    replayed: bool


@strawberry.type
class ProductGroup:
    code: str
    name_fa: str
    name_en: str
    margin_bp: int


@strawberry.type
class ClubPolicy:
    version: int
    open_club: bool
    product_groups: list[ProductGroup]
    tiers: list[Tier]
    document: JSONDocument = strawberry.field(description="The whole policy, as edited.")


@strawberry.type
class PolicyUpdated:
    policy: ClubPolicy


def policy_view(version: int, policy: Any) -> ClubPolicy:
    return ClubPolicy(
        version=version,
        open_club=policy.open_club,
        product_groups=[
            ProductGroup(code=g.code, name_fa=g.name_fa, name_en=g.name_en, margin_bp=g.margin_bp)
            for g in policy.product_groups
        ],
        tiers=[tier_of(t) for t in policy.tiers],
        document=JSONDocument(policy.model_dump(mode="json")),
    )


def balances(points: int, rial: int) -> Balances:
    return Balances(points=Points(points), credit_rial=Rial(rial))


for _type in (
    Consents,
    Balances,
    Tier,
    TierStatus,
    HistoryEntry,
    Member,
    PurchaseLine,
    AppliedOffer,
    Purchase,
    PurchaseRecorded,
    Refund,
    RefundRecorded,
    CreditQuote,
    MemberPage,
    AdjustmentRecorded,
    ProductGroup,
    ClubPolicy,
    PolicyUpdated,
):
    guard_fields(_type, *STAFF)
