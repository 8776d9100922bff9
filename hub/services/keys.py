"""The hub's token-signing keys: creation, rotation, and the public JWKS nodes verify with.

One key signs at a time (the newest not retired). Rotating creates a new signing key and
retires the old one, which stays published until every token it signed has expired, so
a node's cached JWKS keeps verifying tokens across a rotation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SigningKey
from mallnet.db import utcnow

ALGORITHM = "RS256"
# The longest lifetime of any access token the hub issues: a retired key stays in the
# JWKS at least this long.
MAX_TOKEN_LIFETIME = dt.timedelta(hours=1)


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    key: RSAKey


def _new_key(now: dt.datetime) -> SigningKey:
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        private_jwk=key.as_dict(private=True),
        public_jwk=public,
        created_at=now,
    )


async def active_key(session: AsyncSession) -> ActiveKey:
    """The key to sign with; the first one is created on demand."""
    row = await session.scalar(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
        .limit(1)
    )
    if row is None:
        row = _new_key(utcnow())
        session.add(row)
        await session.flush()
    return ActiveKey(row.kid, _imported(row.kid, row.private_jwk))


_IMPORTED: dict[str, RSAKey] = {}


def _imported(kid: str, private_jwk: dict[str, Any]) -> RSAKey:
    """Importing an RSA private key costs ~40 ms of CPU: once per key and process."""
    key = _IMPORTED.get(kid)
    if key is None:
        key = _IMPORTED[kid] = RSAKey.import_key(private_jwk)
    return key


async def rotate(session: AsyncSession, now: dt.datetime | None = None) -> str:
    """Start signing with a new key; keep the old ones published until their tokens expire."""
    now = now or utcnow()
    for old in (
        await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))
    ).all():
        old.retired_at = now
        old.published_until = now + MAX_TOKEN_LIFETIME
    fresh = _new_key(now)
    session.add(fresh)
    await session.flush()
    return fresh.kid


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
