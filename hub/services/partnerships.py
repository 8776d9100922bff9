"""Partnerships between shops, and the referrals they make.

Shop B publishes an offer to welcome customers of chosen shops (or of a category), on
conditions; shop A opts in to referring. When a purchase at A meets an active agreement
and the shopper consented at A to be introduced to partners, the hub sends B a command
to enrol them with the offer's welcome — once per shopper and offer, within the offer's
monthly cap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import EnrolMember, PurchaseRecorded
from federation.ids import new_event_id
from hub.db.models import Membership, PartnerOffer, PartnerOptIn, Referral, Shop, Shopper
from hub.domain.problems import HubError, ProblemCode
from hub.services import inbox
from mallnet.db import utcnow
from mallnet.values import MAX_RIAL


class PartnershipError(HubError):
    """An expected failure of a partnership use case."""


@dataclass(frozen=True)
class OfferInput:
    origin_shops: list[str] = field(default_factory=list)
    origin_category: str | None = None
    min_purchase_rial: int = 0
    origin_groups: list[str] = field(default_factory=list)
    first_purchase_only: bool = False
    monthly_cap: int | None = None
    welcome_points: int = 0
    welcome_credit_rial: int = 0


async def publish_offer(session: AsyncSession, host: str, data: OfferInput) -> PartnerOffer:
    if not data.origin_shops and not data.origin_category:
        raise PartnershipError(ProblemCode.INVALID_INPUT, "name origin shops or an origin category")
    if host in data.origin_shops:
        raise PartnershipError(
            ProblemCode.INVALID_INPUT, "a shop cannot refer to itself", "originShops"
        )
    for name, value in (
        ("minPurchaseRial", data.min_purchase_rial),
        ("welcomePoints", data.welcome_points),
        ("welcomeCreditRial", data.welcome_credit_rial),
    ):
        if not 0 <= value <= MAX_RIAL:  # points share the Rial bound (MAX_POINTS)
            raise PartnershipError(ProblemCode.INVALID_INPUT, "between 0 and 10^15", name)
    if data.monthly_cap is not None and not 1 <= data.monthly_cap <= 1_000_000:
        raise PartnershipError(ProblemCode.INVALID_INPUT, "between 1 and 1,000,000", "monthlyCap")
    known = set(
        (await session.scalars(select(Shop.slug).where(Shop.slug.in_(data.origin_shops)))).all()
    )
    unknown = sorted(set(data.origin_shops) - known)
    if unknown:
        raise PartnershipError(ProblemCode.INVALID_INPUT, f"unknown shops {unknown}", "originShops")
    offer = PartnerOffer(
        id=new_event_id(),
        host_shop=host,
        origin_shops=sorted(set(data.origin_shops)),
        origin_category=data.origin_category,
        min_purchase_rial=data.min_purchase_rial,
        origin_groups=sorted(set(data.origin_groups)),
        first_purchase_only=data.first_purchase_only,
        monthly_cap=data.monthly_cap,
        welcome_points=data.welcome_points,
        welcome_credit_rial=data.welcome_credit_rial,
        status="active",
        created_at=utcnow(),
    )
    session.add(offer)
    await session.flush()
    return offer


async def opt_in(session: AsyncSession, origin: str, offer_id: str) -> PartnerOptIn:
    offer = await session.get(PartnerOffer, offer_id)
    if offer is None or offer.status != "active":
        raise PartnershipError(ProblemCode.NOT_FOUND, "no active offer with that id", "offerId")
    if not await _origin_allowed(session, offer, origin):
        raise PartnershipError(
            ProblemCode.NOT_ELIGIBLE, "this offer is not open to your shop", "offerId"
        )
    row = await session.get(PartnerOptIn, (offer_id, origin))
    if row is None:
        row = PartnerOptIn(offer_id=offer_id, origin_shop=origin, opted_in_at=utcnow())
        session.add(row)
    row.withdrawn_at = None
    await session.flush()
    return row


async def _origin_allowed(session: AsyncSession, offer: PartnerOffer, origin: str) -> bool:
    if origin == offer.host_shop:
        return False
    if origin in offer.origin_shops:
        return True
    if offer.origin_category is None:
        return False
    category = await session.scalar(select(Shop.category).where(Shop.slug == origin))
    return category == offer.origin_category


async def offers(session: AsyncSession) -> list[PartnerOffer]:
    return list(
        (await session.scalars(select(PartnerOffer).order_by(PartnerOffer.created_at))).all()
    )


async def refer(
    session: AsyncSession, origin: str, event_id: str, purchase: PurchaseRecorded, at: dt.datetime
) -> list[str]:
    """Send the shopper of a purchase at ``origin`` to the partner shops whose agreements
    it meets; returns the shops a command went to."""
    membership = await session.get(Membership, (purchase.pseudonym, origin))
    shopper = await session.get(Shopper, purchase.pseudonym)
    if membership is None or not membership.partner_sharing or shopper is None or not shopper.phone:
        return []  # no consent at the origin shop, no introduction
    candidates = (
        await session.scalars(
            select(PartnerOffer)
            .join(PartnerOptIn, PartnerOptIn.offer_id == PartnerOffer.id)
            .where(
                PartnerOffer.status == "active",
                PartnerOffer.host_shop != origin,
                PartnerOptIn.origin_shop == origin,
                PartnerOptIn.withdrawn_at.is_(None),
            )
            .order_by(PartnerOffer.created_at)
        )
    ).all()
    month = at.strftime("%Y-%m")
    sent: list[str] = []
    for offer in candidates:
        if not await _qualifies(session, offer, origin, purchase, month):
            continue
        session.add(
            Referral(
                offer_id=offer.id,
                origin_shop=origin,
                pseudonym=purchase.pseudonym,
                event_id=event_id,
                month=month,
                created_at=utcnow(),
            )
        )
        await inbox.enqueue(
            session,
            offer.host_shop,
            EnrolMember(
                pseudonym=purchase.pseudonym,
                origin_shop=origin,
                agreement_id=offer.id,
                welcome_points=offer.welcome_points,
                welcome_credit_rial=offer.welcome_credit_rial,
                phone=shopper.phone,
            ),
        )
        sent.append(offer.host_shop)
    return sent


async def _qualifies(
    session: AsyncSession, offer: PartnerOffer, origin: str, purchase: PurchaseRecorded, month: str
) -> bool:
    """Whether the purchase meets the offer's terms, the shopper is new to the host shop
    and was never referred by it, and the offer's monthly cap has room."""
    if not await _origin_allowed(session, offer, origin):
        return False
    if purchase.total_rial < offer.min_purchase_rial:
        return False
    groups = {line.group for line in purchase.lines}
    if offer.origin_groups and groups.isdisjoint(offer.origin_groups):
        return False
    if offer.first_purchase_only and purchase.visit_number != 1:
        return False
    if await session.get(Membership, (purchase.pseudonym, offer.host_shop)) is not None:
        return False  # already a member there
    seen = await session.scalar(
        select(Referral.id).where(
            Referral.offer_id == offer.id, Referral.pseudonym == purchase.pseudonym
        )
    )
    if seen is not None:
        return False
    if offer.monthly_cap is not None:
        used = await session.scalar(
            select(func.count()).where(Referral.offer_id == offer.id, Referral.month == month)
        )
        if (used or 0) >= offer.monthly_cap:
            return False
    return True
