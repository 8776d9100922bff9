"""The JWKS cache under concurrency: one load at a time, requests that need the keys wait
for the load in flight, and the refresh interval still limits how often keys are loaded."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.authentication import AuthenticationError

from mallnet.hubtokens import MAX_AGE_S, REFRESH_MIN_S, HubTokenVerifier, JWKSCache

ISSUER = "https://hub.example"
SHOP = "ketab-sara"


def _key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)


OLD, NEW = _key("old"), _key("new")


def _published(*keys: RSAKey) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def _known(*keys: RSAKey) -> KeySet:
    return KeySet.import_key_set(cast(Any, _published(*keys)))


def _token(key: RSAKey, subject: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": SHOP,
        "sub": subject,
        "client_id": "node-ketab-sara",
        "iat": now,
        "exp": now + 300,
        "scope": "shop:read",
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, claims, key)


class SlowHub:
    """A JWKS loader that answers when released, counting its loads."""

    def __init__(self, *keys: RSAKey) -> None:
        self.published = _published(*keys)
        self.loads = 0
        self.loading = asyncio.Event()
        self.release = asyncio.Event()

    async def load(self) -> dict[str, Any]:
        self.loads += 1
        self.loading.set()
        await self.release.wait()
        return self.published


def _verifier(cache: JWKSCache) -> HubTokenVerifier:
    return HubTokenVerifier(cache, issuer=ISSUER, audience=SHOP)


async def test_every_verification_during_the_first_load_waits_for_it() -> None:
    hub = SlowHub(OLD)
    verifier = _verifier(JWKSCache(hub.load))
    first = asyncio.create_task(verifier.verify(_token(OLD, "staff:0")))
    await hub.loading.wait()
    others = [asyncio.create_task(verifier.verify(_token(OLD, f"staff:{i}"))) for i in (1, 2, 3)]
    await asyncio.sleep(0.01)  # they reach the cache while it loads
    assert not any(task.done() for task in others)
    hub.release.set()
    principals = await asyncio.gather(first, *others)
    assert [p.subject for p in principals] == ["staff:0", "staff:1", "staff:2", "staff:3"]
    assert hub.loads == 1


async def test_a_key_rotation_met_by_concurrent_requests_loads_once_and_fails_none() -> None:
    """The hub rotated its key: the first request signed with the new key starts a refresh;
    the ones that arrive while it loads wait for it and pass, instead of being checked
    against the old keys and refused."""
    hub = SlowHub(OLD, NEW)
    cache = JWKSCache(hub.load)
    cache.keys = _known(OLD)
    cache.loaded_at = time.monotonic() - REFRESH_MIN_S  # the refresh interval has passed
    verifier = _verifier(cache)
    first = asyncio.create_task(verifier.verify(_token(NEW, "staff:0")))
    await hub.loading.wait()
    others = [asyncio.create_task(verifier.verify(_token(NEW, f"staff:{i}"))) for i in range(1, 6)]
    # A token of the key the node already knows is verified at once, load or no load.
    assert (await verifier.verify(_token(OLD, "staff:old"))).subject == "staff:old"
    await asyncio.sleep(0.01)
    assert not any(task.done() for task in others)
    hub.release.set()
    principals = await asyncio.gather(first, *others)
    assert [p.subject for p in principals] == [f"staff:{i}" for i in range(6)]
    assert hub.loads == 1


async def test_a_known_key_is_not_held_up_by_a_periodic_refresh() -> None:
    hub = SlowHub(OLD)
    cache = JWKSCache(hub.load)
    cache.keys = _known(OLD)
    cache.loaded_at = time.monotonic() - MAX_AGE_S  # due for its periodic re-read
    verifier = _verifier(cache)
    refreshing = asyncio.create_task(verifier.verify(_token(OLD, "staff:0")))
    await hub.loading.wait()
    during = await asyncio.wait_for(verifier.verify(_token(OLD, "staff:1")), timeout=1)
    assert during.subject == "staff:1"
    assert not refreshing.done()
    hub.release.set()
    assert (await refreshing).subject == "staff:0"
    assert hub.loads == 1


async def test_an_unknown_key_loads_at_most_once_per_refresh_interval() -> None:
    hub = SlowHub(OLD)
    hub.release.set()
    verifier = _verifier(JWKSCache(hub.load))
    assert (await verifier.verify(_token(OLD, "staff:0"))).subject == "staff:0"
    stranger = _key("stranger")
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="No key for kid"):
            await verifier.verify(_token(stranger, "x"))
    assert hub.loads == 1


async def test_a_failed_first_load_refuses_its_waiters_and_is_not_retried_at_once() -> None:
    loads = 0
    release = asyncio.Event()

    async def hub_away() -> dict[str, Any]:
        nonlocal loads
        loads += 1
        await release.wait()
        raise OSError("connection refused")

    verifier = _verifier(JWKSCache(hub_away))
    tasks = [asyncio.create_task(verifier.verify(_token(OLD, f"staff:{i}"))) for i in range(3)]
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [str(r) for r in results] == ["the hub's signing keys are not available yet"] * 3
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert loads == 1


def test_a_cache_serves_one_event_loop_after_another() -> None:
    """A cache made once may be used from several loops (a CLI calling asyncio.run twice);
    its lock, once waited on in the first loop, must not break the second."""
    cache = JWKSCache(SlowHub(OLD).load)
    verifier = _verifier(cache)

    async def contended() -> list[str]:
        hub = SlowHub(OLD)
        cache.load = hub.load
        cache.keys, cache.loaded_at = None, 0.0  # as new: the second call waits for the load
        first = asyncio.create_task(verifier.verify(_token(OLD, "a")))
        await hub.loading.wait()
        second = asyncio.create_task(verifier.verify(_token(OLD, "b")))
        await asyncio.sleep(0.01)
        hub.release.set()
        return [(await task).subject for task in (first, second)]

    assert asyncio.run(contended()) == ["a", "b"]
    assert asyncio.run(contended()) == ["a", "b"]


async def test_a_node_started_just_after_the_machine_booted_loads_the_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a machine up for 5 seconds (the monotonic clock counts from boot)
    monkeypatch.setattr(time, "monotonic", lambda: 5.0)
    loads = 0

    async def load() -> dict[str, Any]:
        nonlocal loads
        loads += 1
        return _published(OLD)

    # When the first token arrives, then the keys are loaded and it verifies
    principal = await _verifier(JWKSCache(load)).verify(_token(OLD, "staff:1"))
    assert principal.subject == "staff:1"
    assert loads == 1


async def test_a_load_whose_request_went_away_is_taken_over_by_the_next_waiter() -> None:
    # Given a first load in flight and a second request waiting for it
    hub = SlowHub(OLD)
    cache = JWKSCache(hub.load)
    first = asyncio.create_task(cache.get(OLD.kid))
    await hub.loading.wait()
    waiter = asyncio.create_task(_verifier(cache).verify(_token(OLD, "staff:2")))
    await asyncio.sleep(0)

    # When the request that was loading is cancelled (its client hung up)
    first.cancel()
    hub.release.set()

    # Then the waiter loads the keys itself and verifies, and nobody is refused
    principal = await waiter
    assert principal.subject == "staff:2"
    assert hub.loads == 2
    with pytest.raises(asyncio.CancelledError):
        await first
