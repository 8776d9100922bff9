"""The network value ledger writer: one balanced, insert-only transaction per change.

Every change is a ``value_transactions`` row with an idempotency key and postings that sum
to zero per unit. A lot's ``remaining``/``held`` columns cache its two accounts and are
changed only by ``record``, with the postings, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from hub.db.models import (
    SettlementPending,
    ValueLot,
    ValuePosting,
    ValueRedemption,
    ValueTransaction,
)
from hub.domain.problems import HubError
from hub.domain.value_rules import (
    unit_of,
)

log = logging.getLogger(__name__)

PSEUDONYM = re.compile(r"[0-9a-f]{64}")

POSTINGS: Table = ValuePosting.__table__  # type: ignore[assignment]
REDEMPTIONS: Table = ValueRedemption.__table__  # type: ignore[assignment]
LOTS: Table = ValueLot.__table__  # type: ignore[assignment]
PENDING: Table = SettlementPending.__table__  # type: ignore[assignment]


class NetworkValueError(HubError):
    """An expected failure of a network value use case (nothing was written)."""


@dataclass(frozen=True)
class Leg:
    account: str  # available | held | issuer | redeemed | expired
    unit: str  # point | rial
    amount: int
    lot_id: int | None = None
    shop: str | None = None


@dataclass(frozen=True)
class Entry:
    kind: str
    pseudonym: str
    key: str
    reason: str
    shop: str | None = None
    hold_id: str | None = None
    points: int = 0
    credit_rial: int = 0
    value_rial: int = 0


async def record(session: AsyncSession, entry: Entry, legs: Sequence[Leg], now: dt.datetime) -> int:
    """Write one balanced transaction and move the lot caches with it."""
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if leg.amount == 0:
            raise AssertionError("a posting of zero")
        totals[leg.unit] += leg.amount
    if any(totals.values()):
        raise AssertionError(f"unbalanced value transaction {entry.key}: {dict(totals)}")
    txn = ValueTransaction(
        pseudonym=entry.pseudonym,
        kind=entry.kind,
        shop=entry.shop,
        hold_id=entry.hold_id,
        reason=entry.reason[:300],
        idempotency_key=entry.key,
        points=entry.points,
        credit_rial=entry.credit_rial,
        value_rial=entry.value_rial,
        created_at=now,
    )
    session.add(txn)
    await session.flush()
    conn = await session.connection()
    if not legs:
        return txn.id
    await conn.execute(
        insert(POSTINGS),
        [
            {
                "transaction_id": txn.id,
                "account": leg.account,
                "lot_id": leg.lot_id,
                "shop": leg.shop,
                "unit": leg.unit,
                "amount": leg.amount,
            }
            for leg in legs
        ],
    )
    moves: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # lot -> [remaining, held]
    for leg in legs:
        if leg.lot_id is None:
            continue
        if leg.account == "available":
            moves[leg.lot_id][0] += leg.amount
        elif leg.account == "held":
            moves[leg.lot_id][0] += leg.amount
            moves[leg.lot_id][1] += leg.amount
    for lot_id, (remaining, held) in sorted(moves.items()):
        if not (remaining or held):
            continue
        now_remaining, now_held, now_due = (
            await conn.execute(
                update(LOTS)
                .where(LOTS.c.id == lot_id)
                .values(remaining=LOTS.c.remaining + remaining, held=LOTS.c.held + held)
                .returning(LOTS.c.remaining, LOTS.c.held, LOTS.c.clawback_due)
            )
        ).one()
        # A lot this session already loaded sees its row as it is now (the update holds
        # the row lock) without a reload.
        loaded = session.identity_map.get(identity_key(ValueLot, lot_id))
        if loaded is not None:
            set_committed_value(loaded, "remaining", now_remaining)
            set_committed_value(loaded, "held", now_held)
            set_committed_value(loaded, "clawback_due", now_due)
    return txn.id


class Shown(TypedDict):
    points: int
    credit_rial: int
    value_rial: int


def shown_as(lot: ValueLot, units: int) -> Shown:
    """What moving ``units`` of ``lot`` shows in the shopper's history (points or credit,
    and its worth): kept on the transaction so the history reads one table."""
    point = unit_of(lot.kind) == "point"
    return Shown(
        points=units if point else 0,
        credit_rial=0 if point else units,
        value_rial=units * lot.rial_per_point,
    )


async def seen(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(
        select(ValueTransaction.id).where(ValueTransaction.idempotency_key == key)
    )
    return found is not None
