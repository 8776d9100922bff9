"""Redemption grants: a shopper's network value is held only with that shopper's say.

A grant is a one-time code bound to one shopper, single use, short-lived and optionally
capped (at most ``max_rial`` may be held with it). It comes two ways:

* **in the app**, after the shopper's redemption PIN: eight digits, and a QR payload
  (``mallnet-grant:<grant id>:<digits>``) the till scans instead of typing; any shop;
* **by SMS**, when a shop's till asks for one with the shopper's phone (the hub checks the
  phone hashes to the pseudonym the node named): eight digits texted to that phone, for
  that shop only — and only if she has network value spendable there; otherwise nothing
  is texted, but the till is answered (and limited) exactly the same, so the answer does
  not tell which.

Codes are kept only as hashes. A wrong code at shop X costs X's own budget
(``SHOP_FAILURES`` wrong codes per ``SHOP_FAILURE_WINDOW`` across all of X's tries; past
it, X's code attempts and texts are refused for ``SHOP_LOCK``, logged at WARNING and
counted for mall management) and a try of each live code texted *for X*
(``GRANT_ATTEMPTS`` each) — never of her app grant or another shop's code, so a hostile
shop cannot burn the grants she means for another. Such a refusal is *returned*
(``Refusal``) so its transaction commits the count. The worst case for one dishonest
shop: 20 wrong codes an hour (480 a day), each against at most two live eight-digit codes
of the shopper it names (her app grant and its own texted one): at most 2 x 10^-8 a guess,
about 1 x 10^-5 a day, and at most ``SMS_PER_SHOP_DAY`` texts a day at the hub's cost.
The hold (``hold_with_grant``) verifies the grant, holds with ``hub.services.value`` and
marks the grant used by that hold; the POS's natural retry of the same hold (same shop and
idempotency key, same grant) is answered as a replay.

``has_value_here`` answers a shop's yes-or-no question only for its own members (anyone
else: no), at most ``LOOKUPS_PER_SHOP`` per ``LOOKUP_WINDOW``. A wrong PIN counts until
the right one: the ``PIN_ATTEMPTS``-th locks grants for ``PIN_LOCK``, and each further one
locks twice as long as the last (at most ``PIN_LOCK_MAX``).

Lock order: grant rows (ascending id), then the shop's guard row, then the hold row, then
lots (the order ``value.hold`` keeps).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import itertools
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Table, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from hub.db.models import (
    Membership,
    RedemptionGrant,
    RedemptionPin,
    RedemptionShopGuard,
    Shop,
    ValueHold,
)
from hub.domain.problems import HubError, ProblemCode, Refusal
from hub.services import value
from hub.services.value.ledger import PSEUDONYM
from mallnet.db import utcnow
from mallnet.digits import normalize_digits
from mallnet.messaging import Sender
from mallnet.money import toman_fa
from mallnet.phone import InvalidPhone, normalize_mobile
from mallnet.secrets_store import pseudonym as pseudonym_of
from mallnet.values import MAX_RIAL

log = logging.getLogger(__name__)

APP_GRANT_TTL = dt.timedelta(seconds=120)
# A text can take a while to arrive; still minutes, not hours.
SMS_GRANT_TTL = dt.timedelta(seconds=180)
APP_CODE_DIGITS = SMS_CODE_DIGITS = 8
GRANT_ATTEMPTS = 5
# Grants older than this are not looked at (a code that old is simply invalid).
LOOKBACK = dt.timedelta(hours=1)
RATE_WINDOW = dt.timedelta(minutes=10)
APP_GRANTS_PER_SHOPPER = 10  # per RATE_WINDOW
# Texts per RATE_WINDOW: to one shopper for one shop, to one shopper from all shops (a
# hostile shop alone cannot use up her texts), from one shop; and from one shop a day.
SMS_PER_SHOPPER_AT_SHOP = 3
SMS_PER_SHOPPER = 8
SMS_PER_SHOP = 20
SMS_PER_SHOP_DAY = 200
# A shop's wrong codes, across all its grants: past the budget, a lock.
SHOP_FAILURES = 20  # per SHOP_FAILURE_WINDOW
SHOP_FAILURE_WINDOW = dt.timedelta(hours=1)
SHOP_LOCK = dt.timedelta(hours=1)
# hasNetworkValue questions of one shop (a till asks once a checkout).
LOOKUPS_PER_SHOP = 120  # per LOOKUP_WINDOW
LOOKUP_WINDOW = dt.timedelta(minutes=10)
PIN_ATTEMPTS = 5
PIN_LOCK = dt.timedelta(minutes=15)  # the first lock; each further one doubles
PIN_LOCK_MAX = dt.timedelta(days=1)
QR_PREFIX = "mallnet-grant:"
_QR = re.compile(rf"{QR_PREFIX}([0-9A-Z]{{26}}):([0-9]{{6,8}})")
_DIGITS = re.compile(r"[0-9]{6,8}")
_PIN = re.compile(r"[0-9]{4,6}")
# OWASP's minimum for argon2id (19 MiB, 2 passes): a PIN is checked once per grant.
_PINS = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class GrantError(HubError):
    """A redemption grant or PIN refused (nothing written)."""


@dataclass(frozen=True)
class IssuedGrant:
    """A grant as the app shows it: the digits, and the QR payload that carries them."""

    id: str
    code: str
    qr_payload: str
    expires_at: dt.datetime
    max_rial: int | None


@dataclass(frozen=True)
class TextedCode:
    """An SMS grant asked for: the text to send once the transaction commits (None: she
    has no network value there, nothing is sent, and the till is answered the same)."""

    phone: str
    text: str | None
    expires_at: dt.datetime
    max_rial: int | None


def _code_hash(grant_id: str, shopper: str, code: str) -> str:
    return hashlib.sha256(f"{grant_id}:{shopper}:{code}".encode()).hexdigest()


def _checked_cap(max_rial: int | None) -> int | None:
    if max_rial is not None and (isinstance(max_rial, bool) or not 0 < max_rial <= MAX_RIAL):
        raise GrantError(ProblemCode.INVALID_INPUT, "a positive amount in Rial, or none", "maxRial")
    return max_rial


async def _serialise(session: AsyncSession, *keys: str) -> None:
    """Make concurrent count-then-insert checks for the same keys wait for each other.
    SQLite already runs one writer at a time; PostgreSQL needs a lock."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        for key in sorted(keys):
            await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


