"""Hashing the secrets people sign in or authorise with: staff passwords and shoppers'
redemption PINs, argon2id through argon2-cffi, one hasher for both.

The work runs in a worker thread (``hash_async``, ``verify``): a hash takes tens of
milliseconds of CPU and must not stall the event loop. Passwords stored before argon2
(``scrypt$salt$digest``) still verify, and ``verify`` says when a stored hash should be
replaced: the old scheme, or argon2 weaker than ``HASHER``'s (a stronger one is kept).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

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


def _weaker_than_today(stored: str) -> bool:
    """Whether an argon2 hash is weaker than ``HASHER`` makes them. argon2-cffi's own
    ``check_needs_rehash`` tests for *different* parameters, so a hash stored stronger
    (more memory or passes, e.g. set by an operator) would be re-hashed weaker: each
    parameter is compared with ``>=`` instead."""
    try:
        found = extract_parameters(stored)
    except InvalidHashError:
        return True
    return (
        found.type is not Type.ID
        or found.version < ARGON2_VERSION
        or found.time_cost < HASHER.time_cost
        or found.memory_cost < HASHER.memory_cost
        or found.hash_len < HASHER.hash_len
        or found.salt_len < HASHER.salt_len
    )


def _argon2_matches(stored: str, secret: str) -> bool:
    try:
        return bool(HASHER.verify(stored, secret))
    except (VerificationError, InvalidHashError):
        return False


def verify_blocking(stored: str, secret: str, *, legacy_cover: bool = False) -> Verdict:
    """Whether ``secret`` matches ``stored``. With ``legacy_cover`` (passwords, where
    scrypt hashes may remain), every check does the work of both schemes (the other one on
    a dummy): a legacy scrypt check costs about 29 ms here and an argon2 one about 18 ms, so
    otherwise the time of a wrong password told which accounts still hold an old hash
    (dormant ones: none signed in since argon2) apart from unknown names. Drop it once no
    ``scrypt$`` hash is left in ``users``."""
    if stored.startswith("scrypt$"):
        matches = _legacy_scrypt_matches(secret, stored)
        if legacy_cover:
            _argon2_matches(DUMMY_HASH, secret)
        return Verdict(matches, needs_rehash=True)
    matches = _argon2_matches(stored, secret)
    if legacy_cover:
        _legacy_scrypt_matches(secret, DUMMY_SCRYPT)
    return Verdict(matches, matches and _weaker_than_today(stored))


async def verify(stored: str, secret: str, *, legacy_cover: bool = False) -> Verdict:
    """Whether ``secret`` matches ``stored``, checked in a worker thread (``legacy_cover``:
    see ``verify_blocking``)."""
    return await asyncio.to_thread(verify_blocking, stored, secret, legacy_cover=legacy_cover)


# Checked when no account matches, so an unknown name costs what a known one does.
DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))
# A legacy hash of nothing anyone knows, for ``legacy_cover``.
DUMMY_SCRYPT = "scrypt${}${}".format(secrets.token_hex(16), "0" * 64)
