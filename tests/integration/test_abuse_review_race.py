"""Under a password-guessing attack, an address gets one guess: decided atomically, so a
concurrent burst from a fresh address gets one guess, not one each (security review,
issue 15). Redis, as production runs it (its round trips let the burst interleave)."""

from __future__ import annotations

import asyncio

import pytest

from hub.services import abuse
from mallnet.ratelimit import Limiter, RateLimited
from tests.conftest import REDIS_URL

SECRET = b"s" * 32


@pytest.mark.redis
async def test_under_attack_a_burst_from_a_fresh_address_gets_one_guess(
    redis_prefix: str,
) -> None:
    limiter = Limiter.from_url(REDIS_URL, key_prefix=f"{redis_prefix}limits", secret=SECRET)
    try:
        # Given an account under attack: ten wrong passwords from ten addresses
        for i in range(10):
            guard = abuse.PasswordGuard(limiter, "admin", f"198.51.100.{i}")
            await guard.before()
            await guard.failed()
        assert not await limiter.allows(abuse.PASSWORD_ACCOUNT.on("admin"))

        async def guess() -> bool:
            guard = abuse.PasswordGuard(limiter, "admin", "203.0.113.9")
            try:
                await guard.before()
            except RateLimited:
                return False
            await asyncio.sleep(0.03)  # the password check
            await guard.failed()
            return True

        # When ten guesses arrive at once from one fresh address
        passed = await asyncio.gather(*(guess() for _ in range(10)))
        # Then one is checked
        assert passed.count(True) == 1
        # And the owner, from an address of her own, still gets her try
        owner = abuse.PasswordGuard(limiter, "admin", "192.0.2.10")
        await owner.before()
        await owner.succeeded()
    finally:
        await limiter.aclose()
