"""People who sign in at the hub: staff and mall management (passwords), shoppers (phone
and a one-time code), and what each may be granted.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import OneTimeCode, Shop, Shopper, User
from hub.domain.problems import HubError, ProblemCode
from hub.services import abuse, code_digests, passwords
from mallnet.db import utcnow
from mallnet.messaging import Sender
from mallnet.messaging.channels import ChannelFailure
from mallnet.messaging.templates import Kind, Values, render
from mallnet.phone import InvalidPhone, local_format, normalize_mobile
from mallnet.ratelimit import RateLimited
from mallnet.scopes import Scope
from mallnet.secrets_store import pseudonym

SHOPPERS: Table = Shopper.__table__  # type: ignore[assignment]
HUB_AUDIENCE = "mallnet-hub"
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "manager": frozenset({Scope.SHOP_MANAGE}),
    "operator": frozenset({Scope.SHOP_OPERATE}),
    "auditor": frozenset({Scope.SHOP_READ}),
    "mall_admin": frozenset({Scope.MALL_ADMIN, Scope.MALL_REPORTS}),
    "mall_marketing": frozenset({Scope.MALL_CAMPAIGNS, Scope.MALL_REPORTS}),
    "mall_finance": frozenset({Scope.MALL_SETTLEMENT, Scope.MALL_REPORTS}),
}
SHOPPER_SCOPES = frozenset({Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT})

CODE_LIFETIME = dt.timedelta(minutes=5)
CODE_ATTEMPTS = 5  # the asking browser's own tries at one code
STRANGER_ATTEMPTS = 5  # everyone else's tries at one code, together
# Sign-in codes per phone and per address in ten minutes (see ``abuse``).
SENDS_PER_PHONE = abuse.OTP_PER_PHONE.item.amount
SENDS_PER_IP = abuse.OTP_PER_ADDRESS.item.amount


class SignInError(HubError):
    """A sign-in refused: the page shows the message (after ``retry_after_s``, if given,
    the caller may try again)."""

    def __init__(self, code: ProblemCode, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(code, message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Person:
    """Who an authorization code or refresh token speaks for."""

    subject: str
    audience: str
    scopes: frozenset[str]
    shop: str | None = None
    # A staff or mall account's username, for its tokens' ``preferred_username``. None for
    # shoppers: their subject is a pseudonym, and their phone never goes into a token.
    username: str | None = None

    def get_user_id(self) -> str:  # Authlib's user interface
        return self.subject


# --- passwords ---------------------------------------------------------------------------

# Kept here for callers that import it from people (staff accounts, the CLI): blocking, so
# async code prefers ``passwords.hash_async``.
hash_password = passwords.hash_secret


async def create_user(
    session: AsyncSession, username: str, password: str, role: str, shop: str | None
) -> User:
    if role not in ROLE_SCOPES:
        raise SignInError(
            ProblemCode.INVALID_INPUT, f"role must be one of {', '.join(ROLE_SCOPES)}"
        )
    if len(password) < 10:
        raise SignInError(ProblemCode.INVALID_INPUT, "a password needs at least 10 characters")
    shop_id = None
    if shop is not None:
        shop_id = await session.scalar(select(Shop.id).where(Shop.slug == shop))
        if shop_id is None:
            raise SignInError(ProblemCode.INVALID_INPUT, f"no shop {shop!r} is registered")
    user = User(
        username=username.strip().lower(),
        password_hash=await passwords.hash_async(password),
        role=role,
        shop_id=shop_id,
        created_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    return user


# Wrong passwords from one address at one account before it is refused (see ``abuse``).
FAILURES_PER_USERNAME = abuse.PASSWORD_PAIR.item.amount


async def sign_in_user(
    session: AsyncSession,
    username: str,
    password: str,
    ip: str,
    *,
    limits: abuse.Limits,
    device: str | None = None,
) -> Person | None:
    """A password sign-in from the client address ``ip`` (on ``device``, a known device of
    this account: see ``abuse.PasswordGuard``). A wrong password (or a disabled
    account: the answer must not tell which) returns None; too many tries are refused up
    front (``abuse.PasswordGuard``: a stranger's guesses do not lock the owner out). A
    right password stored with an outdated hash is re-hashed with today's parameters."""
    name = normal_username(username)
    guard = abuse.PasswordGuard(limits.limiter, name, ip, device)
    try:
        await guard.before()
    except RateLimited as exc:
        raise SignInError(ProblemCode.RATE_LIMITED, abuse.message(exc), exc.retry_after_s) from None
    row = (
        await session.execute(
            select(User, Shop.slug, Shop.status)
            .outerjoin(Shop, Shop.id == User.shop_id)
            .where(User.username == name)
        )
    ).first()
    # The same work whether or not the user exists.
    stored = row[0].password_hash if row is not None else passwords.DUMMY_HASH
    verdict = await passwords.verify(stored, password, legacy_cover=True)
    if row is None or not verdict.matches or _inactive(row[0], row[2]):
        await guard.failed()
        return None
    await guard.succeeded()
    user, slug, _status = row
    if verdict.needs_rehash:
        # Only over the hash just checked: a password reset committed meanwhile wins.
        await session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == stored)
            .values(password_hash=await passwords.hash_async(password))
            .execution_options(synchronize_session=False)
        )
    return _staff_person(user, slug)


