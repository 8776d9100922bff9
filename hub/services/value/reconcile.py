"""Every capture has its purchase: captures reconciled with the nodes' purchase events.

The hub's capture commits before the node's purchase transaction (the node captures, then
records the purchase and its ``purchase.recorded`` event in one transaction). If the node
dies in between, or the till gives up or retries with a new receipt, the capture has no
purchase behind it. So:

* a capture enters the settlement outbox only once it is **matched**: intake finds the
  node's purchase event naming its hold, and checks that the hold is that node's, that
  the purchase is of the hold's shopper and for its receipt, and that the event says it
  paid what was captured (``match_purchase``). Anything else is flagged with a reason and leaves
  the capture unmatched;
* a capture still unmatched ``window`` after it was made is **reversed** by the beat
  (``reverse_unmatched``): a full refund of the hold back to the lots it came from, under
  a reconciliation key, with a reason. Its capture and reversal lines never enter the
  settlement outbox: a reversed capture settles to nothing;
* a purchase event that arrives after the reversal (a late node) cannot capture again —
  that would need the shopper's grant — so the purchase stands as not paid with network
  value, and the conflict is flagged for mall management (``capture_flags``);
* a capture of a reversed hold is refused (``holds.capture``): the till retrying late
  with the same receipt is told, instead of being answered as a replay.

Lock order (docs/ARCHITECTURE.md "Locks"): hold rows, then lots in ascending id in one
pass. Intake locks the holds its batch names up front (``lock_holds``); the sweep locks a
batch of holds (skipping those another transaction holds) and then all their lots.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import CaptureFlag, ValueHold, ValueRedemption
from hub.services.value.holds import lock_lots_of
from hub.services.value.ledger import PENDING
from hub.services.value.refunds import refund
from mallnet.db import utcnow

log = logging.getLogger(__name__)

DEFAULT_MATCH_WINDOW = dt.timedelta(minutes=15)
SWEEP_BATCH = 200


@dataclass(frozen=True)
class PurchaseClaim:
    """What a node's purchase event says about the network value that paid for it."""

    shop: str
    event_id: str
    receipt_id: str
    pseudonym: str
    hold_id: str | None
    paid_rial: int


async def lock_holds(session: AsyncSession, shop: str, hold_ids: Sequence[str]) -> None:
    """Lock the holds named that are ``shop``'s own (a node's events lock nothing of
    another shop's), in ascending id: intake locks every hold its batch names before any
    lot (a purchase or refund event locks lots after its hold)."""
    if hold_ids:
        await session.execute(
            select(ValueHold.id)
            .where(ValueHold.id.in_(set(hold_ids)), ValueHold.shop == shop)
            .order_by(ValueHold.id)
            .with_for_update()
        )


async def match_purchase(
    session: AsyncSession, claim: PurchaseClaim, now: dt.datetime
) -> str | None:
    """Reconcile the capture a purchase event names: matched (its settlement lines enter
    the outbox), or flagged with a reason. Returns the flag's kind, or None (matched, or
    nothing paid with network value)."""
    if claim.hold_id is None:
        if claim.paid_rial <= 0:
            return None
        why = f"says {claim.paid_rial} Rial were paid with network value but names no hold"
        return await _flag_event(session, claim, "unknown_hold", why, None, now)
    row = await session.get(ValueHold, claim.hold_id, with_for_update=True)
    if row is None or row.shop != claim.shop:
        why = "names a hold this shop does not have"
        return await _flag_event(session, claim, "unknown_hold", why, None, now)
    kind, why = _mismatch(row, claim)
    if kind is not None:
        return await _flag_event(session, claim, kind, why, row, now)
    row.reconciliation, row.reconciled_at, row.purchase_event_id = "matched", now, claim.event_id
    await session.flush()
    # Into the settlement outbox: the capture's lines and any refund's written before the
    # purchase event came (batches may arrive out of order).
    conn = await session.connection()
    await conn.execute(
        insert(PENDING).from_select(
            ["kind", "ref_id"],
            select(literal("capture"), ValueRedemption.id)
            .where(ValueRedemption.hold_id == row.id)
            .order_by(ValueRedemption.id),
        )
    )
    return None


