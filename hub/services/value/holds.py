"""Two-phase redemption: a hold reserves value from a shopper's lots (soonest-expiring
first) under row locks, and is captured (fully or partly), voided or expired exactly once.
Every capture records, per consumed lot, who issued the value and who redeemed it
(``value_redemptions``): the input of settlement.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from hub.db.models import (
    ValueHold,
    ValueHoldLot,
    ValueLot,
)
from hub.domain.problems import ProblemCode
from hub.domain.value_rules import (
    GENERAL,
    POOLED,
    TARGETED,
    reserve,
    spending_order,
    split_capture,
    unit_of,
)
from hub.services.value.ledger import PSEUDONYM, Leg, NetworkValueError
from hub.services.value.moves import Moves, release
from hub.services.value.wallet import lot_view, spendable
from mallnet.db import utcnow
from mallnet.digest import request_digest
from mallnet.values import KEY_HELP, MAX_RIAL, is_idempotency_key

log = logging.getLogger(__name__)

DEFAULT_HOLD_TTL_S = 15 * 60
MIN_HOLD_TTL_S, MAX_HOLD_TTL_S = 30, 24 * 3600
ALL_KINDS: tuple[str, ...] = (POOLED, GENERAL, TARGETED)


@dataclass(frozen=True)
class HoldInput:
    pseudonym: str
    amount_rial: int
    purchase_ref: str
    idempotency_key: str
    partial: bool = False
    kinds: Sequence[str] = ALL_KINDS
    ttl_s: int = DEFAULT_HOLD_TTL_S


@dataclass(frozen=True)
class HoldOutcome:
    hold: ValueHold
    replayed: bool
    portions: list[ValueHoldLot] = field(default_factory=list)
    # The portions' lots, when the use case had them at hand (saves reading them again).
    lots: dict[int, ValueLot] = field(default_factory=dict)


def check_key(value: str, name: str) -> None:
    if not is_idempotency_key(value):
        raise NetworkValueError(ProblemCode.INVALID_INPUT, KEY_HELP, name)


def _checked_kinds(data: HoldInput) -> list[str]:
    """The hold's kinds, sorted, once every field is valid (nothing written otherwise)."""
    check_key(data.idempotency_key, "idempotencyKey")
    check_key(data.purchase_ref, "purchaseRef")
    if not PSEUDONYM.fullmatch(data.pseudonym):
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT, "a shopper's pseudonym (64 hex)", "pseudonym"
        )
    if isinstance(data.amount_rial, bool) or not 0 < data.amount_rial <= MAX_RIAL:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT, "a positive amount in Rial", "amountRial"
        )
    if not MIN_HOLD_TTL_S <= data.ttl_s <= MAX_HOLD_TTL_S:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT,
            f"between {MIN_HOLD_TTL_S} and {MAX_HOLD_TTL_S} seconds",
            "ttlSeconds",
        )
    kinds = sorted(set(data.kinds))
    if not kinds or not set(kinds) <= {POOLED, GENERAL, TARGETED}:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT, "choose among the kinds of network value", "kinds"
        )
    return kinds


async def _replay(
    session: AsyncSession, shop: str, data: HoldInput, digest: str, now: dt.datetime
) -> HoldOutcome | None:
    """The answer given before to this shop's idempotency key, or None to hold anew."""
    existing = await session.scalar(
        select(ValueHold)
        .where(ValueHold.shop == shop, ValueHold.idempotency_key == data.idempotency_key)
        .with_for_update()
    )
    if existing is None:
        return None
    if existing.status == "open" and existing.expires_at <= now:
        # The sweep has not come by yet. All the lots of the old hold's shopper and of the
        # new one's (the same, unless the key is reused) are locked first in one pass: the
        # new hold locks some of them next, so the locks still go up in id order.
        await lock_lots(session, await _lot_ids_of(session, existing.pseudonym, data.pseudonym))
        await expire_hold(session, existing, now)
    if existing.status in ("voided", "expired"):
        # That hold is over; asking again (the POS's natural retry, or "ask for a new
        # one") gets a new hold. The old one keeps its id and history; its key is freed.
        existing.idempotency_key = f"retired:{existing.id}"
        await session.flush()
        return None
    if existing.request_hash != digest:
        raise NetworkValueError(
            ProblemCode.IDEMPOTENCY_CONFLICT,
            "this idempotency key was used for a different hold",
            "idempotencyKey",
        )
    return HoldOutcome(existing, True, await hold_portions(session, existing.id))


