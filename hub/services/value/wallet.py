"""What a shopper has: balances by kind, what expires soon, what is spendable at a shop,
the history, and the shop directory the views name shops from.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    LocalBalance,
    Shop,
    ValueLot,
    ValueTransaction,
)
from hub.domain.value_rules import (
    POOLED,
    LotView,
    accepted_at,
)
from mallnet.db import utcnow

log = logging.getLogger(__name__)


async def _shop_category(session: AsyncSession, shop: str) -> str | None:
    info = (await shop_directory(session, need=shop)).get(shop)
    return None if info is None else info.category


def lot_view(lot: ValueLot) -> LotView:
    return LotView(
        id=lot.id,
        kind=lot.kind,
        available=lot.remaining - lot.held,
        rial_per_point=lot.rial_per_point,
        expires_at=lot.expires_at,
        accepted_shops=tuple(lot.accepted_shops),
        accepted_category=lot.accepted_category,
    )


async def spendable(
    session: AsyncSession, pseudonym: str, shop: str, now: dt.datetime, *, lock: bool
) -> list[ValueLot]:
    # Locked in ascending id, the order every other path (the ledger writer, refunds,
    # clawbacks) locks and updates lots in: locking in spending order instead let a hold
    # and a refund of the same shopper deadlock. Callers sort for spending themselves.
    query = (
        select(ValueLot)
        .where(
            ValueLot.pseudonym == pseudonym,
            ValueLot.expires_at > now,
            ValueLot.remaining > ValueLot.held,
        )
        .order_by(ValueLot.id)
    )
    if lock:
        query = query.with_for_update()
    rows = (await session.scalars(query)).all()
    category = await _shop_category(session, shop)
    return [lot for lot in rows if accepted_at(lot_view(lot), shop, category)]


@dataclass(frozen=True)
class Balance:
    kind: str
    available: int
    held: int
    value_rial: int  # what the available part is worth
    accepted_shops: tuple[str, ...] = ()
    accepted_category: str | None = None


@dataclass(frozen=True)
class Expiry:
    lot_id: int
    kind: str
    issuer: str
    available: int
    value_rial: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class Summary:
    pooled: Balance
    credit: list[Balance]
    expiring: list[Expiry]
    local: list[LocalBalance]


async def summary(
    session: AsyncSession, pseudonym: str, now: dt.datetime | None = None, horizon_days: int = 30
) -> Summary:
    now = now or utcnow()
    lots = (
        await session.scalars(
            select(ValueLot)
            .where(
                ValueLot.pseudonym == pseudonym, ValueLot.expires_at > now, ValueLot.remaining > 0
            )
            .order_by(ValueLot.expires_at, ValueLot.id)
        )
    ).all()
    pooled = [0, 0, 0]
    credit: dict[tuple[str, tuple[str, ...], str | None], list[int]] = {}
    expiring: list[Expiry] = []
    horizon = now + dt.timedelta(days=horizon_days)
    for lot in lots:
        available = lot.remaining - lot.held
        if lot.kind == POOLED:
            target = pooled
        else:
            target = credit.setdefault(
                (lot.kind, tuple(lot.accepted_shops), lot.accepted_category), [0, 0, 0]
            )
        target[0] += available
        target[1] += lot.held
        target[2] += available * lot.rial_per_point
        if available > 0 and lot.expires_at <= horizon:
            expiring.append(
                Expiry(
                    lot.id,
                    lot.kind,
                    lot.issuer_shop,
                    available,
                    available * lot.rial_per_point,
                    lot.expires_at,
                )
            )
    local = (
        await session.scalars(
            select(LocalBalance)
            .where(LocalBalance.pseudonym == pseudonym)
            .order_by(LocalBalance.shop)
        )
    ).all()
    return Summary(
        pooled=Balance(POOLED, pooled[0], pooled[1], pooled[2]),
        credit=[
            Balance(kind, a, h, v, shops, category)
            for (kind, shops, category), (a, h, v) in sorted(credit.items(), key=lambda i: i[0][0])
        ],
        expiring=expiring,
        local=list(local),
    )


async def spendable_at(
    session: AsyncSession, pseudonym: str, shop: str, now: dt.datetime | None = None
) -> tuple[int, int, int]:
    """(pooled points, credit Rial, total Rial worth) a shopper can spend at ``shop`` now."""
    lots = await spendable(session, pseudonym, shop, now or utcnow(), lock=False)
    points = sum(lot.remaining - lot.held for lot in lots if lot.kind == POOLED)
    credit = sum(lot.remaining - lot.held for lot in lots if lot.kind != POOLED)
    worth = sum((lot.remaining - lot.held) * lot.rial_per_point for lot in lots)
    return points, credit, worth


async def history(
    session: AsyncSession, pseudonym: str, first: int = 50, before: int | None = None
) -> list[ValueTransaction]:
    query = select(ValueTransaction).where(ValueTransaction.pseudonym == pseudonym)
    if before is not None:
        query = query.where(ValueTransaction.id < before)
    rows = await session.scalars(query.order_by(ValueTransaction.id.desc()).limit(first))
    return list(rows.all())


@dataclass(frozen=True)
class ShopInfo:
    name_fa: str
    name_en: str
    category: str


_SHOPS: dict[str, tuple[float, dict[str, ShopInfo]]] = {}
SHOPS_FRESH_S = 30.0


async def shop_directory(session: AsyncSession, *, need: str | None = None) -> dict[str, ShopInfo]:
    """Every shop's names and category, read at most every ``SHOPS_FRESH_S`` seconds per
    process and database (shops change a few times a year; a renamed shop shows within
    that). A shop ``need``-ed but not in the cached copy is read again at once."""
    database = str(session.bind.engine.url) if session.bind is not None else ""
    cached = _SHOPS.get(database)
    fresh = cached is not None and time.monotonic() - cached[0] < SHOPS_FRESH_S
    if cached is not None and fresh and (need is None or need in cached[1]):
        return cached[1]
    rows = await session.execute(select(Shop.slug, Shop.name_fa, Shop.name_en, Shop.category))
    shops = {slug: ShopInfo(fa, en, category) for slug, fa, en, category in rows.all()}
    _SHOPS[database] = (time.monotonic(), shops)
    return shops


async def shop_names(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Shop names for the shopper's views."""
    return {slug: (s.name_fa, s.name_en) for slug, s in (await shop_directory(session)).items()}
