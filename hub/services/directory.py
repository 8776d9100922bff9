"""The shop directory shoppers browse: the network's active shops in Persian alphabetical
order, and which of the network's value each takes — by the very rule a hold follows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Shop
from hub.domain.value_rules import GENERAL, POOLED, LotView, accepted_at
from mallnet.digits import persian_letters

# The Persian alphabet, in order; the Arabic forms of its letters are read as the Persian.
_ALPHABET = "آابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
_RANK = {letter: rank for rank, letter in enumerate(_ALPHABET)}
_IGNORED = {"\u200c", "\u200d", "\u064b", "\u064c", "\u064d", "\u064e", "\u064f", "\u0650"}
_ANY_TIME = dt.datetime.max.replace(tzinfo=dt.UTC)


def persian_order(name: str) -> tuple[tuple[int, int], ...]:
    """A sort key putting Persian names in dictionary order (پ after ب, گ after ک: code
    point order would put them after ی); spaces, digits and Latin sort before letters."""
    key = []
    for char in persian_letters(name):
        if char in _IGNORED:
            continue
        rank = _RANK.get(char)
        key.append((1, rank) if rank is not None else (0 if ord(char) < 0x600 else 2, ord(char)))
    return tuple(key)


def _accepts(kind: str, shop: str, category: str) -> bool:
    """Whether a lot of ``kind`` without targeting may be spent at ``shop``: the rule
    ``hub.services.value`` applies to every hold (``accepted_at``)."""
    lot = LotView(id=0, kind=kind, available=0, rial_per_point=1, expires_at=_ANY_TIME)
    return accepted_at(lot, shop, category)


@dataclass(frozen=True)
class DirectoryShop:
    slug: str
    name_fa: str
    name_en: str
    category: str
    floor: str | None
    unit: str | None
    accepts_pooled_points: bool
    accepts_general_credit: bool


async def shoppers_directory(session: AsyncSession) -> list[DirectoryShop]:
    """The active shops (a suspended shop's node can hold nothing: it gets no token), in
    Persian alphabetical order of their names."""
    rows = (await session.scalars(select(Shop).where(Shop.status == "active"))).all()
    shops = [
        DirectoryShop(
            slug=row.slug,
            name_fa=row.name_fa,
            name_en=row.name_en,
            category=row.category,
            floor=row.floor,
            unit=row.unit,
            accepts_pooled_points=_accepts(POOLED, row.slug, row.category),
            accepts_general_credit=_accepts(GENERAL, row.slug, row.category),
        )
        for row in rows
    ]
    return sorted(shops, key=lambda s: (persian_order(s.name_fa), s.slug))
