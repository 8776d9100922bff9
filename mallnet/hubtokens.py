"""Verifying access tokens the hub signed (RFC 9068 JWTs), offline, against its JWKS.

Nodes fetch the hub's public keys once, keep them (also on disk, so a node restarted while
the hub is down still verifies tokens), and refetch only when a token names a key id they
do not know — at most once per ``REFRESH_MIN_S``, one load at a time: a request that needs
the keys while they load waits for that load instead of being refused. Only RS256 is
accepted: ``alg: none`` and HMAC-signed lookalikes are refused before any signature check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.authentication import AuthenticationError

from mallnet.auth import Principal, TokenVerifier
from mallnet.config import Settings

ALGORITHMS = ["RS256"]
REFRESH_MIN_S = 30.0
# Keys are re-read at least this often, so a key the hub stopped publishing stops being
# trusted within MAX_AGE_S (the hub's JWKS says Cache-Control: max-age=300).
MAX_AGE_S = 300.0
LEEWAY_S = 30
logger = logging.getLogger("mallnet.tokens")

KeyLoader = Callable[[], Awaitable[dict[str, Any]]]


class JWKSCache:
    """The hub's public keys, loaded by ``load`` and kept between refreshes."""

    def __init__(self, load: KeyLoader, cache_file: Path | None = None) -> None:
        self.load = load
        self.cache_file = cache_file
        self.keys: KeySet | None = None
        # Never loaded: due at once (time.monotonic() counts from boot, so 0.0 would
        # look recent on a machine up for less than REFRESH_MIN_S).
        self.loaded_at = -math.inf
        # Bumped whenever the key set changes: verified tokens are cached per generation.
        self.generation = 0
        # One load at a time; made per event loop (an asyncio.Lock that ever had a waiter
        # belongs to that loop, and a cache may outlive its first loop in tests and CLIs).
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        if cache_file is not None and cache_file.exists():
            self.keys = KeySet.import_key_set(cast(Any, json.loads(cache_file.read_text())))

    async def get(self, kid: str | None) -> KeySet:
        lock = self._loading()
        # Fast path, no lock: a known key while the keys are fresh enough (even during a
        # load: the keys we have still verify it), or an unknown one when no load is in
        # flight and the last began under REFRESH_MIN_S ago (its token is refused).
        if not self._due(kid) and (self._knows(kid) or not lock.locked()):
            return self._available()
        async with lock:
            # Re-checked after waiting: the load we waited for may have brought the key,
            # and then there is nothing to load again.
            if self._due(kid):
                await self._refresh()
        return self._available()

    async def refresh(self) -> None:
        async with self._loading():
            await self._refresh()

    def _knows(self, kid: str | None) -> bool:
        return self.keys is not None and any(k.kid == kid for k in self.keys.keys)

    def _due(self, kid: str | None) -> bool:
        age = time.monotonic() - self.loaded_at
        return age >= MAX_AGE_S or (not self._knows(kid) and age >= REFRESH_MIN_S)

    def _available(self) -> KeySet:
        if self.keys is None:
            raise AuthenticationError("the hub's signing keys are not available yet")
        return self.keys

    def _loading(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _refresh(self) -> None:
        # Stamped before the load: a failed load also waits REFRESH_MIN_S before the next.
        before, self.loaded_at = self.loaded_at, time.monotonic()
        try:
            data = await self.load()
        except asyncio.CancelledError:
            # The request that was loading went away: the load did not fail, so the next
            # waiter loads at once instead of everyone being refused for REFRESH_MIN_S.
            self.loaded_at = before
            raise
        except (httpx.HTTPError, OSError, ValueError) as exc:
            # Keep verifying with the keys we have: the hub may be briefly away.
            logger.warning("could not refresh the hub's JWKS: %s", exc)
            return
        try:
            keys = KeySet.import_key_set(cast(Any, data))
        except JoseError as exc:
            logger.warning("the hub's JWKS is unusable: %s", exc)
            return
        if self.keys is None or _kids(keys) != _kids(self.keys):
            self.generation += 1
        self.keys = keys
        if self.cache_file is not None:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps(data))


def _kids(keys: KeySet) -> frozenset[str | None]:
    return frozenset(key.kid for key in keys.keys)


def remote_jwks(hub_url: str, timeout_s: float = 5.0) -> KeyLoader:
    async def load() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(f"{hub_url.rstrip('/')}/.well-known/jwks.json")
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

    return load


class HubTokenVerifier:
    """Verifies hub-signed access tokens meant for ``audience``."""

    def __init__(self, cache: JWKSCache, *, issuer: str, audience: str) -> None:
        self.cache = cache
        self.issuer = issuer
        self.audience = audience
        self.registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
        )
        self._keys: KeySet | None = None
        self._decode = lru_cache(maxsize=8192)(self._check)
        # The clock expiry is checked against (tests move it forward).
        self.now: Callable[[], float] = time.time

    async def verify(self, token: str) -> Principal:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise AuthenticationError(f"invalid access token: {exc}") from exc
        if header.get("alg") not in ALGORITHMS:
            raise AuthenticationError(f"invalid access token: algorithm {header.get('alg')!r}")
        self._keys = await self.cache.get(header.get("kid"))
        principal, expires_at = self._decode(token, self.cache.generation)
        if expires_at + LEEWAY_S <= self.now():
            raise AuthenticationError("invalid access token: expired")
        return principal

    def _check(self, token: str, generation: int) -> tuple[Principal, float]:
        """Signature and claims, checked once per token (its content never changes)."""
        try:
            assert self._keys is not None
            decoded = jwt.decode(token, self._keys, algorithms=ALGORITHMS)
            self.registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise AuthenticationError(f"invalid access token: {exc}") from exc
        claims = decoded.claims
        username = claims.get("preferred_username")
        return (
            Principal(
                subject=str(claims["sub"]),
                client_id=str(claims["client_id"]),
                scopes=frozenset(str(claims.get("scope") or "").split()),
                shop=claims.get("shop"),
                issued_at=float(claims["iat"]),
                name=username if isinstance(username, str) else None,
            ),
            float(claims["exp"]),
        )


class ByAlgorithm:
    """Routes a token to the verifier for its signing algorithm (development nodes accept
    both their local HS256 staff tokens and the hub's RS256 tokens)."""

    def __init__(self, verifiers: dict[str, TokenVerifier]) -> None:
        self.verifiers = verifiers

    async def verify(self, token: str) -> Principal:
        try:
            alg = jws.extract_compact(token.encode()).protected.get("alg")
        except (JoseError, ValueError) as exc:
            raise AuthenticationError(f"invalid access token: {exc}") from exc
        verifier = self.verifiers.get(str(alg))
        if verifier is None:
            raise AuthenticationError(f"invalid access token: algorithm {alg!r}")
        return await verifier.verify(token)


def node_verifier(settings: Settings, shop: str) -> TokenVerifier:
    """What a node accepts: tokens the hub signed for this shop; in development also the
    local development tokens (``mallnet dev-token``)."""
    hub_url = settings.public_hub_url.rstrip("/")
    cache = JWKSCache(remote_jwks(hub_url), cache_file=settings.data_dir / f"hub-jwks-{shop}.json")
    hub = HubTokenVerifier(cache, issuer=hub_url, audience=shop)
    if settings.is_production:
        return hub
    from mallnet.devtokens import DevTokenVerifier

    return ByAlgorithm({"RS256": hub, "HS256": DevTokenVerifier(settings, audience=shop)})
