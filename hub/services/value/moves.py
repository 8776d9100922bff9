"""What one hold-related transaction moves, lot by lot, and the release of what a hold
reserved and did not capture.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    ValueHold,
    ValueHoldLot,
    ValueLot,
)
from hub.domain.value_rules import (
    unit_of,
)
from hub.services.value.issuance import collect_dues
from hub.services.value.ledger import PENDING, REDEMPTIONS, Entry, Leg, record, shown_as

log = logging.getLogger(__name__)


@dataclass
class Moves:
    """What one hold-related transaction moves, lot by lot: its legs, the totals the
    shopper's history shows, and the settlement rows (issuer → redeeming shop)."""

    row: ValueHold
    legs: list[Leg] = field(default_factory=list)
    points: int = 0
    credit: int = 0
    value: int = 0
    redemptions: list[dict[str, object]] = field(default_factory=list)

    def add(self, lot: ValueLot, units: int, *legs: Leg) -> None:
        self.legs += legs
        shown = shown_as(lot, units)
        self.points += shown["points"]
        self.credit += shown["credit_rial"]
        self.value += shown["value_rial"]

    def redeemed(self, lot: ValueLot, units: int, now: dt.datetime) -> None:
        self.redemptions.append(
            {
                "hold_id": self.row.id,
                "lot_id": lot.id,
                "kind": lot.kind,
                "issuer_shop": lot.issuer_shop,
                "redeemer_shop": self.row.shop,
                "units": units,
                "amount_rial": units * lot.rial_per_point,
                "created_at": now,
            }
        )

    async def record(
        self, session: AsyncSession, kind: str, key: str, reason: str, now: dt.datetime
    ) -> None:
        entry = Entry(
            kind=kind,
            pseudonym=self.row.pseudonym,
            key=key,
            reason=reason,
            shop=self.row.shop,
            hold_id=self.row.id,
            points=self.points,
            credit_rial=self.credit,
            value_rial=self.value,
        )
        txn = await record(session, entry, self.legs, now)
        if self.redemptions:
            conn = await session.connection()
            rows = [{**r, "transaction_id": txn} for r in self.redemptions]
            ids = await conn.execute(
                insert(REDEMPTIONS).returning(REDEMPTIONS.c.id, sort_by_parameter_order=True),
                rows,
            )
            # The settlement outbox: the next close settles these lines — only once the
            # node's purchase event has matched the capture (``reconcile.match_purchase`` puts the
            # earlier lines there then). A reversed capture's lines never go.
            if self.row.reconciliation == "matched":
                pending = [{"kind": "capture", "ref_id": rid} for rid in ids.scalars()]
                await conn.execute(insert(PENDING), pending)


async def release(
    session: AsyncSession,
    row: ValueHold,
    portions: Sequence[ValueHoldLot],
    lots: dict[int, ValueLot],
    why: str,
    now: dt.datetime,
) -> None:
    """Give back what a hold reserved and did not capture."""
    moves = Moves(row)
    for p in portions:
        back = p.units - p.captured_units
        if back > 0:
            lot = lots[p.lot_id]
            unit = unit_of(lot.kind)
            moves.add(
                lot,
                back,
                Leg("held", unit, -back, lot_id=lot.id),
                Leg("available", unit, back, lot_id=lot.id),
            )
    if moves.legs:
        reason = f"hold for purchase {row.purchase_ref} {why}"
        await moves.record(session, "release", f"release:{row.id}", reason, now)
        returned = [lots[p.lot_id] for p in portions if p.units > p.captured_units]
        await collect_dues(session, returned, now)