def normal_username(username: str) -> str:
    """A username as accounts are looked up (and limited) by."""
    return username.strip().lower()[:60]


def _inactive(user: User, shop_status: str | None) -> bool:
    return user.disabled_at is not None or (shop_status is not None and shop_status != "active")


def _staff_person(user: User, slug: str | None) -> Person:
    subject = f"mall:{user.id}" if slug is None else f"staff:{user.id}"
    return Person(subject, slug or HUB_AUDIENCE, ROLE_SCOPES[user.role], slug, user.username)


async def current_person(session: AsyncSession, person: Person) -> Person | None:
    """Who ``person`` is now: None if the account was disabled or its shop suspended;
    otherwise with the scopes their role allows today (a demotion takes effect at once)."""
    kind, _, key = person.subject.partition(":")
    if kind == "shopper":
        exists = await session.get(Shopper, key)
        return None if exists is None else Person(person.subject, HUB_AUDIENCE, SHOPPER_SCOPES)
    if kind not in ("staff", "mall") or not key.isdigit():
        return None
    row = (
        await session.execute(
            select(User, Shop.slug, Shop.status)
            .outerjoin(Shop, Shop.id == User.shop_id)
            .where(User.id == int(key))
        )
    ).first()
    if row is None or _inactive(row[0], row[2]):
        return None
    return _staff_person(row[0], row[1])


# --- shoppers ------------------------------------------------------------------------------


def _code_hash(phone: str, code: str) -> str:
    return code_digests.digest("sign-in", phone, code)


async def send_code(
    session: AsyncSession,
    sender: Sender,
    raw_phone: str,
    ip: str,
    now: dt.datetime | None = None,
    *,
    limits: abuse.Limits,
    asker: str | None = None,
) -> str:
    """Text a sign-in code to the phone, asked from the client address ``ip`` by the browser
    ``asker`` (``csrf.SignInCsrf.asker``; None: no browser, every try is a stranger's),
    within the limits per address, per phone and the hub's SMS budget; returns the
    normalised phone."""
    now = now or utcnow()
    phone = _phone(raw_phone)
    try:
        await abuse.charge_sign_in_code(limits, phone, ip)
    except RateLimited as exc:
        raise SignInError(ProblemCode.RATE_LIMITED, abuse.message(exc), exc.retry_after_s) from None
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        OneTimeCode(
            phone=phone,
            code_hash=_code_hash(phone, code),
            ip=ip,
            asker=asker,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            attempts=0,
            stranger_attempts=0,
        )
    )
    await session.flush()
    text = render(Kind.SIGN_IN_CODE, "fa", Values(code=code))
    try:
        await sender.send_sms(phone, text, kind="otp")
    except ChannelFailure:
        # Nothing was texted: no code is kept either (this transaction rolls back).
        raise SignInError(
            ProblemCode.SMS_NOT_SENT,
            "the code could not be texted just now; try again in a minute",
            retry_after_s=60,
        ) from None
    return phone


def _phone(raw_phone: str) -> str:
    try:
        return normalize_mobile(raw_phone)
    except InvalidPhone as exc:
        raise SignInError(ProblemCode.INVALID_PHONE, str(exc)) from None


