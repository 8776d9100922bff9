"""What the grant modules share: limits, the grant's error, what is issued or texted,
and the counting and serialising helpers."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    RedemptionGrant,
    RedemptionShopGuard,
)
from hub.domain.problems import HubError, ProblemCode
from hub.services import code_digests
from mallnet.values import MAX_RIAL

log = logging.getLogger("hub.services.grants")  # one logger for the package


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
    return code_digests.digest("grant", grant_id, shopper, code)


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
