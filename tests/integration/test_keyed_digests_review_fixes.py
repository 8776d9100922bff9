"""Keyed digests (security review, issue 15): the rate-limit keys in Redis and the
one-time codes in the hub's database are HMAC-SHA256 under a key derived from the hub's
key-encryption key, not a plain SHA-256 anyone can walk (10^9 phones, 10^6 codes)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import redis.asyncio as aredis
from sqlalchemy import select

from hub.db.models import OneTimeCode
from hub.services import abuse, people
from hub.services.grants import common
from mallnet.config import Settings
from mallnet.ratelimit import Limiter
from tests.conftest import REDIS_URL
from tests.hub_pages import hub_pages, in_hub

PHONE = "+989121234567"


def _plain(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.redis
async def test_redis_keys_do_not_open_to_a_plain_hash(redis_prefix: str) -> None:
    limiter = Limiter.from_url(REDIS_URL, key_prefix=f"{redis_prefix}limits", secret=b"k" * 32)
    client = aredis.Redis.from_url(REDIS_URL)
    try:
        await limiter.acquire(abuse.OTP_PER_PHONE.on(PHONE))
        keys = [k.decode() async for k in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        await client.aclose()
        await limiter.aclose()
    assert keys
    assert not any(_plain(PHONE)[:32] in k for k in keys), keys


async def test_limiters_with_one_secret_share_counts_and_others_do_not() -> None:
    charge = abuse.OTP_PER_PHONE.on(PHONE)
    same = Limiter.from_url(None, secret=b"a" * 32)
    assert same._key(charge) == Limiter.from_url(None, secret=b"a" * 32)._key(charge)
    assert same._key(charge) != Limiter.from_url(None, secret=b"b" * 32)._key(charge)


def test_a_stored_sign_in_code_does_not_open_to_a_plain_hash(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    with hub_pages(settings) as hub:
        assert hub.ask_code("09121234567").status_code == 200
        found = re.search(r"(\d{6})", json.loads(hub.outbox()[-1])["text"])
        assert found is not None
        stored = hub.http.portal.call(  # type: ignore[union-attr]
            in_hub, settings, lambda s: s.scalar(select(OneTimeCode.code_hash))
        )
    assert stored != _plain(f"{PHONE}:{found.group(1)}")
    assert stored == people._code_hash(PHONE, found.group(1))  # the hub's key, configured


def test_a_stored_grant_code_does_not_open_to_a_plain_hash() -> None:
    grant, shopper, code = "01JABCDEFGHJKMNPQRSTVWXYZ0", "a" * 64, "04291733"
    assert common._code_hash(grant, shopper, code) != _plain(f"{grant}:{shopper}:{code}")