async def _code_to_try(
    session: AsyncSession, phone: str, asker: str | None, now: dt.datetime
) -> OneTimeCode | None:
    """The browser's own newest live code for ``phone``; else the phone's newest code (a
    code asked later by someone else does not replace the one this browser holds)."""
    newest = (
        select(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.used_at.is_(None))
        .order_by(OneTimeCode.created_at.desc(), OneTimeCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if asker is not None:
        own = await session.scalar(
            newest.where(OneTimeCode.asker == asker, OneTimeCode.expires_at > now)
        )
        if own is not None:
            return own
    found: OneTimeCode | None = await session.scalar(newest)
    return found


async def _count_try(
    session: AsyncSession, code: OneTimeCode, owner: bool, phone: str, ip: str, limits: abuse.Limits
) -> None:
    """Count one try at ``code`` before comparing, in its own statement (a wrong guess
    always costs a try, however many arrive at once), or raise ``SignInError``.

    Why two counters: with one shared counter, five wrong posts from anyone burnt the
    shopper's code. The browser that asked for the code (``owner``) has ``CODE_ATTEMPTS``
    tries of its own, which nobody else can spend (they would need its HttpOnly cookie).
    Everyone else together has ``STRANGER_ATTEMPTS`` at the code, and is also limited per
    address and per phone (``abuse.charge_code_guess``), limits that never apply to the
    owner's tries, so a stranger who spends them locks out only strangers. A code is thus
    guessed at most ``CODE_ATTEMPTS + STRANGER_ATTEMPTS`` times in a million; more guesses
    need more codes, each a text within the per-phone, per-address and hourly budgets."""
    if owner:
        column, cap = OneTimeCode.attempts, CODE_ATTEMPTS
    else:
        try:
            await abuse.charge_code_guess(limits, phone, ip)
        except RateLimited as exc:
            raise SignInError(
                ProblemCode.RATE_LIMITED, abuse.message(exc), exc.retry_after_s
            ) from None
        column, cap = OneTimeCode.stranger_attempts, STRANGER_ATTEMPTS
    tried = await session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.id == code.id, column < cap)
        .values({column.key: column + 1})
    )
    if tried.rowcount == 0:  # type: ignore[attr-defined]
        raise SignInError(ProblemCode.TOO_MANY_ATTEMPTS, "too many wrong codes; ask for a new one")


async def sign_in_shopper(
    session: AsyncSession,
    key: bytes,
    raw_phone: str,
    code: str,
    now: dt.datetime | None = None,
    *,
    limits: abuse.Limits,
    ip: str,
    asker: str | None = None,
) -> Person | None:
    """Check a code (single use, expiring, few tries: see ``_count_try``) typed in the
    browser ``asker`` at the client address ``ip``. A wrong code returns None rather than
    raising, so the caller commits the try it cost."""
    now = now or utcnow()
    phone = _phone(raw_phone)
    latest = await _code_to_try(session, phone, asker, now)
    if latest is None or latest.expires_at <= now:
        raise SignInError(
            ProblemCode.CODE_EXPIRED, "no valid code for this phone; ask for a new one"
        )
    owner = asker is not None and latest.asker == asker
    await _count_try(session, latest, owner, phone, ip, limits)
    if not hmac.compare_digest(latest.code_hash, _code_hash(phone, code.strip())):
        return None
    latest.used_at = now
    identity = pseudonym(key, phone)
    # One upsert: a node's intake may be writing the same new shopper at this moment. The
    # phone is kept: this shopper signs in to the app (and no node's report replaces it).
    conn = await session.connection()
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(SHOPPERS).values(
        pseudonym=identity, phone=phone, created_at=now, last_sign_in_at=now
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["pseudonym"],
            set_={"phone": stmt.excluded.phone, "last_sign_in_at": stmt.excluded.last_sign_in_at},
        )
    )
    await session.flush()
    return Person(f"shopper:{identity}", HUB_AUDIENCE, SHOPPER_SCOPES)


async def get_shopper(session: AsyncSession, identity: str) -> Shopper | None:
    return await session.get(Shopper, identity)


CARD_PREFIX = "mallnet:card:"


@dataclass(frozen=True)
class NetworkCard:
    """The shopper's network card, shown in her own app only: the number is her mobile
    (what a till types), the QR carries it in E.164."""

    number: str
    qr_payload: str


def network_card(shopper: Shopper) -> NetworkCard | None:
    """Her card, when the hub holds her phone (a shopper who signed in); else None."""
    if shopper.phone is None:
        return None
    return NetworkCard(local_format(shopper.phone), CARD_PREFIX + shopper.phone)


async def list_shoppers(session: AsyncSession, first: int) -> list[Shopper]:
    rows = await session.scalars(select(Shopper).order_by(Shopper.created_at.desc()).limit(first))
    return list(rows.all())
