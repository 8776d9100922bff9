"""Abuse limits at the hub's sign-in (issue 15): the real client address behind trusted
proxies, codes per phone and address, the hub's hourly SMS budget, password guessing
that cannot lock the owner out, and argon2id hashes upgraded at sign-in."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from hub.app import create_app
from hub.db.models import RedemptionGrant, User
from hub.domain.problems import ProblemCode
from hub.services import abuse, grants, passwords, people
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.migrations import upgrade
from mallnet.ratelimit import Limiter, RateLimited, Rule
from mallnet.secrets_store import pseudonym

from ..conftest import REDIS_URL
from ..hub_pages import PASSWORD, form_fields, hub_pages, in_hub, signed_in
from ..live_server import LiveServer

PROXY = "10.0.0.2"  # the load balancer in front of the hub
SECRET = b"s" * 32  # what the hub derives from its key-encryption key


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", trusted_proxies="10.0.0.0/24", **extra)


# --- the real client address -----------------------------------------------------------


def test_shoppers_behind_the_trusted_proxy_each_have_their_own_address_limit(
    tmp_path: Path,
) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        # Eleven shoppers on eleven phones, all reaching the hub through its proxy.
        statuses = [
            hub.ask_code(f"0912000{i:04d}", address=f"198.51.100.{i}").status_code
            for i in range(11)
        ]
        assert statuses == [200] * 11  # the proxy's own address was not the limit
        # One of them asking for many phones is limited by her own address.
        spree = [
            hub.ask_code(f"0935000{i:04d}", address="198.51.100.7").status_code for i in range(10)
        ]
    assert spree == [200] * 9 + [429]


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer="203.0.113.9") as hub:
        statuses = [
            hub.ask_code(f"0912000{i:04d}", address=f"198.51.100.{i}").status_code
            for i in range(11)
        ]
        sent = len(hub.outbox())
    # The spoofed addresses changed nothing: the peer's own limit of ten codes held.
    assert statuses == [200] * 10 + [429]
    assert sent == 10


# --- the SMS budget ----------------------------------------------------------------------


def test_the_hourly_sms_budget_stops_sign_in_codes_from_any_address(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path, sms_budget_per_hour=5), peer=PROXY) as hub:
        answers = [hub.ask_code(f"0912000{i:04d}", address=f"198.51.100.{i}") for i in range(6)]
        sent = len(hub.outbox())
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "سقف پیامک" in refused.text
    assert "text-message budget" in refused.text
    assert sent == 5  # nothing texted for the refused one


async def test_redemption_codes_have_an_hourly_budget_too(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    await upgrade("hub", settings.hub_db_url)
    limits = abuse.Limits.in_memory(sms_budget_per_hour=2)
    key = b"k" * 32
    phones = ("+989120000001", "+989120000002", "+989121234567")
    for phone in phones[:2]:
        await in_hub(
            settings,
            lambda s, p=phone: grants.text_code(
                s, key, "ketab-sara", p, pseudonym(key, p), limits=limits
            ),
        )
    phone = phones[2]
    with pytest.raises(grants.GrantError, match="text-message budget") as refused:
        await in_hub(
            settings,
            lambda s: grants.text_code(
                s, key, "ketab-sara", phone, pseudonym(key, phone), limits=limits
            ),
        )
    assert refused.value.code is ProblemCode.RATE_LIMITED
    made = await in_hub(
        settings,
        lambda s: s.scalar(
            select(RedemptionGrant.id).where(RedemptionGrant.pseudonym == pseudonym(key, phone))
        ),
    )
    assert made is None  # refused before any grant was made


class _Texts:
    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        pass


# --- passwords: slowed, never locking the owner out ---------------------------------------


def test_a_strangers_guesses_do_not_lock_the_owner_out(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        # Strangers guess from two addresses up to the account's limit of wrong passwords:
        # the account is under attack.
        for address, guesses in (("198.51.100.1", 6), ("198.51.100.2", 4)):
            for i in range(guesses):
                assert hub.sign_in("ali", f"guess {i}", address).status_code == 400
        # The owner, from her own address, still signs in.
        owner = hub.sign_in("ali", PASSWORD, "192.0.2.10")
        assert signed_in(owner), owner.text
        hub.http.cookies.clear()  # the strangers' browsers are not her known device
        # While the attack lasts, an address that guessed wrong gets nothing more (even
        # the right password), and a new address one guess.
        for address in ("198.51.100.1", "198.51.100.2"):
            stopped = hub.sign_in("ali", PASSWORD, address)
            assert stopped.status_code == 429
            assert int(stopped.headers["Retry-After"]) > 0
            assert "حمله" in stopped.text
            assert "under a password-guessing attack" in stopped.text
        assert hub.sign_in("ali", "one guess", "192.0.2.99").status_code == 400
        assert hub.sign_in("ali", "another", "192.0.2.99").status_code == 429
        # And the owner again.
        assert signed_in(hub.sign_in("ali", PASSWORD, "192.0.2.10"))


def test_a_guesser_at_one_address_is_stopped(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        statuses = [hub.sign_in("ali", f"guess {i}", "198.51.100.5").status_code for i in range(12)]
        right = hub.sign_in("ali", PASSWORD, "198.51.100.5")
        owner = hub.sign_in("ali", PASSWORD, "192.0.2.10")
    assert statuses == [400] * people.FAILURES_PER_USERNAME + [429] * 2
    assert right.status_code == 429
    assert "location" not in right.headers
    assert signed_in(owner)


def test_one_address_guessing_many_accounts_is_stopped(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        statuses = [
            hub.sign_in(f"user{i}", "password1", "198.51.100.5").status_code
            for i in range(abuse.PASSWORD_ADDRESS.item.amount + 1)
        ]
    assert statuses == [400] * abuse.PASSWORD_ADDRESS.item.amount + [429]


# --- argon2id, upgraded at sign-in ---------------------------------------------------------


def _legacy_scrypt(password: str) -> str:
    """A hash as the hub stored passwords before argon2 (scrypt, N=2**14)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


