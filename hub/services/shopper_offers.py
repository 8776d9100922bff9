"""The shopper's "offers for me" (issue 18), newest first, a page at a time: the one-time
offers her shops granted her (open: not closed, not expired, their offer not withdrawn)
and the live permanent offers (published, not withdrawn, not ended) of the shops whose
clubs she belongs to. Suspended shops' offers are not shown.

Two sources, one order: each item has its moment (granted, or first published), a kind
rank (a grant before a permanent offer of the same moment) and its row id; a page reads
at most ``first + 1`` rows of each source after the cursor, in that order, and merges
them. The cursor is the last item's key, opaque to the client."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.db.models import Membership, Shop, ShopOffer, ShopOfferGrant
from hub.domain.problems import HubError, ProblemCode

MAX_PAGE = 100
ONE_TIME, PERMANENT = "one_time", "permanent"
# Of two items of the same moment, the grant comes first (the order is descending).
_RANK = {ONE_TIME: 1, PERMANENT: 0}


class OffersError(HubError):
    """A page of offers asked for with bad input."""


@dataclass(frozen=True)
class Key:
    """An item's place in the list (descending on all three)."""

    at: dt.datetime
    kind: str
    row: int

    def sort_key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, _RANK[self.kind], self.row)

    def cursor(self) -> str:
        text = json.dumps([self.at.isoformat(), self.kind, self.row], separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def of_cursor(cls, cursor: str) -> Key:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            at, kind, row = json.loads(base64.urlsafe_b64decode(padded.encode()))
            key = cls(dt.datetime.fromisoformat(at), kind, row)
            if key.at.tzinfo is None or kind not in _RANK or type(row) is not int:
                raise ValueError(cursor)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise OffersError(
                ProblemCode.INVALID_INPUT,
                "not a cursor of this list: pass the endCursor of the page before, or none",
                "after",
            ) from exc
        return key


@dataclass(frozen=True)
class ShopperOffer:
    kind: str  # ONE_TIME (her grant) or PERMANENT
    shop: str
    shop_name_fa: str
    shop_name_en: str
    offer_id: str
    grant_id: str | None
    name_fa: str
    name_en: str
    summary_fa: str
    summary_en: str
    # Her grant's deadline, or the permanent offer's end (None: no end set).
    until: dt.datetime | None
    key: Key


@dataclass(frozen=True)
class OffersPage:
    items: list[ShopperOffer]
    has_more: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1].key.cursor() if self.items else None


def _after(
    at: InstrumentedAttribute[dt.datetime],
    row: InstrumentedAttribute[int],
    kind: str,
    cursor: Key | None,
) -> ColumnElement[bool] | None:
    """The rows of a source of ``kind`` that come after ``cursor`` in the list's order."""
    if cursor is None:
        return None
    mine, theirs = _RANK[kind], _RANK[cursor.kind]
    if mine < theirs:
        return at <= cursor.at
    if mine > theirs:
        return at < cursor.at
    return or_(at < cursor.at, and_(at == cursor.at, row < cursor.row))


async def _grants(
    session: AsyncSession, pseudonym: str, now: dt.datetime, first: int, cursor: Key | None
) -> list[ShopperOffer]:
    grant, offer = ShopOfferGrant, ShopOffer
    query = (
        select(grant, offer, Shop.name_fa, Shop.name_en)
        .join(offer, and_(offer.shop == grant.shop, offer.offer_id == grant.offer_id))
        .join(Shop, Shop.slug == grant.shop)
        .where(
            grant.pseudonym == pseudonym,
            grant.closed_at.is_(None),
            grant.expires_at > now,
            offer.withdrawn_at.is_(None),
            Shop.status == "active",
        )
        .order_by(grant.granted_at.desc(), grant.id.desc())
        .limit(first + 1)
    )
    after = _after(grant.granted_at, grant.id, ONE_TIME, cursor)
    if after is not None:
        query = query.where(after)
    rows = (await session.execute(query)).all()
    return [
        ShopperOffer(
            kind=ONE_TIME,
            shop=g.shop,
            shop_name_fa=shop_fa,
            shop_name_en=shop_en,
            offer_id=o.offer_id,
            grant_id=g.grant_id,
            name_fa=o.name_fa,
            name_en=o.name_en,
            summary_fa=o.summary_fa,
            summary_en=o.summary_en,
            until=g.expires_at,
            key=Key(g.granted_at, ONE_TIME, g.id),
        )
        for g, o, shop_fa, shop_en in rows
    ]


async def _permanent(
    session: AsyncSession, pseudonym: str, now: dt.datetime, first: int, cursor: Key | None
) -> list[ShopperOffer]:
    offer = ShopOffer
    query = (
        select(offer, Shop.name_fa, Shop.name_en)
        .join(Membership, and_(Membership.shop == offer.shop, Membership.pseudonym == pseudonym))
        .join(Shop, Shop.slug == offer.shop)
        .where(
            offer.kind == PERMANENT,
            offer.withdrawn_at.is_(None),
            or_(offer.ends_at.is_(None), offer.ends_at > now),
            Shop.status == "active",
        )
        .order_by(offer.published_at.desc(), offer.id.desc())
        .limit(first + 1)
    )
    after = _after(offer.published_at, offer.id, PERMANENT, cursor)
    if after is not None:
        query = query.where(after)
    rows = (await session.execute(query)).all()
    return [
        ShopperOffer(
            kind=PERMANENT,
            shop=o.shop,
            shop_name_fa=shop_fa,
            shop_name_en=shop_en,
            offer_id=o.offer_id,
            grant_id=None,
            name_fa=o.name_fa,
            name_en=o.name_en,
            summary_fa=o.summary_fa,
            summary_en=o.summary_en,
            until=o.ends_at,
            key=Key(o.published_at, PERMANENT, o.id),
        )
        for o, shop_fa, shop_en in rows
    ]


async def offers_for(
    session: AsyncSession,
    pseudonym: str,
    first: int,
    after: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> OffersPage:
    """A page of the shopper's offers, newest first, after the cursor ``after``."""
    if not 1 <= first <= MAX_PAGE:
        raise OffersError(ProblemCode.INVALID_INPUT, f"between 1 and {MAX_PAGE} offers", "first")
    cursor = None if after is None else Key.of_cursor(after)
    at = now or dt.datetime.now(dt.UTC)
    found = [
        *await _grants(session, pseudonym, at, first, cursor),
        *await _permanent(session, pseudonym, at, first, cursor),
    ]
    found.sort(key=lambda item: item.key.sort_key(), reverse=True)
    return OffersPage(items=found[:first], has_more=len(found) > first)
