"""Staff and mall accounts over their lifetime: list, create, disable, enable, reset a
password, change a role; each change recorded (``staff_changes``: who, when, what).

Who may act on whom:

- a shop manager, through their shop's node (the node's client, ``node:federate``, names
  the acting staff member): only on the staff of that shop, and only while the hub knows
  them as an active manager of it. The hub cannot see the manager's own token (its
  audience is the node), so it trusts the node for its own shop, as for everything else
  the node does, and checks what it can: that the named person is that shop's manager.
- mall management (``mall:admin``): on mall users and on any shop's staff (a shop whose
  only manager left must not need the whole shop suspended to cut them off).
- nobody disables themselves or changes their own role (the last manager or admin would
  lock everyone out); resetting one's own password is allowed.

Disabling an account, resetting its password or changing its role ends its sessions at
once: the account's refresh tokens and unused authorization codes are revoked, the hub
refuses its access tokens issued before that moment (``sessions_revoked_at``, read by
``standing`` on every hub request), and the shop's node is told to end that person's
sessions (``RevokeStaffSessions`` in its inbox, in the same transaction).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import RevokeStaffSessions
from hub.db.models import AuthorizationCode, RefreshToken, Shop, StaffChange, User
from hub.domain.problems import HubError, ProblemCode
from hub.services import inbox
from hub.services.people import ROLE_SCOPES, create_user, hash_password
from mallnet.db import utcnow

SHOP_ROLES = ("manager", "operator", "auditor")
MALL_ROLES = ("mall_admin", "mall_marketing", "mall_finance")
PASSWORD_MIN = 10
PASSWORD_MAX = 128
GENERATED_PASSWORD_BYTES = 12  # 16 URL-safe characters, 96 bits
MAX_LISTED = 500
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
# A person's subject, in its one spelling: ``staff:12`` (never ``staff:012``, ``staff:12\n``
# or other digits), so that reading a subject and comparing one never disagree.
_SUBJECT = re.compile(r"(staff|mall):([1-9][0-9]{0,17})")


class StaffError(HubError):
    """An expected failure of a staff use case (not allowed, not found, bad input)."""


@dataclass(frozen=True)
class Actor:
    """Who asks: ``shop`` is the calling node's shop when a manager acts through it
    (``subject`` then names that manager, ``staff:<id>``); None for mall management."""

    subject: str
    client_id: str
    shop: str | None = None


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: str
    shop: str | None
    created_at: dt.datetime
    disabled_at: dt.datetime | None

    @property
    def subject(self) -> str:
        return subject_of(self.id, self.shop)


@dataclass(frozen=True)
class Change:
    action: str
    actor: str
    client_id: str
    detail: str | None
    at: dt.datetime


@dataclass(frozen=True)
class Standing:
    """What an account may do now, and the moment before which its tokens are void."""

    scopes: frozenset[str]
    revoked_at: dt.datetime | None

    def voids(self, issued_at: float | None) -> bool:
        """Whether a token issued at ``issued_at`` (POSIX seconds) predates a revocation.
        ``iat`` is whole seconds: a token of the revocation's own second counts as
        before it (signing in again a second later is cheaper than a token surviving)."""
        if self.revoked_at is None:
            return False
        return issued_at is None or issued_at <= self.revoked_at.timestamp()


def subject_of(user_id: int, shop: str | None) -> str:
    return f"mall:{user_id}" if shop is None else f"staff:{user_id}"


def parse_subject(subject: str) -> tuple[str, int] | None:
    """``("staff" | "mall", account id)`` of a person's subject in its one spelling, else
    None (a padded, suffixed or non-ASCII number names nobody)."""
    match = _SUBJECT.fullmatch(subject)
    return None if match is None else (match.group(1), int(match.group(2)))


def _account(user: User, shop: str | None) -> Account:
    return Account(user.id, user.username, user.role, shop, user.created_at, user.disabled_at)


# --- reading ---------------------------------------------------------------------------


async def standing(session: AsyncSession, subject: str) -> Standing | None:
    """The account a staff or mall subject names, as it is now (one indexed read): None
    if it is unknown, disabled or its shop suspended; otherwise what its role allows."""
    parsed = parse_subject(subject)
    if parsed is None:
        return None
    kind, user_id = parsed
    row = (
        await session.execute(
            select(User.role, User.disabled_at, User.sessions_revoked_at, User.shop_id, Shop.status)
            .outerjoin(Shop, Shop.id == User.shop_id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None:
        return None
    role, disabled_at, revoked_at, shop_id, status = row
    if disabled_at is not None or (shop_id is not None and status != "active"):
        return None
    if (kind == "mall") != (shop_id is None):
        return None
    return Standing(ROLE_SCOPES[role], revoked_at)


async def lock_sessions(session: AsyncSession, subject: str) -> dt.datetime | None:
    """Lock a staff or mall account's row (nothing for other subjects) and say when its
    sessions were last revoked. A token being stored takes this lock first: a revocation
    running meanwhile (which holds it from start to end) either finished first, and is
    seen, or waits until the token is stored, and revokes it."""
    parsed = parse_subject(subject)
    if parsed is None:
        return None
    revoked: dt.datetime | None = await session.scalar(
        select(User.sessions_revoked_at).where(User.id == parsed[1]).with_for_update()
    )
    return revoked


@dataclass(frozen=True)
class AccountPage:
    items: list[Account]
    has_more: bool  # more after the last item (ask again with ``after`` its username)


async def list_accounts(
    session: AsyncSession,
    actor: Actor,
    shop: str | None,
    first: int = MAX_LISTED,
    after: str | None = None,
) -> AccountPage:
    """A shop's staff (a node: its own shop only), or with no shop the mall users: ``first``
    accounts by username after the username ``after``."""
    if actor.shop is not None:
        if shop not in (None, actor.shop):
            raise StaffError(ProblemCode.FORBIDDEN, "a shop lists only its own staff", "shop")
        await _acting_manager(session, actor)
        shop = actor.shop
    size = min(first, MAX_LISTED)
    query = select(User).order_by(User.username).limit(size + 1)
    if after is not None:
        query = query.where(User.username > after)
    if shop is None:
        query = query.where(User.shop_id.is_(None))
    else:
        query = query.where(User.shop_id == await _shop_id(session, shop))
    found = [_account(user, shop) for user in await session.scalars(query)]
    return AccountPage(found[:size], len(found) > size)


async def history(session: AsyncSession, actor: Actor, user_id: int) -> list[Change]:
    """The recorded changes of an account the actor may see, newest first."""
    await _target(session, actor, user_id, lock=False)
    rows = await session.scalars(
        select(StaffChange)
        .where(StaffChange.user_id == user_id)
        .order_by(StaffChange.at.desc(), StaffChange.id.desc())
        .limit(MAX_LISTED)
    )
    return [Change(r.action, r.actor, r.client_id, r.detail, r.at) for r in rows]


# --- changing --------------------------------------------------------------------------


async def create_account(
    session: AsyncSession, actor: Actor, username: str, password: str, role: str, shop: str | None
) -> Account:
    """A new account; a node creates staff of its own shop only."""
    if actor.shop is not None:
        await _acting_manager(session, actor)
        if shop not in (None, actor.shop):
            raise StaffError(ProblemCode.FORBIDDEN, "a shop creates only its own staff", "shop")
        shop = actor.shop
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise StaffError(
            ProblemCode.INVALID_INPUT,
            "3-60 characters: lower-case letters, digits, '.', '_' or '-'",
            "username",
        )
    _check_role(role, shop)
    _check_password(password)
    if await session.scalar(select(User.id).where(User.username == name)) is not None:
        raise StaffError(ProblemCode.USERNAME_TAKEN, f"{name!r} is taken", "username")
    user = await create_user(session, name, password, role, shop)
    await _record(session, user.id, "created", actor, role)
    return _account(user, shop)


async def disable(session: AsyncSession, actor: Actor, user_id: int) -> Account:
    """Disable an account and end its sessions everywhere (a no-op if already disabled)."""
    user, shop = await _target(session, actor, user_id)
    _not_self(actor, user, "disable your own account")
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        await _end_sessions(session, user, shop, "disabled")
        await _record(session, user.id, "disabled", actor)
    return _account(user, shop)


async def enable(session: AsyncSession, actor: Actor, user_id: int) -> Account:
    """Let a disabled account sign in again (its old sessions stay ended)."""
    user, shop = await _target(session, actor, user_id)
    if user.disabled_at is not None:
        user.disabled_at = None
        await _record(session, user.id, "enabled", actor)
    return _account(user, shop)


async def reset_password(
    session: AsyncSession, actor: Actor, user_id: int, password: str | None
) -> tuple[Account, str | None]:
    """Set a new password (``password``, or with None a generated one, returned here and
    never stored in clear) and end the account's sessions."""
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    _check_password(password)
    user, shop = await _target(session, actor, user_id)
    # The hash is slow on purpose: computed off the event loop.
    user.password_hash = await asyncio.to_thread(hash_password, password)
    await _end_sessions(session, user, shop, "password_reset")
    await _record(session, user.id, "password_reset", actor, "generated" if generated else None)
    return _account(user, shop), generated


