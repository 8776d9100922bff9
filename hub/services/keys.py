"""The hub's token-signing keys: creation, rotation, and the public JWKS nodes verify with.

One key signs at a time (the newest not retired). Rotating creates a new signing key and
retires the old one, which stays published until every token it signed has expired, so
a node's cached JWKS keeps verifying tokens across a rotation.

Private keys are stored sealed under the key-encryption key (``mallnet.keywrap``): the
database alone (a dump, a backup, a replica) signs nothing. ``rewrap`` re-seals every key
under the current key-encryption key, the step of rotating that key.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SigningKey
from mallnet.db import utcnow
from mallnet.keywrap import Keyring

ALGORITHM = "RS256"
# The longest lifetime of any access token the hub issues: a retired key stays in the
# JWKS at least this long.
MAX_TOKEN_LIFETIME = dt.timedelta(hours=1)


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    key: RSAKey


def _context(kid: str) -> str:
    """What a sealed key is bound to: its own row (a sealed value copied to another row
    does not open)."""
    return f"hub signing key {kid}"


def seal(keyring: Keyring, kid: str, private_jwk: dict[str, Any]) -> tuple[str, str]:
    """(KEK id, sealed JWK) of a private key, for its row."""
    return keyring.seal(json.dumps(private_jwk, sort_keys=True).encode(), _context(kid))


def private_jwk(row: SigningKey, keyring: Keyring) -> dict[str, Any]:
    """The private JWK of a stored key; KeyEncryptionError without its key-encryption key."""
    opened: dict[str, Any] = json.loads(
        keyring.open(row.kek_id, row.sealed_private_jwk, _context(row.kid))
    )
    return opened


def _new_key(now: dt.datetime, keyring: Keyring) -> SigningKey:
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
    kek_id, sealed = seal(keyring, kid, key.as_dict(private=True))
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        kek_id=kek_id,
        sealed_private_jwk=sealed,
        public_jwk=public,
        created_at=now,
    )


async def active_key(session: AsyncSession, keyring: Keyring) -> ActiveKey:
    """The key to sign with; the first one is created on demand."""
    row = await session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    )
    if row is None:
        row = _new_key(utcnow(), keyring)
        session.add(row)
        await session.flush()
    return ActiveKey(row.kid, _imported(row, keyring))


_IMPORTED: dict[tuple[str, str], RSAKey] = {}


def _imported(row: SigningKey, keyring: Keyring) -> RSAKey:
    """Importing an RSA private key costs ~40 ms of CPU: once per key and process. The
    keyring is asked every time, so a process never signs with a key it could not open."""
    kek = keyring.kek(row.kek_id, _context(row.kid))
    key = _IMPORTED.get((row.kid, kek.id))
    if key is None:
        key = _IMPORTED[(row.kid, kek.id)] = RSAKey.import_key(private_jwk(row, keyring))
    return key


async def rotate(session: AsyncSession, keyring: Keyring, now: dt.datetime | None = None) -> str:
    """Start signing with a new key; keep the old ones published until their tokens expire."""
    now = now or utcnow()
    for old in (
        await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))
    ).all():
        old.retired_at = now
        old.published_until = now + MAX_TOKEN_LIFETIME
    fresh = _new_key(now, keyring)
    session.add(fresh)
    await session.flush()
    return fresh.kid


@dataclass(frozen=True)
class Rewrapped:
    resealed: int  # keys that were sealed under another key-encryption key
    current: int  # keys already under the current one
    kek_id: str


async def rewrap(session: AsyncSession, keyring: Keyring) -> Rewrapped:
    """Re-seal every stored private key under the keyring's current key-encryption key
    (opening each with whichever configured key sealed it). Idempotent; nothing is written
    unless every key opens."""
    rows = (
        await session.scalars(select(SigningKey).order_by(SigningKey.kid).with_for_update())
    ).all()
    stale = [row for row in rows if row.kek_id != keyring.current.id]
    opened = [(row, private_jwk(row, keyring)) for row in stale]  # all open, or none moves
    for row, jwk in opened:
        row.kek_id, row.sealed_private_jwk = seal(keyring, row.kid, jwk)
    await session.flush()
    return Rewrapped(len(stale), len(rows) - len(stale), keyring.current.id)


async def jwks(session: AsyncSession, now: dt.datetime | None = None) -> dict[str, Any]:
    """The public keys nodes verify tokens with (RFC 7517 JWK Set)."""
    now = now or utcnow()
    rows = (
        await session.scalars(
            select(SigningKey)
            .where(or_(SigningKey.published_until.is_(None), SigningKey.published_until > now))
            .order_by(SigningKey.created_at.desc())
        )
    ).all()
    return {"keys": [row.public_jwk for row in rows]}
