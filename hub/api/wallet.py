"""A shopper's wallet over GraphQL: her network value by kind, the shops' own club balances,
what expires soon, and her value history — and the small pieces every value field shares
(shop names, Jalali times, the kinds of value)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import LocalBalance
from hub.services import value
from mallnet.authz import guard_fields
from mallnet.gql import Amount, Points, Rial
from mallnet.gql_limits import page_size
from mallnet.jalali import to_jalali_str
from mallnet.scopes import Scope

WALLET_READERS = (Scope.SHOPPER_READ, Scope.MALL_ADMIN, Scope.MALL_REPORTS)


def jalali(at: dt.datetime) -> str:
    """The Jalali date of a moment, in Tehran."""
    return to_jalali_str(at)


@strawberry.enum(description="The kinds of network value.")
class NetworkValueKind(Enum):
    POOLED_POINTS = "pooled_points"
    GENERAL_CREDIT = "general_credit"
    TARGETED_CREDIT = "targeted_credit"


@strawberry.type(description="A shop, by name.")
class ShopRef:
    slug: str
    name_fa: str
    name_en: str


Names = dict[str, tuple[str, str]]


def shop_ref(names: Names, slug: str | None) -> ShopRef | None:
    if slug is None:
        return None
    fa, en = names.get(slug, (slug, slug))
    return ShopRef(slug=slug, name_fa=fa, name_en=en)


@strawberry.type(description="Network credit spendable in the same places.")
class NetworkCredit:
    kind: NetworkValueKind
    available_rial: Rial
    held_rial: Rial = strawberry.field(description="Reserved by holds not yet captured.")
    everywhere: bool
    spendable_at: list[ShopRef] = strawberry.field(description="When not everywhere.")
    accepted_category: str | None = strawberry.field(
        description="Spendable at every shop of this category."
    )


@strawberry.type(description="The shopper's tier in a shop's club, as the shop last reported it.")
class ClubTier:
    code: str
    name_fa: str
    name_en: str
    basis: str = strawberry.field(
        description="What the club's tiers count: earned_points (points earned, less those "
        "refunds took back) or spend_12m (Rial spent in the last 12 months, less refunds)."
    )
    metric: Amount = strawberry.field(description="Her count so far, in the basis's unit.")
    next_name_fa: str | None = strawberry.field(description="The next tier up; null at the top.")
    next_name_en: str | None
    next_threshold: Amount | None = strawberry.field(
        description="The metric that reaches the next tier (null at the top)."
    )


def club_tier(row: LocalBalance) -> ClubTier | None:
    """The tier of a club balance row, if its shop reported one (older nodes do not)."""
    if (
        row.tier_code is None
        or row.tier_name_fa is None
        or row.tier_name_en is None
        or row.tier_basis is None
        or row.tier_metric is None
    ):
        return None
    return ClubTier(
        code=row.tier_code,
        name_fa=row.tier_name_fa,
        name_en=row.tier_name_en,
        basis=row.tier_basis,
        metric=Amount(row.tier_metric),
        next_name_fa=row.next_tier_name_fa,
        next_name_en=row.next_tier_name_en,
        next_threshold=None if row.next_tier_threshold is None else Amount(row.next_tier_threshold),
    )


@strawberry.type(description="A shop's own club balance, as the shop last reported it.")
class LocalClubBalance:
    shop: ShopRef
    points: Points
    credit_rial: Rial
    updated_at: dt.datetime
    tier: ClubTier | None = strawberry.field(
        description="Her tier in that club; null when the shop has not reported one."
    )


@strawberry.type(description="Value that expires soon if not spent.")
class ExpiringValue:
    kind: NetworkValueKind
    issuer: ShopRef
    amount: Points = strawberry.field(description="Points, or Rial for credit.")
    value_rial: Rial
    expires_at: dt.datetime
    expires_on_jalali: str


@strawberry.type(description="A shopper's network value and club balances.")
class NetworkWallet:
    pooled_points: Points = strawberry.field(description="Spendable pooled points.")
    pooled_points_held: Points
    pooled_value_rial: Rial = strawberry.field(description="What the spendable points are worth.")
    point_value_rial: Rial = strawberry.field(description="A new pooled point's value now.")
    credit: list[NetworkCredit]
    credit_rial: Rial = strawberry.field(description="All spendable network credit.")
    total_value_rial: Rial = strawberry.field(description="Pooled points' worth plus credit.")
    local_balances: list[LocalClubBalance]
    expiring: list[ExpiringValue] = strawberry.field(description="Within the next 30 days.")


@strawberry.type(description="One change of a shopper's network value.")
class NetworkValueEntry:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="issue, hold, capture, release, expire, refund or clawback."
    )
    shop: ShopRef | None
    reason: str
    points: Points
    credit_rial: Rial
    value_rial: Rial
    hold_id: str | None
    at: dt.datetime
    on_jalali: str


async def wallet(session: AsyncSession, pseudonym: str) -> NetworkWallet:
    now = dt.datetime.now(dt.UTC)
    summary = await value.summary(session, pseudonym, now)
    names = await value.shop_names(session)
    rate = await value.point_value_at(session, now)
    credit = [
        NetworkCredit(
            kind=NetworkValueKind(b.kind),
            available_rial=Rial(b.available),
            held_rial=Rial(b.held),
            everywhere=not b.accepted_shops and b.accepted_category is None,
            spendable_at=[r for s in b.accepted_shops if (r := shop_ref(names, s))],
            accepted_category=b.accepted_category,
        )
        for b in summary.credit
    ]
    credit_total = sum(b.available for b in summary.credit)
    return NetworkWallet(
        pooled_points=Points(summary.pooled.available),
        pooled_points_held=Points(summary.pooled.held),
        pooled_value_rial=Rial(summary.pooled.value_rial),
        point_value_rial=Rial(rate),
        credit=credit,
        credit_rial=Rial(credit_total),
        total_value_rial=Rial(summary.pooled.value_rial + credit_total),
        local_balances=[
            LocalClubBalance(
                shop=shop_ref(names, row.shop) or ShopRef(slug=row.shop, name_fa="", name_en=""),
                points=Points(row.points),
                credit_rial=Rial(row.credit_rial),
                updated_at=row.updated_at,
                tier=club_tier(row),
            )
            for row in summary.local
        ],
        expiring=[
            ExpiringValue(
                kind=NetworkValueKind(e.kind),
                issuer=shop_ref(names, e.issuer) or ShopRef(slug=e.issuer, name_fa="", name_en=""),
                amount=Points(e.available),
                value_rial=Rial(e.value_rial),
                expires_at=e.expires_at,
                expires_on_jalali=jalali(e.expires_at),
            )
            for e in summary.expiring
        ],
    )


async def value_history(
    session: AsyncSession, pseudonym: str, first: int, before: int | None
) -> list[NetworkValueEntry]:
    rows = await value.history(session, pseudonym, page_size(first, 200), before)
    names = await value.shop_names(session) if rows else {}
    return [
        NetworkValueEntry(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            shop=shop_ref(names, row.shop),
            reason=row.reason,
            points=Points(row.points),
            credit_rial=Rial(row.credit_rial),
            value_rial=Rial(row.value_rial),
            hold_id=row.hold_id,
            at=row.created_at,
            on_jalali=jalali(row.created_at),
        )
        for row in rows
    ]


guard_fields(ShopRef, *WALLET_READERS, Scope.NODE_FEDERATE)
for wallet_part in (
    NetworkCredit,
    LocalClubBalance,
    ClubTier,
    ExpiringValue,
    NetworkWallet,
    NetworkValueEntry,
):
    guard_fields(wallet_part, *WALLET_READERS)