async def _set_hash(settings: Settings, stored: str) -> None:
    async def work(session: Any) -> None:
        await session.execute(
            update(User).where(User.username == "ali").values(password_hash=stored)
        )

    await in_hub(settings, work)


async def _hash_of(settings: Settings) -> str:
    found: str = await in_hub(
        settings, lambda s: s.scalar(select(User.password_hash).where(User.username == "ali"))
    )
    return found


@pytest.mark.parametrize(
    "old",
    [
        pytest.param(lambda: _legacy_scrypt(PASSWORD), id="scrypt"),
        pytest.param(
            lambda: PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD),
            id="weaker-argon2",
        ),
    ],
)
def test_an_old_hash_becomes_todays_argon2id_at_sign_in(tmp_path: Path, old: Any) -> None:
    settings = _settings(tmp_path)
    with hub_pages(settings, peer=PROXY) as hub:
        legacy = old()
        asyncio.run(_set_hash(settings, legacy))
        assert signed_in(hub.sign_in("ali", PASSWORD, "192.0.2.10"))
        upgraded = asyncio.run(_hash_of(settings))
        assert upgraded != legacy
        assert upgraded.startswith("$argon2id$")
        assert not passwords.HASHER.check_needs_rehash(upgraded)
        # Still the same password, and nothing else signs in.
        assert signed_in(hub.sign_in("ali", PASSWORD, "192.0.2.10"))
        assert hub.sign_in("ali", "not it at all", "192.0.2.11").status_code == 400
        assert asyncio.run(_hash_of(settings)) == upgraded  # a current hash is left alone


def test_new_passwords_are_argon2id_with_todays_parameters() -> None:
    stored = people.hash_password("long enough secret")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_blocking(stored, "long enough secret").matches
    assert not passwords.verify_blocking(stored, "another secret").matches


