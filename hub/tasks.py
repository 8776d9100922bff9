"""The hub's Celery tasks: thin entrypoints calling the same services as the API."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from celery import Task
from sqlalchemy.ext.asyncio import AsyncSession

from hub.services import heartbeat as heartbeats
from hub.services import lotteries, settlement, value
from hub.services.hub_messages import hub_sender
from mallnet.celery_app import app
from mallnet.config import get_settings
from mallnet.db import engine_scope, session_factory, transaction

MAX_RECONCILE_BATCHES = 50


async def _beat(worker: str) -> dict[str, Any]:
    async with engine_scope(get_settings().hub_db_url) as engine:
        beat = await heartbeats.record(engine, worker)
    return {"worker": beat.worker, "beats": beat.beats, "beat_at": beat.beat_at.isoformat()}


@app.task(name="hub.heartbeat", bind=True)
def heartbeat(self: Task) -> dict[str, Any]:
    """Record that this worker is alive (scheduled by beat; visible in hub ``/healthz``)."""
    return asyncio.run(_beat(self.request.hostname or "unknown"))


async def _expire_value() -> dict[str, int]:
    async with engine_scope(get_settings().hub_db_url) as engine:
        sessions = session_factory(engine)
        holds = await transaction(sessions, value.expire_holds)
        lots = await transaction(sessions, value.expire_lots)
    return {"holds": holds, "lots": lots}


@app.task(name="hub.expire_value")
def expire_value() -> dict[str, int]:
    """Release holds past their expiry, then expire lots past theirs (beat-scheduled);
    each run does a bounded batch, and a repeat finds nothing left to do."""
    return asyncio.run(_expire_value())


async def _reconcile_captures() -> dict[str, int]:
    settings = get_settings()
    window = dt.timedelta(seconds=settings.capture_match_window_s)

    async def batch(session: AsyncSession) -> int:
        return await value.reverse_unmatched(session, window=window)

    reversed_ = 0
    async with engine_scope(settings.hub_db_url) as engine:
        sessions = session_factory(engine)
        # Bounded batches, each its own transaction, until none is left (or enough for one
        # run: the next run goes on).
        for _ in range(MAX_RECONCILE_BATCHES):
            done = await transaction(sessions, batch)
            reversed_ += done
            if done == 0:
                break
    return {"reversed": reversed_}


@app.task(name="hub.reconcile_captures")
def reconcile_captures() -> dict[str, int]:
    """Reverse captures of network value that no purchase event matched within
    ``MALLNET_CAPTURE_MATCH_WINDOW_S`` (beat-scheduled): the value goes back to the
    shopper's lots and is never settled. A repeat finds nothing left to do."""
    return asyncio.run(_reconcile_captures())


async def _close_settlement(period_id: int | None, actor: str) -> dict[str, Any]:
    async with engine_scope(get_settings().hub_db_url) as engine:
        sessions = session_factory(engine)

        async def work(fn: Any) -> Any:
            return await transaction(sessions, fn)

        if period_id is None:
            return {"closed": await settlement.close_due(work, actor)}
        done = await work(lambda s: settlement.close(s, period_id, actor))
    return {"closed": [] if done.replayed else [period_id], "period": period_id}


@app.task(name="hub.close_settlement")
def close_settlement(period_id: int | None = None, actor: str = "beat") -> dict[str, Any]:
    """Close one period (mall finance asked) or every period that has ended (beat). The
    close is one transaction: a worker killed mid-close leaves nothing, and the task, acked
    late, runs again; closing a closed period again changes nothing."""
    return asyncio.run(_close_settlement(period_id, actor))


async def _draw_lottery(lottery_id: str) -> dict[str, Any]:
    settings = get_settings()
    async with engine_scope(settings.hub_db_url) as engine:
        sessions = session_factory(engine)
        row = await lotteries.run_draw(sessions, lottery_id, hub_sender(settings, sessions))
    return {"lottery": row.id, "status": row.status, "stage": row.stage}


@app.task(name="hub.draw_lottery")
def draw_lottery(lottery_id: str) -> dict[str, Any]:
    """Draw a lottery (mall management asked); its progress is on the lottery row."""
    return asyncio.run(_draw_lottery(lottery_id))
