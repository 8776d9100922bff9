"""Hashing the secrets people sign in or authorise with: staff passwords and shoppers'
redemption PINs, argon2id through argon2-cffi, one hasher for both.

The work runs in a worker thread (``hash_async``, ``verify``): a hash takes tens of
milliseconds of CPU and must not stall the event loop. Passwords stored before argon2
(``scrypt$salt$digest``) still verify, and ``verify`` says when a stored hash should be
replaced: the old scheme, or argon2 with parameters older than ``HASHER``'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane): about 25 ms here, and little
# memory per concurrent sign-in. Raising these upgrades every hash at its next sign-in.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# The scheme before argon2: still read, never written.
_LEGACY_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class Verdict:
    matches: bool
    needs_rehash: bool = False


def hash_secret(secret: str) -> str:
    """The argon2id hash of ``secret`` (blocking: call ``hash_async`` from async code)."""
    return HASHER.hash(secret)


async def hash_async(secret: str) -> str:
    return await asyncio.to_thread(HASHER.hash, secret)


def _legacy_scrypt_matches(secret: str, stored: str) -> bool:
    try:
        _scheme, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_LEGACY_SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def verify_blocking(stored: str, secret: str) -> Verdict:
    if stored.startswith("scrypt$"):
        return Verdict(_legacy_scrypt_matches(secret, stored), needs_rehash=True)
    try:
        HASHER.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return Verdict(False)
    return Verdict(True, HASHER.check_needs_rehash(stored))


async def verify(stored: str, secret: str) -> Verdict:
    """Whether ``secret`` matches ``stored``, checked in a worker thread."""
    return await asyncio.to_thread(verify_blocking, stored, secret)


# Checked when no account matches, so an unknown name costs what a known one does.
DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))