@pytest.mark.timing
async def test_an_unknown_username_costs_what_a_known_one_does(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    await upgrade("hub", settings.hub_db_url)
    await in_hub(settings, lambda s: people.create_user(s, "ali", PASSWORD, "mall_admin", None))
    # The dummy is a hash of today's kind: checking it is the same work.
    assert passwords.DUMMY_HASH.startswith("$argon2id$")
    assert not passwords.HASHER.check_needs_rehash(passwords.DUMMY_HASH)

    limits = abuse.Limits.in_memory()
    timings: dict[str, list[float]] = {"ali": [], "nobody": []}
    async with engine_scope(settings.hub_db_url) as engine:
        sessions = session_factory(engine)
        # Interleaved, so that both see the same load on the machine.
        for index in range(9):
            for username, took in timings.items():
                started = time.perf_counter()
                async with sessions() as session, session.begin():
                    address = f"10.1.{index}.1"  # no limit in the way of the measurement
                    person = await people.sign_in_user(
                        session, username, "wrong one", address, limits=limits
                    )
                took.append(time.perf_counter() - started)
                assert person is None
    ratio = statistics.median(timings["nobody"]) / statistics.median(timings["ali"])
    assert 0.5 < ratio < 2, timings


# --- the limiter on Redis ------------------------------------------------------------------


@pytest.mark.redis
async def test_hub_instances_share_their_counts_in_redis(redis_prefix: str) -> None:
    rule = Rule.of("test-rule", "5 per minute")
    first = Limiter.from_url(REDIS_URL, key_prefix=f"{redis_prefix}limits", secret=SECRET)
    second = Limiter.from_url(REDIS_URL, key_prefix=f"{redis_prefix}limits", secret=SECRET)
    # Twenty concurrent hits over two instances: exactly five pass.
    results = await asyncio.gather(
        *((first if i % 2 else second).hit(rule.on("09121234567")) for i in range(20))
    )
    assert results.count(True) == 5
    with pytest.raises(RateLimited, match="test-rule") as refused:
        await second.acquire(rule.on("09121234567"))
    assert 0 < refused.value.retry_after_s <= 60
    # Another identifier has its own count; the phone itself is not in Redis in clear.
    await first.acquire(rule.on("09351112233"))
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
    await first.aclose()
    await second.aclose()
    assert keys
    assert all(k.startswith(f"{redis_prefix}limits:") for k in keys)
    assert not any("0912" in k or "0935" in k for k in keys)


@pytest.mark.redis
async def test_the_settings_choose_redis_storage(redis_prefix: str) -> None:
    settings = Settings(rate_limit_storage=REDIS_URL, redis_key_prefix=redis_prefix)
    limiter = Limiter.from_settings(settings, SECRET)
    assert type(limiter.storage).__name__ == "RedisStorage"
    assert type(Limiter.from_settings(Settings(), SECRET).storage).__name__ == "MemoryStorage"
    with pytest.raises(ValueError, match="Redis URL"):
        Limiter.from_url("memcached://127.0.0.1:11211")
    try:
        await limiter.acquire(abuse.OTP_PER_PHONE.on("+989121234567"))
        assert await limiter.used(abuse.OTP_PER_PHONE.on("+989121234567")) == 1
    finally:
        await limiter.aclose()


# --- served by uvicorn -------------------------------------------------------------------


def test_uvicorn_does_not_believe_forwarded_headers_on_its_own(tmp_path: Path) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default and would rewrite the peer
    before the hub sees it: the servers run with its proxy handling off, so only
    MALLNET_TRUSTED_PROXIES (empty here) decides."""
    settings = Settings(data_dir=tmp_path / "var", hub_url="http://127.0.0.1:1")
    statuses = []
    with (
        hub_pages(settings) as prepared,
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, follow_redirects=False, timeout=10) as http,
    ):
        for i in range(11):
            params = prepared.params("app")
            spoofed = {"X-Forwarded-For": f"198.51.100.{i}"}
            page = http.get("/oauth/authorize", params=params, headers=spoofed)
            data = {**params, **form_fields(page), "phone": f"0912000{i:04d}"}
            statuses.append(http.post("/oauth/otp", data=data, headers=spoofed).status_code)
    assert statuses == [200] * 10 + [429]
