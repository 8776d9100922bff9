"""Worker heartbeats: the Celery worker records each beat-scheduled tick here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db.models import WorkerHeartbeat
from mallnet.db import session_factory, utcnow


@dataclass(frozen=True)
class Beat:
    worker: str
    beat_at: dt.datetime
    beats: int

    def age_s(self, now: dt.datetime | None = None) -> int:
        return int(((now or utcnow()) - self.beat_at).total_seconds())


async def record(engine: AsyncEngine, worker: str) -> Beat:
    # One atomic upsert: concurrent ticks (even a worker's very first two) neither collide
    # on the primary key nor lose a count.
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = (
        insert(WorkerHeartbeat)
        .values(worker=worker, beat_at=now, beats=1)
        .on_conflict_do_update(
            index_elements=[WorkerHeartbeat.worker],
            set_={"beat_at": now, "beats": WorkerHeartbeat.beats + 1},
        )
        .returning(WorkerHeartbeat.worker, WorkerHeartbeat.beat_at, WorkerHeartbeat.beats)
    )
    async with engine.begin() as conn:
        row = (await conn.execute(statement)).one()
    return Beat(row.worker, row.beat_at, row.beats)


async def latest(engine: AsyncEngine) -> Beat | None:
    async with session_factory(engine)() as session:
        row = await session.scalar(
            select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(1)
        )
        return None if row is None else Beat(row.worker, row.beat_at, row.beats)