def _mismatch(row: ValueHold, claim: PurchaseClaim) -> tuple[str | None, str]:
    """Why the event does not match the capture of ``row`` (a flag's kind and reason)."""
    if row.reconciliation == "reversed":
        at = row.reconciled_at.isoformat() if row.reconciled_at else "?"
        return "late_purchase", (
            f"the capture was reversed at {at} (no purchase event came in time) and its "
            f"value went back to the shopper: the purchase stands as not paid with network "
            f"value ({claim.paid_rial} Rial)"
        )
    if row.reconciliation == "matched":
        return "already_matched", f"the capture was matched by event {row.purchase_event_id}"
    if row.status != "captured":
        return "not_captured", f"the hold is {row.status}, not captured"
    if row.pseudonym != claim.pseudonym:
        return "shopper_mismatch", "the purchase is another shopper's than the hold's"
    if row.purchase_ref != claim.receipt_id:
        return "receipt_mismatch", f"the hold was captured for receipt {row.purchase_ref!r}"
    if row.captured_rial != claim.paid_rial:
        return "amount_mismatch", (
            f"the purchase says {claim.paid_rial} Rial were paid with network value; "
            f"{row.captured_rial} were captured"
        )
    return None, ""


async def _flag_event(
    session: AsyncSession,
    claim: PurchaseClaim,
    kind: str,
    why: str,
    row: ValueHold | None,
    now: dt.datetime,
) -> str:
    log.warning("purchase event %s of %s: %s (%s)", claim.event_id, claim.shop, kind, why)
    session.add(
        CaptureFlag(
            key=f"event:{claim.event_id}",
            kind=kind,
            shop=claim.shop,
            hold_id=claim.hold_id,
            event_id=claim.event_id,
            receipt_id=claim.receipt_id,
            reason=why[:300],
            reported_rial=claim.paid_rial,
            captured_rial=None if row is None else row.captured_rial,
            created_at=now,
        )
    )
    await session.flush()
    return kind


async def reverse_unmatched(
    session: AsyncSession,
    now: dt.datetime | None = None,
    window: dt.timedelta = DEFAULT_MATCH_WINDOW,
    limit: int = SWEEP_BATCH,
) -> int:
    """Reverse captures that no purchase event matched within ``window`` of their capture
    (beat-scheduled): each back to the shopper's lots, flagged. Returns how many; a
    bounded batch per run, and a repeat finds nothing left to do."""
    now = now or utcnow()
    rows = (
        await session.scalars(
            select(ValueHold)
            .where(
                ValueHold.status == "captured",
                ValueHold.reconciliation.is_(None),
                ValueHold.resolved_at <= now - window,
            )
            .order_by(ValueHold.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not rows:
        return 0
    await lock_lots_of(session, rows)
    for row in rows:
        await _reverse(session, row, window, now)
    return len(rows)


async def _reverse(
    session: AsyncSession, row: ValueHold, window: dt.timedelta, now: dt.datetime
) -> None:
    minutes = int(window.total_seconds() // 60)
    why = (
        f"capture at {row.shop} for purchase {row.purchase_ref} reversed: no purchase event "
        f"named it within {minutes} minute{'' if minutes == 1 else 's'}"
    )
    # The refund's settlement lines stay out of the outbox, like the capture's: only a
    # matched capture's lines enter it.
    left = row.captured_rial - row.refunded_rial
    returned = 0
    if left > 0:
        # The key has no colon: a node's refund keys (``<shop>:<refund id>``) always do.
        key = f"reconcile-{row.id}"
        returned = await refund(
            session, row.shop, row.id, left, key, now, reason=f"returned: {why}"
        )
    row.reconciliation, row.reconciled_at = "reversed", now
    log.warning("hold %s: %s (%s Rial returned)", row.id, why, returned)
    session.add(
        CaptureFlag(
            key=f"reversed:{row.id}",
            kind="reversed",
            shop=row.shop,
            hold_id=row.id,
            receipt_id=row.purchase_ref,
            reason=f"{why}; the value went back to the shopper and is not settled"[:300],
            captured_rial=row.captured_rial,
            created_at=now,
        )
    )
    await session.flush()


async def capture_flags(
    session: AsyncSession, *, shop: str | None = None, limit: int = 50
) -> list[CaptureFlag]:
    """What reconciliation flagged, newest first (one shop's, or every shop's)."""
    query = select(CaptureFlag).order_by(CaptureFlag.id.desc()).limit(limit)
    if shop is not None:
        query = query.where(CaptureFlag.shop == shop)
    return list((await session.scalars(query)).all())


async def waiting_captures(session: AsyncSession, *, shop: str | None = None) -> int:
    """Captures still waiting for their purchase event (not settled until it comes)."""
    query = select(func.count()).where(
        ValueHold.status == "captured", ValueHold.reconciliation.is_(None)
    )
    if shop is not None:
        query = query.where(ValueHold.shop == shop)
    return int(await session.scalar(query) or 0)