async def hold(session: AsyncSession, shop: str, data: HoldInput) -> HoldOutcome:
    """Reserve ``data.amount_rial`` of the shopper's value spendable at ``shop``, soonest
    expiring first (idempotent per shop and key)."""
    kinds = _checked_kinds(data)
    digest = request_digest(
        {
            "pseudonym": data.pseudonym,
            "amount": data.amount_rial,
            "purchase": data.purchase_ref,
            "partial": data.partial,
            "kinds": kinds,
            "ttl": data.ttl_s,
        }
    )
    now = utcnow()
    replayed = await _replay(session, shop, data, digest, now)
    if replayed is not None:
        return replayed
    lots = [
        lot
        for lot in await spendable(session, data.pseudonym, shop, now, lock=True)
        if lot.kind in kinds
    ]
    taken, covered = reserve(spending_order([lot_view(lot) for lot in lots]), data.amount_rial)
    if covered == 0 or (covered < data.amount_rial and not data.partial):
        raise NetworkValueError(
            ProblemCode.INSUFFICIENT_VALUE,
            f"{covered} Rial of network value is spendable here; {data.amount_rial} asked",
            "amountRial",
        )
    row = ValueHold(
        id=new_event_id(),
        shop=shop,
        pseudonym=data.pseudonym,
        idempotency_key=data.idempotency_key,
        request_hash=digest,
        purchase_ref=data.purchase_ref,
        requested_rial=data.amount_rial,
        held_rial=covered,
        captured_rial=0,
        refunded_rial=0,
        status="open",
        expires_at=now + dt.timedelta(seconds=data.ttl_s),
        created_at=now,
    )
    session.add(row)
    by_id = {lot.id: lot for lot in lots}
    portions = await _reserve(session, row, taken, by_id, now)
    return HoldOutcome(row, False, portions, by_id)


async def _reserve(
    session: AsyncSession,
    row: ValueHold,
    taken: Sequence[tuple[int, int]],
    lots: dict[int, ValueLot],
    now: dt.datetime,
) -> list[ValueHoldLot]:
    """Write the hold's portions and move their units from available to held."""
    portions = [
        ValueHoldLot(
            hold_id=row.id,
            position=index,
            lot_id=lot_id,
            units=units,
            captured_units=0,
            refunded_units=0,
        )
        for index, (lot_id, units) in enumerate(taken)
    ]
    session.add_all(portions)
    await session.flush()
    moves = Moves(row)
    for lot_id, units in taken:
        unit = unit_of(lots[lot_id].kind)
        moves.add(
            lots[lot_id],
            units,
            Leg("available", unit, -units, lot_id=lot_id),
            Leg("held", unit, units, lot_id=lot_id),
        )
    reason = f"held for purchase {row.purchase_ref}"
    await moves.record(session, "hold", f"hold:{row.id}", reason, now)
    return portions


async def hold_portions(session: AsyncSession, hold_id: str) -> list[ValueHoldLot]:
    rows = await session.scalars(
        select(ValueHoldLot).where(ValueHoldLot.hold_id == hold_id).order_by(ValueHoldLot.position)
    )
    return list(rows.all())


async def own_hold(session: AsyncSession, shop: str, hold_id: str) -> ValueHold:
    row = await session.get(ValueHold, hold_id, with_for_update=True)
    if row is None or row.shop != shop:
        raise NetworkValueError(
            ProblemCode.NOT_FOUND, "no hold with that id for this shop", "holdId"
        )
    return row


