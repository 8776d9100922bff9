"""Async SQLAlchemy engines for SQLite (embedded) and PostgreSQL (production).

SQLite needs three things to behave like a database we can trust with value: foreign keys
on, WAL so readers never block the writer, and ``BEGIN IMMEDIATE`` so that a
read-modify-write transaction takes the write lock up front (SQLite ignores ``FOR UPDATE``;
without this, two concurrent spends can both read the old balance).

Reads that write nothing need none of that lock, and must not wait for it: a read taking
the write lock queues behind every open write (and, past the busy timeout, fails with
"database is locked"). Their sessions come from ``read_session_factory``: on SQLite their
transactions begin DEFERRED, and under WAL they read a snapshot while a writer works.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import DateTime, Table, event, insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

# The execution option that marks an engine's (or a connection's) transactions as reads.
READ_ONLY = "mallnet_read_only"

# Stable constraint names, so Alembic can address them on PostgreSQL and in SQLite batches.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pooled: bool = True) -> AsyncEngine:
    """An engine for ``url``; ``pooled=False`` for code that runs one ``asyncio.run`` per
    call (Celery tasks, CLI), where a pool would outlive its event loop."""
    kwargs: dict[str, Any] = {"echo": echo}
    if not pooled:
        kwargs["poolclass"] = NullPool
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout, i.e. on every request. Stale
    # connections are recycled instead, and a failed request is retried by its client.
    if pooled:
        kwargs.update(pool_size=20, max_overflow=10, pool_recycle=1800)
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-modify-write takes the write lock before it reads (see the module's
        # docstring); a read takes none and reads the last committed snapshot.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: reading attributes after commit must not lazy-load
    # (that raises MissingGreenlet under asyncio).
    return async_sessionmaker(engine, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for work that writes nothing (lookups, balances, history, pages): on SQLite
    they never take or wait for the write lock. Never write through one: on SQLite a write
    there would take the lock halfway through (and may fail at once, not wait), and what it
    wrote is never committed by the callers of these sessions."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; use datetime.now(UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


T = TypeVar("T")
# PostgreSQL: serialization_failure, deadlock_detected. A unique violation is retried too:
# the next attempt sees the row that won the race (e.g. the same receipt sent twice at
# once) and answers as a replay or a conflict.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


async def transaction(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = 4,
) -> T:
    """Run ``work`` in one database transaction, retrying races the database detected."""
    for attempt in range(1, attempts + 1):
        try:
            async with sessions() as session, session.begin():
                return await work(session)
        except IntegrityError:
            if attempt == attempts:
                raise
        except DBAPIError as exc:
            sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == attempts:
                raise
    raise AssertionError("unreachable")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` if it does not exist yet.

    Returns True when it was created. SQLite files are created on first connect, so this is
    a no-op there.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    import asyncpg

    name = parsed.database
    maintenance = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(maintenance.render_as_string(hide_password=False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await conn.execute(f"CREATE DATABASE {quoted}")
        return True
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    import asyncpg

    maintenance = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(maintenance.render_as_string(hide_password=False))
    try:
        quoted = '"' + parsed.database.replace('"', '""') + '"'
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()


@asynccontextmanager
async def engine_scope(url: str, *, echo: bool = False) -> AsyncIterator[AsyncEngine]:
    """A short-lived unpooled engine, disposed on exit (tasks, CLI commands)."""
    engine = create_engine(url, echo=echo, pooled=False)
    try:
        yield engine
    finally:
        await engine.dispose()


async def copy_rows(
    conn: AsyncConnection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Many rows into ``table`` inside the connection's transaction: on PostgreSQL by COPY
    (a million rows in seconds), elsewhere by a multi-row insert."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=rows, columns=list(columns)
        )
        return
    await conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