async def change_role(session: AsyncSession, actor: Actor, user_id: int, role: str) -> Account:
    """Give an account another role of its kind (shop staff or mall) and end its sessions,
    which carry the old role's scopes."""
    user, shop = await _target(session, actor, user_id)
    _check_role(role, shop)
    if user.role != role:
        _not_self(actor, user, "change your own role")
        detail = f"{user.role} -> {role}"
        user.role = role
        await _end_sessions(session, user, shop, "role_changed")
        await _record(session, user.id, "role_changed", actor, detail)
    return _account(user, shop)


async def end_shop_sessions(session: AsyncSession, slug: str, reason: str) -> None:
    """Every hub session of a shop's staff ends (refresh tokens, unused codes), and its node
    is told to end every staff session it holds: a suspended shop's staff do not come
    back signed in when it is reactivated."""
    now = utcnow()
    # The accounts first (as for one account): a token being stored meanwhile is seen.
    await session.execute(
        update(User)
        .where(User.shop_id == await _shop_id(session, slug))
        .values(sessions_revoked_at=now)
    )
    await _revoke_tokens(session, RefreshToken.shop == slug, AuthorizationCode.shop == slug, now)
    await inbox.enqueue(session, slug, RevokeStaffSessions(subject=None, reason=reason))


# --- the rules -------------------------------------------------------------------------


