"""The faces' server-side sessions and sign-ins under way, in the hub's database.

A session row holds the access and refresh tokens sealed under the key-encryption key and
bound to the row (its id hash and face), so a copied value opens nowhere else; the row is
found by the SHA-256 of the id the cookie carries, so the table alone signs nobody in."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import FaceLogin, FaceSession
from hub.web.bff.faces import digest
from hub.web.oauth.token_store import REFRESH_LIFETIME
from mallnet.db import utcnow
from mallnet.keywrap import Keyring

LOGIN_LIFETIME = dt.timedelta(minutes=15)
# An access token this close to its end is refreshed before use.
REFRESH_MARGIN = dt.timedelta(seconds=30)

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    scope: str

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> Tokens:
        expires_at = utcnow() + dt.timedelta(seconds=int(body["expires_in"]))
        return cls(body["access_token"], body["refresh_token"], expires_at, body["scope"])


@dataclass(frozen=True)
class Held:
    """A session as the hub reads it back."""

    id_hash: str
    face: str
    client_id: str
    subject: str
    tokens: Tokens

    @property
    def fresh(self) -> bool:
        return self.tokens.access_expires_at - REFRESH_MARGIN > utcnow()


def _context(id_hash: str, face: str) -> str:
    return f"face-session:{face}:{id_hash}"


def _seal(keyring: Keyring, id_hash: str, face: str, tokens: Tokens) -> tuple[str, str]:
    clear = json.dumps({"a": tokens.access_token, "r": tokens.refresh_token}).encode()
    return keyring.seal(clear, _context(id_hash, face))


async def start_login(sessions: Sessions, face: str, verifier: str) -> str:
    """A new sign-in's state (returned, to send) and its PKCE verifier (kept)."""
    state = secrets.token_urlsafe(32)
    async with sessions() as session, session.begin():
        now = utcnow()
        await session.execute(delete(FaceLogin).where(FaceLogin.expires_at < now))
        session.add(
            FaceLogin(
                state_hash=digest(state),
                face=face,
                code_verifier=verifier,
                expires_at=now + LOGIN_LIFETIME,
            )
        )
    return state


async def claim_login(sessions: Sessions, face: str, state: str) -> str | None:
    """The verifier of the face's sign-in with this state, once; None if unknown or old."""
    async with sessions() as session, session.begin():
        row = await session.get(FaceLogin, digest(state), with_for_update=True)
        if row is None:
            return None
        await session.delete(row)
        if row.face != face or row.expires_at < utcnow():
            return None
        return row.code_verifier


async def create(
    sessions: Sessions, keyring: Keyring, face: str, client_id: str, subject: str, tokens: Tokens
) -> str:
    """A new session; returns its id (for the cookie only: the hub keeps its hash)."""
    session_id = secrets.token_urlsafe(32)
    id_hash = digest(session_id)
    kek_id, sealed = _seal(keyring, id_hash, face, tokens)
    now = utcnow()
    async with sessions() as session, session.begin():
        # Sessions past their end are swept as new ones begin (an indexed delete).
        await session.execute(delete(FaceSession).where(FaceSession.expires_at < now))
        session.add(
            FaceSession(
                id_hash=id_hash,
                face=face,
                client_id=client_id,
                subject=subject,
                scope=tokens.scope,
                kek_id=kek_id,
                sealed_tokens=sealed,
                access_expires_at=tokens.access_expires_at,
                created_at=now,
                expires_at=now + REFRESH_LIFETIME,
            )
        )
    return session_id


async def load(sessions: Sessions, keyring: Keyring, session_id: str) -> Held | None:
    return await load_by_hash(sessions, keyring, digest(session_id))


async def load_by_hash(sessions: Sessions, keyring: Keyring, id_hash: str) -> Held | None:
    async with sessions() as session:
        row = await session.get(FaceSession, id_hash)
    return _held(keyring, row)


def _held(keyring: Keyring, row: FaceSession | None) -> Held | None:
    if row is None or row.expires_at < utcnow():
        return None
    clear = json.loads(keyring.open(row.kek_id, row.sealed_tokens, _context(row.id_hash, row.face)))
    tokens = Tokens(clear["a"], clear["r"], row.access_expires_at, row.scope)
    return Held(row.id_hash, row.face, row.client_id, row.subject, tokens)


async def renew(
    sessions: Sessions,
    keyring: Keyring,
    id_hash: str,
    refresh: Callable[[Held], Awaitable[Tokens]],
    *,
    lock_row: bool,
) -> Held | None:
    """The session with fresh tokens: ``refresh`` is called only if they are still stale
    once this caller holds the session. With ``lock_row`` (PostgreSQL: hub instances
    share the database) the row is locked for the refresh, so another instance waits and
    then finds it done; SQLite (one process) relies on the caller's lock, as holding its
    write lock would stall the token endpoint's own writes."""
    if not lock_row:
        held = await load_by_hash(sessions, keyring, id_hash)
        if held is None or held.fresh:
            return held
        tokens = await refresh(held)
        await replace_tokens(sessions, keyring, held, tokens)
        return replace(held, tokens=tokens)
    async with sessions() as session, session.begin():
        row = await session.get(FaceSession, id_hash, with_for_update=True)
        held = _held(keyring, row)
        if row is None or held is None or held.fresh:
            return held
        tokens = await refresh(held)
        row.kek_id, row.sealed_tokens = _seal(keyring, id_hash, held.face, tokens)
        row.access_expires_at, row.scope = tokens.access_expires_at, tokens.scope
        return replace(held, tokens=tokens)


async def replace_tokens(sessions: Sessions, keyring: Keyring, held: Held, tokens: Tokens) -> None:
    kek_id, sealed = _seal(keyring, held.id_hash, held.face, tokens)
    async with sessions() as session, session.begin():
        row = await session.get(FaceSession, held.id_hash, with_for_update=True)
        if row is not None:
            row.kek_id, row.sealed_tokens = kek_id, sealed
            row.access_expires_at, row.scope = tokens.access_expires_at, tokens.scope


async def end(sessions: Sessions, id_hash: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(FaceSession).where(FaceSession.id_hash == id_hash))


async def subject_of(sessions: Sessions, id_hash: str) -> str | None:
    async with sessions() as session:
        subject: str | None = await session.scalar(
            select(FaceSession.subject).where(FaceSession.id_hash == id_hash)
        )
    return subject
