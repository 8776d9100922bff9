"""Each shop's guard: its budget of wrong codes (then a lock, logged and counted for mall
management) and of yes-or-no questions about its members' network value."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    Membership,
    RedemptionShopGuard,
)
from hub.domain.problems import ProblemCode
from hub.services import value
from hub.services.grants.common import (
    GUARDS,
    LOOKUP_WINDOW,
    LOOKUPS_PER_SHOP,
    SHOP_FAILURE_WINDOW,
    SHOP_FAILURES,
    SHOP_LOCK,
    GrantError,
)
from mallnet.db import utcnow

log = logging.getLogger("hub.services.grants")  # one logger for the package


async def _ensure_guard(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    conn = await session.connection()
    dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(
        dialect(GUARDS)
        .values(
            shop=shop,
            failures_since=now,
            failures=0,
            failures_total=0,
            lockouts=0,
            lookups_since=now,
            lookups=0,
        )
        .on_conflict_do_nothing(index_elements=["shop"])
    )


async def _shop_locked_until(
    session: AsyncSession, shop: str, now: dt.datetime, *, share: bool = False
) -> dt.datetime | None:
    """When the shop's lock for wrong codes ends, if it is locked at ``now``. ``share``
    waits for the shop's wrong codes still being counted by other transactions."""
    query = select(RedemptionShopGuard.locked_until).where(RedemptionShopGuard.shop == shop)
    if share:
        query = query.with_for_update(read=True)
    until = await session.scalar(query)
    return until if until is not None and until > now else None


def _shop_locked(until: dt.datetime, field: str | None = "grant") -> GrantError:
    return GrantError(
        ProblemCode.TOO_MANY_ATTEMPTS if field == "grant" else ProblemCode.RATE_LIMITED,
        "too many wrong redemption codes at this shop; its code attempts and texts resume "
        f"at {until.isoformat()}",
        field,
    )


async def _charge_shop(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    """Count a wrong code against the shop's budget; the budget's last one locks the shop
    (and is logged for mall management)."""
    await _ensure_guard(session, shop, now)
    row = await session.scalar(
        select(RedemptionShopGuard)
        .where(RedemptionShopGuard.shop == shop)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # made just above, and never deleted
    if row.failures_since <= now - SHOP_FAILURE_WINDOW:
        row.failures_since, row.failures = now, 0
    row.failures += 1
    row.failures_total += 1
    row.last_failure_at = now
    if row.failures >= SHOP_FAILURES:
        row.locked_until = now + SHOP_LOCK
        row.lockouts += 1
        row.failures_since, row.failures = row.locked_until, 0  # a new window after the lock
        log.warning(
            "redemption codes: shop %s made %d wrong codes within %s; its code attempts and "
            "texts are refused until %s (lockout %d; %d wrong codes in all)",
            shop,
            SHOP_FAILURES,
            SHOP_FAILURE_WINDOW,
            row.locked_until.isoformat(),
            row.lockouts,
            row.failures_total,
        )
    await session.flush()


async def _count_lookup(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    """Count one yes-or-no question of the shop (one statement: concurrent questions each
    see their own count); past ``LOOKUPS_PER_SHOP`` in the window, refused."""
    await _ensure_guard(session, shop, now)
    fresh = GUARDS.c.lookups_since <= now - LOOKUP_WINDOW
    asked = await session.scalar(
        update(GUARDS)
        .where(GUARDS.c.shop == shop)
        .values(
            lookups=case((fresh, 1), else_=GUARDS.c.lookups + 1),
            lookups_since=case((fresh, now), else_=GUARDS.c.lookups_since),
        )
        .returning(GUARDS.c.lookups)
    )
    if int(asked or 0) > LOOKUPS_PER_SHOP:
        raise GrantError(
            ProblemCode.RATE_LIMITED,
            "too many network value questions from this shop; try again in a few minutes",
        )


async def has_value_here(
    session: AsyncSession, shop: str, shopper: str, now: dt.datetime | None = None
) -> bool:
    """Whether ``shopper`` has network value spendable at ``shop`` — answered only for a
    member of ``shop`` (anyone else: no, so a node holding the network key cannot test a
    list of phones for value held elsewhere), and at most ``LOOKUPS_PER_SHOP`` questions
    of the shop per ``LOOKUP_WINDOW``."""
    now = now or utcnow()
    await _count_lookup(session, shop, now)
    if await session.get(Membership, (shopper, shop)) is None:
        return False
    _points, _credit, worth = await value.spendable_at(session, shopper, shop, now)
    return worth > 0


async def code_failures(session: AsyncSession) -> Sequence[RedemptionShopGuard]:
    """Each shop that ever typed a wrong redemption code: the most first (mall management)."""
    rows = await session.scalars(
        select(RedemptionShopGuard)
        .where(RedemptionShopGuard.failures_total > 0)
        .order_by(RedemptionShopGuard.failures_total.desc(), RedemptionShopGuard.shop)
    )
    return rows.all()