async def _count_since(
    session: AsyncSession, since: dt.datetime, *where: ColumnElement[bool]
) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(RedemptionGrant)
        .where(RedemptionGrant.created_at > since, *where)
    )
    return int(found or 0)


# --- each shop's guard: its wrong codes and its yes-or-no questions -----------------------

GUARDS: Table = RedemptionShopGuard.__table__  # type: ignore[assignment]


async def _ensure_guard(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    conn = await session.connection()
    dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(
        dialect(GUARDS)
        .values(
            shop=shop,
            failures_since=now,
            failures=0,
            failures_total=0,
            lockouts=0,
            lookups_since=now,
            lookups=0,
        )
        .on_conflict_do_nothing(index_elements=["shop"])
    )


async def _shop_locked_until(
    session: AsyncSession, shop: str, now: dt.datetime, *, share: bool = False
) -> dt.datetime | None:
    """When the shop's lock for wrong codes ends, if it is locked at ``now``. ``share``
    waits for the shop's wrong codes still being counted by other transactions."""
    query = select(RedemptionShopGuard.locked_until).where(RedemptionShopGuard.shop == shop)
    if share:
        query = query.with_for_update(read=True)
    until = await session.scalar(query)
    return until if until is not None and until > now else None


def _shop_locked(until: dt.datetime, field: str | None = "grant") -> GrantError:
    return GrantError(
        ProblemCode.TOO_MANY_ATTEMPTS if field == "grant" else ProblemCode.RATE_LIMITED,
        "too many wrong redemption codes at this shop; its code attempts and texts resume "
        f"at {until.isoformat()}",
        field,
    )


async def _charge_shop(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    """Count a wrong code against the shop's budget; the budget's last one locks the shop
    (and is logged for mall management)."""
    await _ensure_guard(session, shop, now)
    row = await session.scalar(
        select(RedemptionShopGuard)
        .where(RedemptionShopGuard.shop == shop)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # made just above, and never deleted
    if row.failures_since <= now - SHOP_FAILURE_WINDOW:
        row.failures_since, row.failures = now, 0
    row.failures += 1
    row.failures_total += 1
    row.last_failure_at = now
    if row.failures >= SHOP_FAILURES:
        row.locked_until = now + SHOP_LOCK
        row.lockouts += 1
        row.failures_since, row.failures = row.locked_until, 0  # a new window after the lock
        log.warning(
            "redemption codes: shop %s made %d wrong codes within %s; its code attempts and "
            "texts are refused until %s (lockout %d; %d wrong codes in all)",
            shop,
            SHOP_FAILURES,
            SHOP_FAILURE_WINDOW,
            row.locked_until.isoformat(),
            row.lockouts,
            row.failures_total,
        )
    await session.flush()


async def _count_lookup(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    """Count one yes-or-no question of the shop (one statement: concurrent questions each
    see their own count); past ``LOOKUPS_PER_SHOP`` in the window, refused."""
    await _ensure_guard(session, shop, now)
    fresh = GUARDS.c.lookups_since <= now - LOOKUP_WINDOW
    asked = await session.scalar(
        update(GUARDS)
        .where(GUARDS.c.shop == shop)
        .values(
            lookups=case((fresh, 1), else_=GUARDS.c.lookups + 1),
            lookups_since=case((fresh, now), else_=GUARDS.c.lookups_since),
        )
        .returning(GUARDS.c.lookups)
    )
    if int(asked or 0) > LOOKUPS_PER_SHOP:
        raise GrantError(
            ProblemCode.RATE_LIMITED,
            "too many network value questions from this shop; try again in a few minutes",
        )


async def has_value_here(
    session: AsyncSession, shop: str, shopper: str, now: dt.datetime | None = None
) -> bool:
    """Whether ``shopper`` has network value spendable at ``shop`` — answered only for a
    member of ``shop`` (anyone else: no, so a node holding the network key cannot test a
    list of phones for value held elsewhere), and at most ``LOOKUPS_PER_SHOP`` questions
    of the shop per ``LOOKUP_WINDOW``."""
    now = now or utcnow()
    await _count_lookup(session, shop, now)
    if await session.get(Membership, (shopper, shop)) is None:
        return False
    _points, _credit, worth = await value.spendable_at(session, shopper, shop, now)
    return worth > 0


async def code_failures(session: AsyncSession) -> Sequence[RedemptionShopGuard]:
    """Each shop that ever typed a wrong redemption code: the most first (mall management)."""
    rows = await session.scalars(
        select(RedemptionShopGuard)
        .where(RedemptionShopGuard.failures_total > 0)
        .order_by(RedemptionShopGuard.failures_total.desc(), RedemptionShopGuard.shop)
    )
    return rows.all()


async def _new_grant(
    session: AsyncSession,
    shopper: str,
    channel: str,
    shop: str | None,
    max_rial: int | None,
    ttl: dt.timedelta,
    digits: int,
    now: dt.datetime,
) -> IssuedGrant:
    # A new grant replaces the shopper's live ones of the same kind: one code to read out.
    await session.execute(
        update(RedemptionGrant)
        .where(
            RedemptionGrant.pseudonym == shopper,
            RedemptionGrant.channel == channel,
            RedemptionGrant.used_at.is_(None),
            RedemptionGrant.expires_at > now,
            RedemptionGrant.shop.is_(None) if shop is None else RedemptionGrant.shop == shop,
        )
        .values(expires_at=now)
    )
    grant_id = new_event_id()
    code = f"{secrets.randbelow(10**digits):0{digits}d}"
    row = RedemptionGrant(
        id=grant_id,
        pseudonym=shopper,
        channel=channel,
        shop=shop,
        code_hash=_code_hash(grant_id, shopper, code),
        max_rial=max_rial,
        attempts=0,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    return IssuedGrant(grant_id, code, f"{QR_PREFIX}{grant_id}:{code}", row.expires_at, max_rial)


async def grant_for_tools(
    session: AsyncSession,
    shopper: str,
    *,
    shop: str | None = None,
    max_rial: int | None = None,
    now: dt.datetime | None = None,
) -> IssuedGrant:
    """A grant made by the hub's own tools (the benchmark, which stands in for thousands of
    shoppers showing their app), with no PIN asked. No API reaches it: a node or a
    shopper gets a grant only through ``issue_app_grant`` or ``text_code``."""
    now = now or utcnow()
    cap = _checked_cap(max_rial)
    return await _new_grant(session, shopper, "app", shop, cap, APP_GRANT_TTL, APP_CODE_DIGITS, now)


# --- the PIN -------------------------------------------------------------------------------


def _checked_pin(pin: str, field: str) -> str:
    pin = normalize_digits(pin.strip())
    if not _PIN.fullmatch(pin):
        raise GrantError(ProblemCode.INVALID_INPUT, "a PIN of 4 to 6 digits", field)
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(steps) == 1 and steps <= {-1, 0, 1}:
        raise GrantError(
            ProblemCode.INVALID_INPUT, "too easy to guess (one digit, or a straight run)", field
        )
    return pin


async def _hash_pin(pin: str) -> str:
    return await asyncio.to_thread(_PINS.hash, pin)


async def _pin_matches(stored: str, pin: str) -> bool:
    def check() -> bool:
        try:
            return _PINS.verify(stored, pin)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


# 15 minutes doubled this often passes a day: the lock stops growing there.
_PIN_DOUBLINGS = (PIN_LOCK_MAX // PIN_LOCK).bit_length()


async def _verify_pin(row: RedemptionPin, pin: str, field: str, now: dt.datetime) -> Refusal | None:
    """None when ``pin`` is right; a wrong one is counted, returned as a refusal so the
    count is committed. The count runs on until the right PIN (a lock running out does not
    start it over): the fifth wrong PIN locks grants for ``PIN_LOCK``, and each further one
    twice as long as the last, at most ``PIN_LOCK_MAX`` — with a stolen token, about a
    dozen guesses the first day and one a day after."""
    if row.locked_until is not None and row.locked_until > now:
        raise GrantError(
            ProblemCode.TOO_MANY_ATTEMPTS,
            f"too many wrong PINs; try again after {row.locked_until.isoformat()}",
            field,
        )
    if await _pin_matches(row.pin_hash, normalize_digits(pin.strip())):
        row.failures, row.locked_until = 0, None
        return None
    row.failures += 1
    if row.failures >= PIN_ATTEMPTS:
        doublings = min(row.failures - PIN_ATTEMPTS, _PIN_DOUBLINGS)
        lock = min(PIN_LOCK * 2**doublings, PIN_LOCK_MAX)
        row.locked_until = now + lock
        minutes = int(lock.total_seconds() // 60)
        return Refusal(
            GrantError(
                ProblemCode.TOO_MANY_ATTEMPTS,
                f"too many wrong PINs; try again in {minutes} minutes",
                field,
            )
        )
    left = PIN_ATTEMPTS - row.failures
    return Refusal(GrantError(ProblemCode.PIN_INVALID, f"wrong PIN; {left} tries left", field))


async def set_pin(
    session: AsyncSession,
    shopper: str,
    pin: str,
    current_pin: str | None = None,
    now: dt.datetime | None = None,
) -> Refusal | None:
    """Set the shopper's redemption PIN (the first time), or change it with the current one."""
    now = now or utcnow()
    new = _checked_pin(pin, "pin")
    row = await session.get(RedemptionPin, shopper, with_for_update=True)
    if row is None:
        session.add(
            RedemptionPin(
                pseudonym=shopper, pin_hash=await _hash_pin(new), failures=0, updated_at=now
            )
        )
        await session.flush()
        return None
    if current_pin is None:
        raise GrantError(
            ProblemCode.INVALID_INPUT, "give the current PIN to change it", "currentPin"
        )
    refused = await _verify_pin(row, current_pin, "currentPin", now)
    if refused is not None:
        return refused
    row.pin_hash, row.updated_at = await _hash_pin(new), now
    await session.flush()
    return None


async def has_pin(session: AsyncSession, shopper: str) -> bool:
    return await session.get(RedemptionPin, shopper) is not None


# --- grants --------------------------------------------------------------------------------


async def issue_app_grant(
    session: AsyncSession,
    shopper: str,
    pin: str,
    max_rial: int | None = None,
    now: dt.datetime | None = None,
) -> IssuedGrant | Refusal:
    """A grant for the app to show (QR and digits), after the shopper's PIN."""
    now = now or utcnow()
    cap = _checked_cap(max_rial)
    row = await session.get(RedemptionPin, shopper, with_for_update=True)
    if row is None:
        raise GrantError(ProblemCode.PIN_REQUIRED, "set a redemption PIN first", "pin")
    # The PIN row is locked: concurrent requests of this shopper count one after another.
    since = now - RATE_WINDOW
    made = await _count_since(
        session, since, RedemptionGrant.pseudonym == shopper, RedemptionGrant.channel == "app"
    )
    if made >= APP_GRANTS_PER_SHOPPER:
        raise GrantError(ProblemCode.RATE_LIMITED, "too many grants; try again in a few minutes")
    refused = await _verify_pin(row, pin, "pin", now)
    if refused is not None:
        return refused
    return await _new_grant(session, shopper, "app", None, cap, APP_GRANT_TTL, APP_CODE_DIGITS, now)


async def text_code(
    session: AsyncSession,
    key: bytes,
    shop: str,
    raw_phone: str,
    shopper: str,
    max_rial: int | None = None,
    now: dt.datetime | None = None,
) -> TextedCode:
    """An SMS grant for ``shop``, asked by its till with the shopper's phone; the text is
    for ``deliver`` once the transaction commits. Only a shopper with network value
    spendable at ``shop`` is texted; for anyone else the grant is recorded spent (so the
    limits count the ask alike) and nothing is sent — the answer is the same either way."""
    now = now or utcnow()
    cap = _checked_cap(max_rial)
    try:
        phone = normalize_mobile(raw_phone)
    except InvalidPhone as exc:
        raise GrantError(ProblemCode.INVALID_INPUT, str(exc), "phone") from None
    if not PSEUDONYM.fullmatch(shopper):
        raise GrantError(ProblemCode.INVALID_INPUT, "a shopper's pseudonym (64 hex)", "pseudonym")
    if not hmac.compare_digest(pseudonym_of(key, phone), shopper):
        raise GrantError(
            ProblemCode.PHONE_MISMATCH, "this phone is not the shopper named", "pseudonym"
        )
    await _serialise(session, f"grant-sms:{shopper}", f"grant-sms-shop:{shop}")
    if (until := await _shop_locked_until(session, shop, now)) is not None:
        raise _shop_locked(until, None)
    await _check_sms_limits(session, shop, shopper, now)
    _points, _credit, worth = await value.spendable_at(session, shopper, shop, now)
    grant = await _new_grant(
        session, shopper, "sms", shop, cap, SMS_GRANT_TTL, SMS_CODE_DIGITS, now
    )
    if worth <= 0:
        row = await session.get(RedemptionGrant, grant.id)
        assert row is not None  # just made
        row.expires_at = now  # never texted, never usable
        await session.flush()
        return TextedCode(phone, None, grant.expires_at, cap)
    name_fa = await session.scalar(select(Shop.name_fa).where(Shop.slug == shop)) or shop
    cap_fa = f" تا {toman_fa(cap)} تومان" if cap is not None else ""
    cap_en = f" up to {cap // 10:,} toman" if cap is not None else ""
    text = (
        f"کد پرداخت با اعتبار شبکه{cap_fa} در {name_fa}: {grant.code}\n"
        "اگر خرید نمی‌کنید، این کد را به کسی ندهید.\n"
        f"mallnet: to pay{cap_en} with your network value at {shop}, code {grant.code}"
    )
    return TextedCode(phone, text, grant.expires_at, cap)


async def _check_sms_limits(
    session: AsyncSession, shop: str, shopper: str, now: dt.datetime
) -> None:
    sms = RedemptionGrant.channel == "sms"
    to_her, at_shop = RedemptionGrant.pseudonym == shopper, RedemptionGrant.shop == shop
    since = now - RATE_WINDOW
    if (
        await _count_since(session, since, sms, to_her, at_shop) >= SMS_PER_SHOPPER_AT_SHOP
        or await _count_since(session, since, sms, to_her) >= SMS_PER_SHOPPER
        or await _count_since(session, since, sms, at_shop) >= SMS_PER_SHOP
    ):
        raise GrantError(ProblemCode.RATE_LIMITED, "too many codes asked for; try again later")
    day = now - dt.timedelta(days=1)
    if await _count_since(session, day, sms, at_shop) >= SMS_PER_SHOP_DAY:
        raise GrantError(
            ProblemCode.RATE_LIMITED,
            f"this shop asked for {SMS_PER_SHOP_DAY} codes today, the most a day; ask the "
            "shopper for the code in the app, or try again later",
        )


async def deliver(sender: Sender, message: TextedCode) -> None:
    """Send the code's text (after the commit that made the grant; once); nothing when
    there is nothing to text."""
    if message.text is None:
        return
    await asyncio.to_thread(sender.send_sms, message.phone, message.text, kind="redemption")


def _parsed(code: str) -> tuple[str | None, str]:
    """(grant id or None, digits) of what the till sent: the digits, or the QR payload."""
    text = normalize_digits(code.strip())
    if found := _QR.fullmatch(text):
        return found.group(1), found.group(2)
    if _DIGITS.fullmatch(text):
        return None, text
    raise GrantError(ProblemCode.GRANT_INVALID, "not a redemption code", "grant")


async def _matching(
    session: AsyncSession, shop: str, shopper: str, code: str, now: dt.datetime
) -> RedemptionGrant | Refusal:
    """The shopper's grant usable at ``shop`` with this code (locked), or a refusal that
    counted the wrong code against ``shop`` only: its budget, and a try of each live code
    texted for it — never of her app grant or another shop's code (a hostile shop must not
    burn the grants she means for another)."""
    grant_id, digits = _parsed(code)
    query = (
        select(RedemptionGrant)
        .where(
            RedemptionGrant.pseudonym == shopper,
            RedemptionGrant.created_at > now - LOOKBACK,
            or_(RedemptionGrant.shop.is_(None), RedemptionGrant.shop == shop),
        )
        .order_by(RedemptionGrant.id)
        .with_for_update()
    )
    if grant_id is not None:
        query = query.where(RedemptionGrant.id == grant_id)
    rows = list((await session.scalars(query)).all())
    for row in rows:
        if hmac.compare_digest(row.code_hash, _code_hash(row.id, shopper, digits)):
            return row
    own = [r.id for r in rows if r.shop == shop and r.used_at is None and r.expires_at > now]
    if own:
        await session.execute(
            update(RedemptionGrant)
            .where(RedemptionGrant.id.in_(own), RedemptionGrant.attempts < GRANT_ATTEMPTS)
            .values(attempts=RedemptionGrant.attempts + 1)
        )
    await _charge_shop(session, shop, now)
    return Refusal(
        GrantError(
            ProblemCode.GRANT_INVALID,
            "no live redemption grant of this shopper has that code; ask the shopper for "
            "the code in the app, or text one",
            "grant",
        )
    )


def _usable(row: RedemptionGrant, shop: str, amount_rial: int, now: dt.datetime) -> None:
    if row.attempts >= GRANT_ATTEMPTS:
        raise GrantError(
            ProblemCode.TOO_MANY_ATTEMPTS,
            "too many wrong codes; the shopper makes a new one",
            "grant",
        )
    if row.used_at is not None:
        raise GrantError(
            ProblemCode.GRANT_USED, "this grant was used; the shopper makes a new one", "grant"
        )
    if row.expires_at <= now:
        raise GrantError(
            ProblemCode.GRANT_EXPIRED, "this grant expired; the shopper makes a new one", "grant"
        )
    if row.max_rial is not None and amount_rial > row.max_rial:
        raise GrantError(
            ProblemCode.GRANT_EXCEEDED,
            f"the shopper allowed at most {row.max_rial} Rial",
            "amountRial",
        )


async def _retry_of_its_hold(
    session: AsyncSession, row: RedemptionGrant, shop: str, data: value.HoldInput, now: dt.datetime
) -> bool:
    """Whether this is the POS asking again for the hold the grant made (answered as a
    replay), rather than a second use."""
    if row.hold_id is None:
        return False
    held = await session.get(ValueHold, row.hold_id)
    return (
        held is not None
        and held.shop == shop
        and held.idempotency_key == data.idempotency_key
        and (held.status == "captured" or (held.status == "open" and held.expires_at > now))
    )


async def hold_with_grant(
    session: AsyncSession,
    shop: str,
    data: value.HoldInput,
    code: str | None,
    now: dt.datetime | None = None,
) -> value.HoldOutcome | Refusal:
    """Hold the shopper's network value at ``shop`` with the shopper's grant ``code``
    (refused while ``shop`` is locked for wrong codes)."""
    if code is None or not code.strip():
        raise GrantError(
            ProblemCode.GRANT_REQUIRED,
            "network value is held only with the shopper's redemption grant: the code from "
            "the app, or one texted to the shopper",
            "grant",
        )
    if not PSEUDONYM.fullmatch(data.pseudonym):
        raise GrantError(ProblemCode.INVALID_INPUT, "a shopper's pseudonym (64 hex)", "pseudonym")
    now = now or utcnow()
    if (until := await _shop_locked_until(session, shop, now)) is not None:
        raise _shop_locked(until)
    row = await _matching(session, shop, data.pseudonym, code, now)
    if isinstance(row, Refusal):
        return row
    # Asked again after the grant rows (the lock order), waiting for this shop's wrong codes
    # other transactions are counting: a right code never passes a budget already spent.
    if (until := await _shop_locked_until(session, shop, now, share=True)) is not None:
        raise _shop_locked(until)
    if row.used_at is not None and await _retry_of_its_hold(session, row, shop, data, now):
        outcome = await value.hold(session, shop, data)
        if not outcome.replayed:  # the hold ended meanwhile: that would be a second use
            raise GrantError(ProblemCode.GRANT_USED, "this grant was used", "grant")
        return outcome
    _usable(row, shop, data.amount_rial, now)
    outcome = await value.hold(session, shop, data)
    if not outcome.replayed:  # a replay of a hold made before spends nothing new
        row.used_at, row.hold_id = now, outcome.hold.id
        await session.flush()
    return outcome
