"""The settlement calendar: the open period, the closed ones, and cutting the open one
short. Periods follow the policy's length on Tehran days."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SettlementPeriod, ValueRedemption
from hub.domain.problems import ProblemCode
from hub.services import settlement_policy
from hub.services.settlement_policy import SettlementError
from mallnet.db import utcnow
from settlement.periods import period_end


async def open_period(session: AsyncSession, now: dt.datetime | None = None) -> SettlementPeriod:
    """The period value is settling into now (created on first use: from the end of the
    last closed one, or from the start of today in Tehran)."""
    now = now or utcnow()
    row = await session.scalar(
        select(SettlementPeriod)
        .where(SettlementPeriod.status == "open")
        .order_by(SettlementPeriod.starts_at)
        .limit(1)
    )
    if row is not None:
        return row
    _version, policy = await settlement_policy.current(session)
    last_end = await session.scalar(
        select(SettlementPeriod.ends_at).order_by(SettlementPeriod.ends_at.desc()).limit(1)
    )
    if last_end is None:
        first = await session.scalar(
            select(ValueRedemption.created_at).order_by(ValueRedemption.id).limit(1)
        )
        start = day_start(min(now, first) if first is not None else now)
    else:
        start = last_end
    row = SettlementPeriod(
        starts_at=start,
        ends_at=period_end(policy.period, start),
        length=policy.period,
        status="open",
        captures=0,
    )
    session.add(row)
    await session.flush()
    return row


def day_start(at: dt.datetime) -> dt.datetime:
    """Midnight in Tehran at or before ``at`` (as UTC)."""
    return period_end("daily", at) - dt.timedelta(days=1)


async def periods(
    session: AsyncSession, limit: int = 50, offset: int = 0
) -> list[SettlementPeriod]:
    """``limit`` periods after ``offset``, newest first."""
    if offset < 0:
        raise SettlementError(ProblemCode.INVALID_INPUT, "offset must be 0 or more", "offset")
    rows = await session.scalars(
        select(SettlementPeriod)
        # The id breaks a tie, so that pages never overlap.
        .order_by(SettlementPeriod.starts_at.desc(), SettlementPeriod.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.all())


async def get_period(session: AsyncSession, period_id: int) -> SettlementPeriod:
    row = await session.get(SettlementPeriod, period_id)
    if row is None:
        raise SettlementError(
            ProblemCode.NOT_FOUND, f"no settlement period {period_id}", "periodId"
        )
    return row


async def cut(
    session: AsyncSession, actor: str, now: dt.datetime | None = None
) -> SettlementPeriod:
    """Mall management closes the open period early: it ends now, and value spent from now
    on settles in the next period. The close itself follows (``close``)."""
    now = now or utcnow()
    row = await open_period(session, now)
    locked = await session.get(
        SettlementPeriod, row.id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    if locked.status == "open" and locked.ends_at > now:
        if now <= locked.starts_at:
            raise SettlementError(
                ProblemCode.NOTHING_TO_CLOSE, "the open period has only just started"
            )
        locked.ends_at, locked.cut_by = now, actor
        await session.flush()
    return locked
