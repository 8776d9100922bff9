"""A refund of a purchase paid with network value returns it to the lots it came from."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import ValueHold, ValueHoldLot, ValueLot
from hub.domain.problems import ProblemCode
from hub.domain.value_rules import (
    refund_targets,
    unit_of,
)
from hub.services.value.holds import hold_portions, lock_lots, lots_of, own_hold
from hub.services.value.issuance import collect_dues, purchase_origin
from hub.services.value.ledger import Leg, NetworkValueError, seen
from hub.services.value.moves import Moves
from mallnet.db import utcnow

log = logging.getLogger(__name__)

REFUND_LOT_DAYS = 30  # a returned lot that had expired meanwhile lives this long at least


async def lock_for_refund(
    session: AsyncSession, shop: str, receipt_id: str, hold_id: str | None
) -> None:
    """Lock what a refund of a purchase changes, up front and in the order every path
    keeps: the hold it was paid with (hold rows before lots, as capture and void lock
    them), then in one ascending pass the lots the purchase issued (clawed back) and the
    lots its hold spent (refilled). Taking back the issued lots first and refilling the
    spent ones next would lock a lower id after a higher one."""
    ids = list(
        await session.scalars(
            select(ValueLot.id).where(ValueLot.origin == purchase_origin(shop, receipt_id))
        )
    )
    if hold_id is not None:
        own = select(ValueHold.id).where(ValueHold.id == hold_id, ValueHold.shop == shop)
        if await session.scalar(own.with_for_update()) is not None:  # only the shop's own
            ids += await session.scalars(
                select(ValueHoldLot.lot_id).where(ValueHoldLot.hold_id == hold_id)
            )
    await lock_lots(session, ids)


async def refund(
    session: AsyncSession,
    shop: str,
    hold_id: str,
    amount_rial: int,
    key: str,
    now: dt.datetime,
    *,
    reason: str | None = None,
) -> int:
    """A refund at ``shop`` of a purchase paid with network value returns ``amount_rial``
    of it to the lots it came from (a lot expired meanwhile is replaced by a new lot of the
    same issuer) and reverses the settlement input. Returns the Rial returned. ``reason``
    is what the shopper's history says (reconciliation reverses a capture this way)."""
    if await seen(session, f"refund:{key}"):
        return 0
    row = await own_hold(session, shop, hold_id)
    if row.status != "captured":
        raise NetworkValueError(
            ProblemCode.HOLD_CLOSED, "only a captured hold can be refunded", "holdId"
        )
    amount = min(amount_rial, row.captured_rial - row.refunded_rial)
    if amount <= 0:
        return 0
    portions = [p for p in await hold_portions(session, row.id) if p.captured_units > 0]
    lots = await lots_of(session, portions, lock=True)
    # The caller's clock may have started before an expiry sweep that already ran: value
    # never goes back into a lot past its expiry (a new lot of the same issuer takes it).
    now = max(now, utcnow())
    targets = refund_targets(
        [(p.captured_units, lots[p.lot_id].rial_per_point) for p in portions],
        row.refunded_rial + amount,
    )
    moves = Moves(row)
    returned: list[ValueLot] = []
    for p, target in zip(portions, targets, strict=True):
        back = target - p.refunded_units
        if back <= 0:
            continue
        lot = lots[p.lot_id]
        unit = unit_of(lot.kind)
        into = lot.id
        if lot.expires_at <= now:
            into = (await refund_lot(session, lot, back, f"{key}:{lot.id}", now)).id
        else:
            returned.append(lot)
        moves.add(
            lot,
            back,
            Leg("redeemed", unit, -back, shop=shop),
            Leg("available", unit, back, lot_id=into),
        )
        moves.redeemed(lot, -back, now)
        p.refunded_units = target
    row.refunded_rial += amount
    # Recorded even when rounding returned it all before (no legs): the key must be seen,
    # or a replay would count the refund twice.
    why = reason or f"returned: refund of purchase {row.purchase_ref}"
    await moves.record(session, "refund", f"refund:{key}", why, now)
    await collect_dues(session, returned, now)
    await session.flush()
    return moves.value


async def refund_lot(
    session: AsyncSession, original: ValueLot, units: int, key: str, now: dt.datetime
) -> ValueLot:
    """A new, empty lot like ``original`` (same issuer, kind, rate and acceptance) to take
    back value whose lot has expired: it lives as long as the original did."""
    lifetime = max(original.expires_at - original.created_at, dt.timedelta(days=REFUND_LOT_DAYS))
    lot = ValueLot(
        pseudonym=original.pseudonym,
        kind=original.kind,
        issuer_shop=original.issuer_shop,
        amount=units,
        remaining=0,
        held=0,
        rial_per_point=original.rial_per_point,
        accepted_shops=list(original.accepted_shops),
        accepted_category=original.accepted_category,
        expires_at=now + lifetime,
        reason=f"returned by a refund ({original.reason})"[:200],
        origin=f"lot:{original.id}",
        issue_key=f"refund-lot:{key}",
        created_at=now,
        prepaid=original.prepaid,
    )
    session.add(lot)
    await session.flush()
    return lot