async def lock_lots(session: AsyncSession, ids: Sequence[int]) -> None:
    """Lock lots in ascending id: the one order every path locks a shopper's lots in (a
    transaction that locks in one ascending pass cannot deadlock with another)."""
    if ids:
        await session.execute(
            select(ValueLot.id)
            .where(ValueLot.id.in_(set(ids)))
            .order_by(ValueLot.id)
            .with_for_update()
        )


async def lock_lots_of(session: AsyncSession, holds: Sequence[ValueHold]) -> None:
    """Lock every lot of a batch of holds in one ascending pass, before a sweep works
    through them hold after hold (which would otherwise lock a lower id after a higher)."""
    held = select(ValueHoldLot.lot_id).where(ValueHoldLot.hold_id.in_([h.id for h in holds]))
    await lock_lots(session, list(await session.scalars(held)))


async def _lot_ids_of(session: AsyncSession, *pseudonyms: str) -> list[int]:
    rows = await session.scalars(select(ValueLot.id).where(ValueLot.pseudonym.in_(pseudonyms)))
    return list(rows)


async def lots_of(
    session: AsyncSession, portions: Sequence[ValueHoldLot], *, lock: bool = False
) -> dict[int, ValueLot]:
    """The lots of a hold, read (and with ``lock``, locked) in ascending id."""
    ids = sorted({p.lot_id for p in portions})
    query = select(ValueLot).where(ValueLot.id.in_(ids)).order_by(ValueLot.id)
    if lock:
        query = query.with_for_update()
    rows = (await session.scalars(query)).all()
    return {lot.id: lot for lot in rows}


async def capture(
    session: AsyncSession,
    shop: str,
    hold_id: str,
    amount_rial: int | None = None,
    purchase_ref: str | None = None,
    up_to_rial: int | None = None,
    *,
    pseudonym: str | None = None,
) -> HoldOutcome:
    """Capture ``amount_rial`` of an open hold — or, without it, all of it but at most
    ``up_to_rial`` (what is left to pay) — for the purchase it was made for; the rest is
    released. The same capture again is answered as a replay; anything else on a closed
    hold is refused.

    ``pseudonym`` is the shopper of the purchase that captures: a hold is captured only
    by a purchase of its own shopper (the API always passes it; only the hub's own code
    may leave it out)."""
    for name, given in (("amountRial", amount_rial), ("upToRial", up_to_rial)):
        if given is not None and (isinstance(given, bool) or given <= 0):
            raise NetworkValueError(ProblemCode.INVALID_INPUT, "a positive amount in Rial", name)
    row = await own_hold(session, shop, hold_id)
    _capture_is_for(row, pseudonym, purchase_ref)
    wanted = amount_rial
    if wanted is None:
        wanted = row.held_rial if up_to_rial is None else min(row.held_rial, up_to_rial)
    # "All of it" and the same amount named explicitly are the same capture.
    digest = request_digest({"capture": wanted})
    if row.status == "captured" and row.capture_hash == digest:
        return HoldOutcome(row, True, await hold_portions(session, row.id))
    now = utcnow()
    _capturable(row, wanted, now)
    portions = await hold_portions(session, row.id)
    lots = await lots_of(session, portions, lock=True)
    units, captured = split_capture(
        [(p.units, lots[p.lot_id].rial_per_point) for p in portions], wanted
    )
    if captured == 0:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT,
            "less than one point's worth: nothing to capture",
            "amountRial",
        )
    moves = Moves(row)
    for p, take in zip(portions, units, strict=True):
        if take == 0:
            continue
        lot = lots[p.lot_id]
        unit = unit_of(lot.kind)
        p.captured_units = take
        moves.add(
            lot,
            take,
            Leg("held", unit, -take, lot_id=lot.id),
            Leg("redeemed", unit, take, shop=shop),
        )
        moves.redeemed(lot, take, now)
    reason = f"spent on purchase {row.purchase_ref}"
    await moves.record(session, "capture", f"capture:{row.id}", reason, now)
    await release(session, row, portions, lots, "released after capture", now)
    row.status, row.captured_rial, row.capture_hash, row.resolved_at = (
        "captured",
        captured,
        digest,
        now,
    )
    await session.flush()
    return HoldOutcome(row, False, portions, lots)


