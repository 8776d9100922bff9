"""Abuse counters: one limiter over the ``limits`` library, moving windows.

The storage comes from ``MALLNET_RATE_LIMIT_STORAGE``: empty means this process's memory
(the embedded default: one process, nothing to run); ``redis://host:6379/N`` shares the
counters between every instance of an app behind a load balancer. A hit is atomic in
both (a Lua script in Redis), so concurrent requests cannot all pass a nearly spent limit.

Identifiers (phones, usernames, addresses) become keys as an HMAC-SHA256 under a secret
of the app's (the hub derives it from its key-encryption key): the counters' store never
holds them in clear, and a plain hash would not hide them (Iran's ~10^9 mobile numbers are
walked in seconds). A new secret (a KEK rotation) starts the counts afresh.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from mallnet.config import Settings
from mallnet.keywrap import keyring_for


@dataclass(frozen=True)
class Rule:
    """A named limit, e.g. ``Rule.of("otp-phone", "3 per 10 minutes")``. The name keeps
    two rules with the same numbers apart."""

    name: str
    item: RateLimitItem

    @classmethod
    def of(cls, name: str, limit: str) -> Rule:
        return cls(name, parse(limit))

    def on(self, *identifiers: str) -> Charge:
        return Charge(self, identifiers)

    @property
    def window_s(self) -> int:
        return int(self.item.get_expiry())


@dataclass(frozen=True)
class Charge:
    """One hit of ``rule`` for one set of identifiers."""

    rule: Rule
    identifiers: tuple[str, ...]


class RateLimited(Exception):
    """A limit is spent; ``retry_after_s`` is when its oldest hit leaves the window."""

    def __init__(self, rule: Rule, retry_after_s: int) -> None:
        super().__init__(f"rate limit {rule.name} ({rule.item}) reached")
        self.rule = rule
        self.retry_after_s = retry_after_s


LABEL = b"mallnet rate-limit keys v1"


class Limiter:
    """Counts hits against rules; shared by every request of an app."""

    def __init__(
        self, storage: Storage, pool: ConnectionPool | None = None, *, secret: bytes | None = None
    ) -> None:
        self.storage = storage
        self._pool = pool
        self._window = MovingWindowRateLimiter(storage)
        # A key of its own (never the secret itself); random when none is given: counts
        # then live only in this process's memory anyway.
        self._hmac_key = hmac.new(secret or secrets.token_bytes(32), LABEL, hashlib.sha256).digest()

    def _hashed(self, identifier: str) -> str:
        return hmac.new(self._hmac_key, identifier.encode(), hashlib.sha256).hexdigest()[:32]

    @classmethod
    def from_url(
        cls, url: str | None, *, key_prefix: str = "mallnet-limits", secret: bytes | None = None
    ) -> Limiter:
        """Memory for an empty ``url``; Redis for ``redis://``/``rediss://`` URLs, where
        every instance sharing the counts needs the same ``secret``."""
        if not url:
            return cls(MemoryStorage(), secret=secret)
        if not url.startswith(("redis://", "rediss://")):
            raise ValueError(
                "MALLNET_RATE_LIMIT_STORAGE must be empty (this process's memory) or a Redis "
                f"URL (redis://host:6379/0), not {url.split('://')[0]!r}"
            )
        pool = ConnectionPool.from_url(url)  # ours, so that ``aclose`` can close it
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage(
            f"async+{url}",
            implementation="redispy",
            key_prefix=key_prefix,
            wrap_exceptions=True,
            **options,
        )
        if secret is None:
            raise ValueError("counts shared in Redis need a secret shared by their instances")
        return cls(storage, pool, secret=secret)

    @classmethod
    def from_settings(cls, settings: Settings, secret: bytes | None = None) -> Limiter:
        """The limiter of an app with these settings; ``secret`` defaults to the hub's
        key-encryption key (``mallnet.keywrap``), the same in every hub instance."""
        if secret is None:
            secret = keyring_for(settings).current.key
        prefix = f"{settings.redis_key_prefix}mallnet-limits"
        return cls.from_url(settings.rate_limit_storage, key_prefix=prefix, secret=secret)

    def _key(self, charge: Charge) -> tuple[str, ...]:
        return (charge.rule.name, *(self._hashed(i) for i in charge.identifiers))

    async def allows(self, charge: Charge) -> bool:
        """Whether one more hit would pass (without counting one)."""
        return await self._window.test(charge.rule.item, *self._key(charge))

    async def used(self, charge: Charge) -> int:
        """Hits in the window now."""
        stats = await self._window.get_window_stats(charge.rule.item, *self._key(charge))
        return charge.rule.item.amount - stats.remaining

    async def retry_after_s(self, charge: Charge) -> int:
        """Seconds until one more hit would pass (at least 1)."""
        stats = await self._window.get_window_stats(charge.rule.item, *self._key(charge))
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def hit(self, charge: Charge) -> bool:
        """Count one hit; False (and nothing counted) when the limit is spent."""
        return await self._window.hit(charge.rule.item, *self._key(charge))

    async def acquire(self, *charges: Charge) -> None:
        """Count one hit of each charge, or raise ``RateLimited`` for the first spent one.
        All are tested first, so a refusal usually counts nothing; under a race a hit may
        still fail after earlier ones counted (they are counted in the order given: put
        the caller's own budget first)."""
        for charge in charges:
            if not await self.allows(charge):
                raise RateLimited(charge.rule, await self.retry_after_s(charge))
        for charge in charges:
            if not await self.hit(charge):
                raise RateLimited(charge.rule, await self.retry_after_s(charge))

    async def forget(self, charge: Charge) -> None:
        """Drop the hits counted for this charge (e.g. a right password forgives the wrong
        ones before it)."""
        await self._window.clear(charge.rule.item, *self._key(charge))

    async def aclose(self) -> None:
        """Close the connections to Redis (nothing to do in memory)."""
        if self._pool is not None:
            await self._pool.aclose()


def limiter_for(state: Any) -> Limiter:
    """The app's limiter (``state`` is the Starlette app's state, holding ``settings``),
    made on first use in the app's event loop and kept for its lifetime."""
    limiter: Limiter | None = getattr(state, "limiter", None)
    if limiter is None:
        limiter = Limiter.from_settings(state.settings)
        state.limiter = limiter
    return limiter
