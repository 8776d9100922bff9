"""Where a shopper's own grant stands, for the app's pay screen: still open, used by a
hold (and whether the till captured it), or expired."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import RedemptionGrant, ValueHold
from hub.services.grants.common import GRANT_ATTEMPTS
from mallnet.db import utcnow


@dataclass(frozen=True)
class GrantStatus:
    """A grant and the hold it made, if any."""

    id: str
    status: str  # open, used or expired
    expires_at: dt.datetime
    used_at: dt.datetime | None
    shop: str | None  # where it may be used; None: any shop
    held_at: str | None  # the shop whose hold used it
    held_rial: int
    captured_rial: int
    paid: bool


def _state(row: RedemptionGrant, now: dt.datetime) -> str:
    if row.used_at is not None:
        return "used"
    # Too many wrong codes end a grant as surely as its time does.
    if row.expires_at <= now or row.attempts >= GRANT_ATTEMPTS:
        return "expired"
    return "open"


def _paid(hold: ValueHold | None) -> bool:
    """Captured, fully or partly, and not reversed for want of the purchase event."""
    return (
        hold is not None
        and hold.status == "captured"
        and hold.captured_rial > 0
        and hold.reconciliation != "reversed"
    )


async def grant_status(
    session: AsyncSession, shopper: str, grant_id: str, now: dt.datetime | None = None
) -> GrantStatus | None:
    """The shopper's own grant ``grant_id``; None for an unknown id and for another
    shopper's grant alike (the answer does not tell which)."""
    now = now or utcnow()
    if not grant_id or len(grant_id) > 26:
        return None
    row = await session.get(RedemptionGrant, grant_id)
    if row is None or row.pseudonym != shopper:
        return None
    hold = None if row.hold_id is None else await session.get(ValueHold, row.hold_id)
    return GrantStatus(
        id=row.id,
        status=_state(row, now),
        expires_at=row.expires_at,
        used_at=row.used_at,
        shop=row.shop,
        held_at=None if hold is None else hold.shop,
        held_rial=0 if hold is None else hold.held_rial,
        captured_rial=0 if hold is None else hold.captured_rial,
        paid=_paid(hold),
    )
