"""Staff and till sessions at a node: started once with an access token the hub issued,
then checked by the node alone, so a till keeps working through a hub outage (a working
day by default). The hub ends them by command (``command.revoke_staff_sessions``) when it
disables a person, resets their password, changes their role or suspends the shop; the node
applies that when it next reaches the hub.

Only a SHA-256 of a session token is stored. A session starts from a hub token, never from
another session, and lasts at most ``lifetime`` from the hub sign-in that token came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.auth import Principal
from mallnet.scopes import Scope
from shop_node.db.models import StaffRevocation, StaffSession

TOKEN_PREFIX = "mns_"  # noqa: S105 - a prefix that marks node session tokens, not a secret
EVERYONE = "*"
# Ended and expired sessions are kept this long (for the record), then deleted.
KEEP_ENDED = dt.timedelta(days=7)
STAFF_SCOPES = frozenset({Scope.SHOP_MANAGE, Scope.SHOP_OPERATE, Scope.SHOP_READ})
# Development tokens (``mallnet dev-token``; refused outright in production) name no
# staff account, and may start a session too.
DEV_CLIENT = "mallnet-dev"
# A person's live sessions at one node (tills, a phone, a laptop); starting one more ends
# the oldest, so a leaked token replayed in a loop cannot fill the table.
MAX_LIVE_PER_SUBJECT = 20
NAME_LENGTH = 64  # StaffSession.name
JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: Persian words need them


class SessionRefused(Exception):
    """A session cannot start: the credential offered cannot start one."""


def is_session_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    token: str
    expires_at: dt.datetime
    principal: Principal


def display_name(name: object) -> str | None:
    """A name as a session keeps it: without control, format (bidi overrides among them),
    private-use or unassigned characters, though with the zero-width (non-)joiner Persian
    words need; trimmed, at most ``NAME_LENGTH`` characters; None if nothing is left."""
    if not isinstance(name, str):
        return None
    kept = "".join(c for c in name if c in JOINERS or unicodedata.category(c)[0] != "C")
    return kept.strip()[:NAME_LENGTH].strip() or None


def revoked_since(revocations: dict[str, dt.datetime], subject: str) -> dt.datetime | None:
    """Since when ``subject``'s earlier credentials are void (its own revocation or the
    shop-wide one, whichever is later), or None."""
    times = [t for t in (revocations.get(subject), revocations.get(EVERYONE)) if t is not None]
    return max(times) if times else None


def is_revoked(
    revocations: dict[str, dt.datetime], subject: str, issued_at: dt.datetime | None
) -> bool:
    """A credential issued at ``issued_at`` is void if a revocation came at or after it (one
    with no issue time is void once anything is revoked for its subject)."""
    since = revoked_since(revocations, subject)
    return since is not None and (issued_at is None or issued_at <= since)


async def start(
    session: AsyncSession,
    principal: Principal,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> Started:
    """A new session for the person ``principal`` (verified from a hub token) speaks for:
    a shop's staff member, with a staff scope of this shop."""
    if not principal.subject.startswith("staff:") and principal.client_id != DEV_CLIENT:
        raise SessionRefused("only a shop's staff start sessions at its node")
    if not principal.scopes & STAFF_SCOPES:
        raise SessionRefused("the token carries no staff scope of this shop")
    if principal.issued_at is None:
        raise SessionRefused("the access token has no issue time (iat)")
    signed_in = dt.datetime.fromtimestamp(principal.issued_at, dt.UTC)
    expires_at = min(signed_in + lifetime, now + lifetime)
    if expires_at <= now:
        raise SessionRefused("the hub sign-in behind this token is too old: sign in again")
    if is_revoked(await revocations(session), principal.subject, signed_in):
        raise SessionRefused("this account's access was revoked: sign in again")
    await session.execute(delete(StaffSession).where(StaffSession.expires_at < now - KEEP_ENDED))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            subject=principal.subject,
            client_id=principal.client_id,
            scopes=" ".join(sorted(principal.scopes)),
            name=display_name(principal.name),
            signed_in_at=signed_in,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    await _end_oldest_beyond_limit(session, principal.subject, now)
    return Started(token, expires_at, principal)


async def _end_oldest_beyond_limit(session: AsyncSession, subject: str, now: dt.datetime) -> None:
    oldest = (
        select(StaffSession.id)
        .where(
            StaffSession.subject == subject,
            StaffSession.ended_at.is_(None),
            StaffSession.expires_at > now,
        )
        .order_by(StaffSession.id.desc())
        .offset(MAX_LIVE_PER_SUBJECT)
    )
    await session.execute(
        update(StaffSession)
        .where(StaffSession.id.in_(oldest.scalar_subquery()))
        .values(ended_at=now, ended_reason="too_many_sessions")
    )


async def find(session: AsyncSession, token: str) -> StaffSession | None:
    row: StaffSession | None = await session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_hash(token))
    )
    return row


def principal_of(row: StaffSession, shop: str) -> Principal:
    return Principal(
        subject=row.subject,
        client_id=row.client_id,
        scopes=frozenset(row.scopes.split()),
        shop=shop,
        issued_at=row.signed_in_at.timestamp(),
        name=row.name,
    )


async def end(session: AsyncSession, token: str, now: dt.datetime) -> bool:
    """Sign out: the session stops at once. False if there was no such live session."""
    done = await session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == token_hash(token), StaffSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason="signed_out")
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


async def revoke(
    session: AsyncSession, subject: str | None, reason: str, at: dt.datetime, now: dt.datetime
) -> int:
    """Void ``subject``'s (None: everyone's) sessions and tokens issued up to ``at``.
    Returns how many live sessions ended. Applying it again changes nothing."""
    key = subject or EVERYONE
    conn = await session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(StaffRevocation).values(subject=key, revoked_at=at, reason=reason)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["subject"],
            set_={"revoked_at": stmt.excluded.revoked_at, "reason": stmt.excluded.reason},
            where=StaffRevocation.revoked_at < stmt.excluded.revoked_at,
        )
    )
    live = update(StaffSession).where(
        StaffSession.ended_at.is_(None), StaffSession.signed_in_at <= at
    )
    if subject is not None:
        live = live.where(StaffSession.subject == subject)
    done = await session.execute(live.values(ended_at=now, ended_reason=reason))
    return int(done.rowcount)  # type: ignore[attr-defined]


async def revocations(session: AsyncSession) -> dict[str, dt.datetime]:
    rows = await session.execute(select(StaffRevocation.subject, StaffRevocation.revoked_at))
    return {str(subject): at for subject, at in rows.all()}
