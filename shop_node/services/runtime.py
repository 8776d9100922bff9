"""What every node use case needs at hand: the shop, its database and its system accounts."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mallnet.config import Settings
from mallnet.db import read_session_factory, session_factory, transaction, utcnow
from mallnet.messaging.quiet import DEFAULT_QUIET_HOURS, QuietHours
from mallnet.messaging.quiet import parse as parse_quiet
from mallnet.secrets_store import network_key
from shop_node.domain.policy import ClubPolicy
from shop_node.services.ledger import ensure_system_accounts

T = TypeVar("T")


@dataclass
class PolicyCache:
    """Parsed club policies by version — a version never changes once written — and which
    version is current, asked again after ``fresh_s`` seconds: every purchase would
    otherwise pay a round trip for a policy that changes a few times a year. An edit made
    through this process is seen at once; other processes see it within ``fresh_s``, and
    each purchase records the version it was computed with."""

    fresh_s: float = 5.0
    parsed: dict[int, ClubPolicy] = field(default_factory=dict)
    _current: tuple[float, int] | None = None

    def fresh_version(self) -> int | None:
        if self._current is None or time.monotonic() - self._current[0] >= self.fresh_s:
            return None
        return self._current[1]

    def saw_version(self, version: int) -> int:
        self._current = (time.monotonic(), version)
        return version

    def forget_version(self) -> None:
        self._current = None


@dataclass
class NodeRuntime:
    shop: str
    engine: AsyncEngine
    system_accounts: dict[str, int]
    # The network's key for shopper pseudonyms (events to the hub name shoppers by them).
    network_key: bytes
    clock: Callable[[], dt.datetime] = utcnow
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    # Sessions for work that writes nothing: on SQLite they never wait for the write lock.
    read_sessions: async_sessionmaker[AsyncSession] = field(init=False)
    policies: PolicyCache = field(default_factory=PolicyCache)
    # When promotional messages wait, and what an SMS part is estimated to cost.
    quiet: QuietHours = DEFAULT_QUIET_HOURS
    sms_part_price_rial: int = 1_200
    # The hub's public address: promotional messages carry opt-out links to it.
    hub_url: str = "http://127.0.0.1:8000"

    def __post_init__(self) -> None:
        self.sessions = session_factory(self.engine)
        self.read_sessions = read_session_factory(self.engine)

    @classmethod
    async def start(cls, shop: str, engine: AsyncEngine, settings: Settings) -> NodeRuntime:
        async with session_factory(engine)() as session, session.begin():
            system = await ensure_system_accounts(session)
        return cls(
            shop=shop,
            engine=engine,
            system_accounts=system,
            network_key=network_key(settings),
            quiet=parse_quiet(settings.quiet_hours),
            sms_part_price_rial=settings.sms_part_price_rial,
            hub_url=settings.public_hub_url.rstrip("/"),
        )

    async def transaction(
        self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 4
    ) -> T:
        """Run ``work`` in one database transaction, retrying races the database detected."""
        return await transaction(self.sessions, work, attempts=attempts)

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work``, which writes nothing, on a snapshot: on SQLite it neither takes nor
        waits for the write lock, so reads go on while a purchase is being written."""
        async with self.read_sessions() as session:
            return await work(session)