async def _shop_id(session: AsyncSession, slug: str) -> int:
    found = await session.scalar(select(Shop.id).where(Shop.slug == slug))
    if found is None:
        raise StaffError(ProblemCode.SHOP_NOT_FOUND, f"no shop {slug!r} is registered", "shop")
    return found


async def _acting_manager(session: AsyncSession, actor: Actor) -> None:
    """The staff member a node names must be, at the hub, an active manager of that shop."""
    parsed = parse_subject(actor.subject)
    row = None
    if parsed is not None and parsed[0] == "staff":
        found = await session.execute(
            select(User.role, User.disabled_at, Shop.slug)
            .join(Shop, Shop.id == User.shop_id)
            .where(User.id == parsed[1])
        )
        row = found.first()
    if row is None or tuple(row) != ("manager", None, actor.shop):
        raise StaffError(
            ProblemCode.FORBIDDEN,
            "only an active manager of this shop manages its staff",
            "actingStaff",
        )


async def _target(
    session: AsyncSession, actor: Actor, user_id: int, *, lock: bool = True
) -> tuple[User, str | None]:
    """The account acted on, locked, if the actor may act on it (else NOT_FOUND: a shop
    does not learn which ids exist at other shops)."""
    if actor.shop is not None:
        await _acting_manager(session, actor)
    query = select(User, Shop.slug).outerjoin(Shop, Shop.id == User.shop_id)
    query = query.where(User.id == user_id)
    row = (await session.execute(query.with_for_update(of=User) if lock else query)).first()
    if row is None or (actor.shop is not None and row[1] != actor.shop):
        raise StaffError(ProblemCode.NOT_FOUND, f"no account {user_id} for you", "id")
    user, shop = row
    return user, shop


def _not_self(actor: Actor, user: User, what: str) -> None:
    # By account id, not by text: whatever spelling got past the checks names this id.
    parsed = parse_subject(actor.subject)
    if parsed is not None and parsed[1] == user.id:
        raise StaffError(ProblemCode.FORBIDDEN, f"you cannot {what}: ask another", "id")


def _check_role(role: str, shop: str | None) -> None:
    allowed = MALL_ROLES if shop is None else SHOP_ROLES
    if role not in allowed:
        whose = "a mall user" if shop is None else "shop staff"
        raise StaffError(
            ProblemCode.INVALID_INPUT, f"{whose} has one of {', '.join(allowed)}", "role"
        )


def _check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise StaffError(
            ProblemCode.INVALID_INPUT,
            f"a password has {PASSWORD_MIN}-{PASSWORD_MAX} characters",
            "password",
        )


async def _end_sessions(session: AsyncSession, user: User, shop: str | None, reason: str) -> None:
    now = utcnow()
    user.sessions_revoked_at = now
    subject = subject_of(user.id, shop)
    await _revoke_tokens(
        session, RefreshToken.subject == subject, AuthorizationCode.subject == subject, now
    )
    if shop is not None:
        await inbox.enqueue(session, shop, RevokeStaffSessions(subject=subject, reason=reason))
    await session.flush()


async def _revoke_tokens(
    session: AsyncSession,
    refresh: ColumnElement[bool],
    code: ColumnElement[bool],
    now: dt.datetime,
) -> None:
    """Revoke the matching refresh tokens' whole families (a rotation under way is born
    revoked: ``token_store.save_refresh`` reads its family) and burn unused codes."""
    families = select(RefreshToken.family_id).where(refresh).scalar_subquery()
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.execute(
        update(AuthorizationCode)
        .where(code, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )


async def _record(
    session: AsyncSession, user_id: int, action: str, actor: Actor, detail: str | None = None
) -> None:
    session.add(
        StaffChange(
            user_id=user_id,
            action=action,
            actor=actor.subject[:120],
            client_id=actor.client_id[:64],
            detail=detail,
            at=utcnow(),
        )
    )
    await session.flush()
