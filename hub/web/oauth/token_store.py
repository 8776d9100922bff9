"""Authorization codes and refresh tokens in the database, stored hashed.

A code is claimed once (a replayed code revokes what it issued); a refresh token rotates
on every use, and one presented again revokes its whole family; what a code or refresh
token grants is re-read from the account as it is now. Disabling an account, resetting
its password or changing its role revokes its families and burns its unused codes
(``hub.services.staff``); a grant whose code or refresh token was claimed just before
that gets no token at all (its refresh token is stored revoked, and the grant fails)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import AuthorizationCode, RefreshToken
from hub.services import staff
from hub.services.people import Person, current_person
from hub.web.oauth.clients import HubClient
from mallnet.db import utcnow

CODE_LIFETIME = dt.timedelta(minutes=2)
REFRESH_LIFETIME = dt.timedelta(days=30)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    """An authorization code as Authlib reads it back at the token endpoint."""

    code_hash: str
    client_id: str
    person: Person
    scope: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class IssuedRefresh:
    """A refresh token as Authlib reads it back, claimed for rotation."""

    token_hash: str
    family_id: str
    client_id: str
    person: Person
    scope: str
    expires_at: dt.datetime
    origin_code_hash: str | None

    def check_client(self, client: HubClient) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - utcnow()).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return False  # used or revoked tokens are never loaded


async def save_code(sessions: async_sessionmaker[AsyncSession], row: AuthorizationCode) -> None:
    async with sessions() as session, session.begin():
        session.add(row)


async def _revoke_families(session: AsyncSession, *conditions: Any) -> None:
    families = select(RefreshToken.family_id).where(*conditions).scalar_subquery()
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def claim_code(
    sessions: async_sessionmaker[AsyncSession],
    code_hash: str,
    client: HubClient,
    challenge: str,
    redirect_uri: str,
) -> IssuedCode | None:
    now = utcnow()
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == code_hash)
            .with_for_update()
        )
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            # A replayed code: revoke what it already issued (RFC 6749 section 4.1.2).
            await _revoke_families(session, RefreshToken.origin_code_hash == code_hash)
            return None
        valid = (
            row.expires_at > now
            and secrets.compare_digest(row.code_challenge, challenge)
            and row.redirect_uri == redirect_uri
        )
        if not valid:
            return None
        person = await current_person(
            session, _person(row.subject, row.audience, row.shop, row.scope)
        )
        if person is None:
            return None
        row.used_at = now
        scope = " ".join(sorted(set(row.scope.split()) & person.scopes))
    return IssuedCode(
        code_hash=code_hash,
        client_id=row.client_id,
        person=person,
        scope=scope,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
    )


def _person(subject: str, audience: str, shop: str | None, scope: str) -> Person:
    return Person(subject, audience, frozenset(scope.split()), shop)


async def use_refresh(
    sessions: async_sessionmaker[AsyncSession],
    token_hash: str,
    client: HubClient,
    requested: str | None,
) -> IssuedRefresh | None:
    """Claim a refresh token for rotation. Checks that cost nothing to retry (the client,
    the scope asked for) come first; a token presented again after its use revokes its
    whole family; what the token grants is re-read from the account as it is now."""
    now = utcnow()
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        if row is None or row.client_id != client.client_id:
            return None
        if requested and not set(requested.split()) <= set(row.scope.split()):
            return None
        if row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.used_at is not None:
            await _revoke_families(session, RefreshToken.family_id == row.family_id)
            return None
        person = await current_person(
            session, _person(row.subject, row.audience, row.shop, row.scope)
        )
        scope = "" if person is None else " ".join(sorted(set(row.scope.split()) & person.scopes))
        if person is None or not scope:
            # A disabled account, a suspended shop, or a role that no longer allows what
            # was granted: the family ends here.
            await _revoke_families(session, RefreshToken.family_id == row.family_id)
            return None
        row.used_at = now
        return IssuedRefresh(
            token_hash=row.token_hash,
            family_id=row.family_id,
            client_id=row.client_id,
            person=person,
            scope=scope,
            expires_at=row.expires_at,
            origin_code_hash=row.origin_code_hash,
        )


async def save_refresh(
    sessions: async_sessionmaker[AsyncSession],
    token: dict[str, Any],
    client_id: str,
    person: Person,
    previous: IssuedRefresh | None,
    code_hash: str | None,
) -> bool:
    """Store a new refresh token; False if what it continues was revoked meanwhile (see
    ``_revoked_meanwhile``): it is then stored revoked, and the grant must hand out nothing
    (its access token may be signed after the revocation, which only voids what came
    before it). A rotated token keeps its family's end date (a session does not slide
    forever)."""
    now = utcnow()
    family = previous.family_id if previous is not None else secrets.token_hex(16)
    async with sessions() as session, session.begin():
        revoked = await _revoked_meanwhile(session, person, previous, code_hash)
        session.add(
            RefreshToken(
                token_hash=digest(token["refresh_token"]),
                family_id=family,
                client_id=client_id,
                subject=person.subject,
                audience=person.audience,
                shop=person.shop,
                scope=token.get("scope") or "",
                created_at=now,
                expires_at=previous.expires_at if previous is not None else now + REFRESH_LIFETIME,
                revoked_at=now if revoked else None,
                origin_code_hash=previous.origin_code_hash if previous is not None else code_hash,
            )
        )
    return not revoked


async def sign_in_holds(
    sessions: async_sessionmaker[AsyncSession], person: Person, code_hash: str | None
) -> bool:
    """For a grant that stores no refresh token: whether the sign-in it comes from still
    holds (no revocation of the account since its code was issued)."""
    async with sessions() as session, session.begin():
        return not await _revoked_meanwhile(session, person, None, code_hash)


async def _revoked_meanwhile(
    session: AsyncSession, person: Person, previous: IssuedRefresh | None, code_hash: str | None
) -> bool:
    """Whether a revocation came between the claim of a code or refresh token and now:
    the refresh token's family was revoked (a rotation), or the account's sessions were
    revoked since the code was issued (a sign-in; the revocation burned the code, but may
    have come after its claim).

    The account first, then the tokens: the order a revocation locks them in
    (``hub.services.staff``), so one of the two waits for the other and a revocation is
    either seen here or comes after this token was signed, and voids it."""
    account_revoked_at = await staff.lock_sessions(session, person.subject)
    if previous is not None:
        # Lock the family: a concurrent replay that revokes it waits for us, or we see it.
        states = await session.scalars(
            select(RefreshToken.revoked_at)
            .where(RefreshToken.family_id == previous.family_id)
            .with_for_update()
        )
        return any(state is not None for state in states)
    if code_hash is None or account_revoked_at is None:
        return False
    signed_in_at = await session.scalar(
        select(AuthorizationCode.created_at).where(AuthorizationCode.code_hash == code_hash)
    )
    return signed_in_at is None or account_revoked_at >= signed_in_at


async def revoke_refresh(
    sessions: async_sessionmaker[AsyncSession], token: str, client_id: str
) -> None:
    """RFC 7009: revoke the token's family if the token is the client's; say nothing either
    way (the answer must not reveal whether a token exists)."""
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == digest(token))
        )
        if row is None or row.client_id != client_id:
            return
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