def _capture_is_for(row: ValueHold, pseudonym: str | None, purchase_ref: str | None) -> None:
    """Refuse a capture of a reversed hold, by another shopper's purchase, or for another
    purchase than the hold was made for."""
    if row.reconciliation == "reversed":
        # Not a replay: the value went back to the shopper (reconcile.py). Taking it again
        # needs the shopper's grant for a new hold.
        raise NetworkValueError(
            ProblemCode.HOLD_CLOSED,
            "this capture was reversed (no purchase event named it in time) and its value "
            "went back to the shopper; ask for a new hold",
            "holdId",
        )
    if pseudonym is not None and pseudonym != row.pseudonym:
        raise NetworkValueError(
            ProblemCode.SHOPPER_MISMATCH,
            "this hold is another shopper's: only a purchase of the shopper who granted it "
            "captures it",
            "pseudonym",
        )
    if purchase_ref is not None and purchase_ref != row.purchase_ref:
        raise NetworkValueError(
            ProblemCode.HOLD_MISMATCH,
            f"this hold is for purchase {row.purchase_ref!r}",
            "purchaseRef",
        )


def _capturable(row: ValueHold, wanted: int, now: dt.datetime) -> None:
    """Refuse a capture of a hold that is closed or expired, or of more than it holds."""
    if row.status != "open":
        raise NetworkValueError(
            ProblemCode.HOLD_CLOSED, f"this hold is already {row.status}", "holdId"
        )
    if row.expires_at <= now:
        raise NetworkValueError(
            ProblemCode.HOLD_EXPIRED, "this hold has expired; ask for a new one", "holdId"
        )
    if wanted > row.held_rial:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT,
            f"at most the {row.held_rial} Rial held can be captured",
            "amountRial",
        )


async def void(session: AsyncSession, shop: str, hold_id: str) -> HoldOutcome:
    """Release a hold (idempotent: a voided or expired hold is answered as it is)."""
    row = await own_hold(session, shop, hold_id)
    portions = await hold_portions(session, row.id)
    if row.status in ("voided", "expired"):
        return HoldOutcome(row, True, portions)
    if row.status == "captured":
        raise NetworkValueError(
            ProblemCode.HOLD_CLOSED, "this hold was captured; refund the purchase", "holdId"
        )
    now = utcnow()
    lots = await lots_of(session, portions, lock=True)
    await release(session, row, portions, lots, "voided", now)
    row.status, row.resolved_at = "voided", now
    await session.flush()
    return HoldOutcome(row, False, portions, lots)


async def expire_holds(
    session: AsyncSession, now: dt.datetime | None = None, limit: int = 500
) -> int:
    """Release open holds past their expiry (beat-scheduled). Returns how many."""
    now = now or utcnow()
    rows = (
        await session.scalars(
            select(ValueHold)
            .where(ValueHold.status == "open", ValueHold.expires_at <= now)
            .order_by(ValueHold.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not rows:
        return 0
    await lock_lots_of(session, rows)
    for row in rows:
        await expire_hold(session, row, now)
    return len(rows)


async def expire_hold(session: AsyncSession, row: ValueHold, now: dt.datetime) -> None:
    portions = await hold_portions(session, row.id)
    await release(
        session, row, portions, await lots_of(session, portions, lock=True), "expired", now
    )
    row.status, row.resolved_at = "expired", now
    await session.flush()
