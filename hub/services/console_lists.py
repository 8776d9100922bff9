"""The mall console's tables, read a page at a time (offset paging with the total, for a
page-numbered table): shops, partnership offers with their opt-ins, mall users; and the
"who refers to whom" map of partnerships, bounded by ``MAX_LINKS``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import PartnerOffer, PartnerOptIn, Referral, Shop, User
from hub.domain.problems import HubError, ProblemCode
from hub.services.staff import Account

MAX_PAGE = 100
MAX_OFFSET = 100_000
MAX_LINKS = 500
OFFER_STATUSES = ("active", "withdrawn")
T = TypeVar("T")


class ListError(HubError):
    """A page asked for with bad input."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class OptIn:
    origin_shop: str
    opted_in_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class OfferRow:
    offer: PartnerOffer
    opt_ins: list[OptIn]
    referrals: int


@dataclass(frozen=True)
class Link:
    """Shop ``origin`` refers its customers to ``host`` (an opt-in, active or not), and
    how many shoppers were introduced that way."""

    origin_shop: str
    host_shop: str
    active: bool
    referrals: int


def check_page(first: int, offset: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise ListError(ProblemCode.INVALID_INPUT, f"between 1 and {MAX_PAGE} rows", "first")
    if not 0 <= offset <= MAX_OFFSET:
        raise ListError(ProblemCode.INVALID_INPUT, f"between 0 and {MAX_OFFSET}", "offset")


async def _page(session: AsyncSession, query: Select[Any], first: int, offset: int) -> Page[Any]:
    check_page(first, offset)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list((await session.scalars(query.limit(first).offset(offset))).all())
    return Page(rows, total)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def shops(
    session: AsyncSession, first: int, offset: int, search: str | None = None
) -> Page[Shop]:
    """Registered shops by slug; ``search`` in the slug or either name."""
    query = select(Shop).order_by(Shop.slug)
    text = (search or "").strip()
    if len(text) > 60:
        raise ListError(ProblemCode.INVALID_INPUT, "at most 60 characters", "search")
    if text:
        pattern = _like(text.lower())
        query = query.where(
            or_(
                Shop.slug.like(pattern, escape="\\"),
                func.lower(Shop.name_en).like(pattern, escape="\\"),
                Shop.name_fa.like(_like(text), escape="\\"),
            )
        )
    return await _page(session, query, first, offset)


async def offers(
    session: AsyncSession, first: int, offset: int, status: str | None = None
) -> Page[OfferRow]:
    """Partnership offers, newest first, each with its opt-ins and shoppers introduced."""
    if status is not None and status not in OFFER_STATUSES:
        raise ListError(ProblemCode.INVALID_INPUT, "active or withdrawn", "status")
    query = select(PartnerOffer).order_by(PartnerOffer.created_at.desc(), PartnerOffer.id)
    if status is not None:
        query = query.where(PartnerOffer.status == status)
    page = await _page(session, query, first, offset)
    ids = [offer.id for offer in page.items]
    opt_ins: dict[str, list[OptIn]] = {offer_id: [] for offer_id in ids}
    # Opt-ins are one per origin shop and offer: bounded by the registry's size per offer.
    for row in await session.scalars(
        select(PartnerOptIn)
        .where(PartnerOptIn.offer_id.in_(ids))
        .order_by(PartnerOptIn.opted_in_at, PartnerOptIn.origin_shop)
    ):
        opt_ins[row.offer_id].append(OptIn(row.origin_shop, row.opted_in_at, row.withdrawn_at))
    counted = await session.execute(
        select(Referral.offer_id, func.count())
        .where(Referral.offer_id.in_(ids))
        .group_by(Referral.offer_id)
    )
    counts = {offer_id: int(count) for offer_id, count in counted}
    return Page(
        [OfferRow(o, opt_ins[o.id], int(counts.get(o.id, 0))) for o in page.items], page.total
    )


async def referral_map(session: AsyncSession) -> list[Link]:
    """Every origin → host pair an opt-in joins, with the shoppers introduced (the busiest
    ``MAX_LINKS`` pairs)."""
    referred = (
        select(
            Referral.origin_shop.label("origin"),
            PartnerOffer.host_shop.label("host"),
            func.count().label("referrals"),
        )
        .join(PartnerOffer, PartnerOffer.id == Referral.offer_id)
        .group_by(Referral.origin_shop, PartnerOffer.host_shop)
        .order_by(func.count().desc())
        .limit(MAX_LINKS)
    )
    links: dict[tuple[str, str], Link] = {
        (r.origin, r.host): Link(r.origin, r.host, False, int(r.referrals))
        for r in await session.execute(referred)
    }
    # Active while one of its opt-ins stands: not withdrawn, to an offer not withdrawn.
    standing = and_(PartnerOptIn.withdrawn_at.is_(None), PartnerOffer.status == "active")
    agreed = (
        select(
            PartnerOptIn.origin_shop,
            PartnerOffer.host_shop,
            func.count(case((standing, 1))).label("standing"),
        )
        .join(PartnerOffer, PartnerOffer.id == PartnerOptIn.offer_id)
        .group_by(PartnerOptIn.origin_shop, PartnerOffer.host_shop)
        .limit(MAX_LINKS)
    )
    for origin, host, standing_opt_ins in await session.execute(agreed):
        old = links.get((origin, host))
        active = int(standing_opt_ins) > 0
        if old is not None or len(links) < MAX_LINKS:
            links[(origin, host)] = Link(origin, host, active, 0 if old is None else old.referrals)
    return sorted(links.values(), key=lambda link: (link.origin_shop, link.host_shop))


async def mall_users(session: AsyncSession, first: int, offset: int) -> Page[Account]:
    """The mall's own users (accounts of no shop), by username."""
    query = select(User).where(User.shop_id.is_(None)).order_by(User.username)
    page = await _page(session, query, first, offset)
    return Page(
        [Account(u.id, u.username, u.role, None, u.created_at, u.disabled_at) for u in page.items],
        page.total,
    )
