"""What every node use case needs at hand: the shop, its database and its system accounts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mallnet.db import session_factory, utcnow
from shop_node.ledger import ensure_system_accounts

T = TypeVar("T")
# PostgreSQL: serialization_failure, deadlock_detected. A unique violation is retried too:
# the next attempt sees the row that won the race (e.g. the same receipt sent twice at
# once) and answers as a replay or a conflict.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


@dataclass
class NodeRuntime:
    shop: str
    engine: AsyncEngine
    system_accounts: dict[str, int]
    clock: Callable[[], dt.datetime] = utcnow
    sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.engine)

    @classmethod
    async def start(cls, shop: str, engine: AsyncEngine) -> NodeRuntime:
        async with session_factory(engine)() as session, session.begin():
            system = await ensure_system_accounts(session)
        return cls(shop=shop, engine=engine, system_accounts=system)

    async def transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 4
    ) -> T:
        """Run ``work`` in one database transaction, retrying races the database detected."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.sessions() as session, session.begin():
                    return await work(session)
            except IntegrityError:
                if attempt == attempts:
                    raise
            except DBAPIError as exc:
                sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
                if sqlstate not in RETRYABLE_SQLSTATES or attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self.sessions() as session:
            return await work(session)
