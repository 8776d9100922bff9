"""Grants issued (in the app after the PIN, or texted for one shop), matched and spent by
the one hold they make."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets

from sqlalchemy import or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from hub.db.models import (
    RedemptionGrant,
    RedemptionPin,
    Shop,
    ValueHold,
)
from hub.domain.problems import ProblemCode, Refusal
from hub.services import abuse, value
from hub.services.grants.common import (
    _DIGITS,
    _QR,
    APP_CODE_DIGITS,
    APP_GRANT_TTL,
    APP_GRANTS_PER_SHOPPER,
    GRANT_ATTEMPTS,
    LOOKBACK,
    QR_PREFIX,
    RATE_WINDOW,
    SMS_CODE_DIGITS,
    SMS_GRANT_TTL,
    SMS_PER_SHOP,
    SMS_PER_SHOP_DAY,
    SMS_PER_SHOPPER,
    SMS_PER_SHOPPER_AT_SHOP,
    GrantError,
    IssuedGrant,
    TextedCode,
    _checked_cap,
    _code_hash,
    _count_since,
    _serialise,
)
from hub.services.grants.guards import _charge_shop, _shop_locked, _shop_locked_until
from hub.services.grants.pins import _verify_pin
from hub.services.value.ledger import PSEUDONYM
from mallnet.db import utcnow
from mallnet.digits import normalize_digits
from mallnet.messaging import Sender
from mallnet.money import toman_fa
from mallnet.phone import InvalidPhone, normalize_mobile
from mallnet.ratelimit import RateLimited
from mallnet.secrets_store import pseudonym as pseudonym_of

log = logging.getLogger("hub.services.grants")  # one logger for the package


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
    # Every app grant replaces the last, whatever shop it names (one live app code each).
    same_place = (
        true()
        if channel == "app"
        else RedemptionGrant.shop.is_(None)
        if shop is None
        else RedemptionGrant.shop == shop
    )
    await session.execute(
        update(RedemptionGrant)
        .where(
            RedemptionGrant.pseudonym == shopper,
            RedemptionGrant.channel == channel,
            RedemptionGrant.used_at.is_(None),
            RedemptionGrant.expires_at > now,
            same_place,
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


async def issue_app_grant(
    session: AsyncSession,
    shopper: str,
    pin: str,
    max_rial: int | None = None,
    now: dt.datetime | None = None,
    *,
    shop: str | None = None,
) -> IssuedGrant | Refusal:
    """A grant for the app to show (QR and digits), after the shopper's PIN: for any shop,
    or only for ``shop`` (an active shop of the network) when named."""
    now = now or utcnow()
    cap = _checked_cap(max_rial)
    if shop is not None:
        await _check_active_shop(session, shop)
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
    return await _new_grant(session, shopper, "app", shop, cap, APP_GRANT_TTL, APP_CODE_DIGITS, now)


async def _check_active_shop(session: AsyncSession, shop: str) -> None:
    status = await session.scalar(select(Shop.status).where(Shop.slug == shop))
    if status != "active":
        raise GrantError(
            ProblemCode.INVALID_INPUT, "no active shop of the network by that slug", "shop"
        )


async def text_code(
    session: AsyncSession,
    key: bytes,
    shop: str,
    raw_phone: str,
    shopper: str,
    max_rial: int | None = None,
    now: dt.datetime | None = None,
    *,
    limits: abuse.Limits,
) -> TextedCode:
    """An SMS grant for ``shop``, asked by its till with the shopper's phone; the text is
    for ``deliver`` once the transaction commits. Only a shopper with network value
    spendable at ``shop`` is texted; for anyone else the grant is recorded spent (so the
    limits, the shop's and the hub's SMS budget, count the ask alike) and nothing is sent
    — the answer is the same either way."""
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
    try:
        await abuse.charge_redemption_text(limits)
    except RateLimited as exc:
        raise GrantError(ProblemCode.RATE_LIMITED, abuse.message(exc)) from None
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
    await sender.send_sms(message.phone, message.text, kind="redemption")


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
    own = [
        r.id
        for r in rows
        if r.channel == "sms" and r.shop == shop and r.used_at is None and r.expires_at > now
    ]
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
