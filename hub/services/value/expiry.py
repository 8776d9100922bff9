"""Lots past their expiry: what is still available of them expires (breakage, for the
settlement that follows).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from hub.db.models import (
    ValueLot,
)
from hub.domain.value_rules import (
    unit_of,
)
from hub.services.value.ledger import PENDING, Entry, Leg, record, shown_as
from mallnet.db import utcnow

log = logging.getLogger(__name__)


async def expire_lots(
    session: AsyncSession, now: dt.datetime | None = None, limit: int = 1000
) -> int:
    """Expire what is still available of lots past their expiry (held value waits for its
    hold). Returns how many lots were touched."""
    now = now or utcnow()
    lots = (
        await session.scalars(
            select(ValueLot)
            .where(ValueLot.expires_at <= now, ValueLot.remaining > ValueLot.held)
            .order_by(ValueLot.expires_at, ValueLot.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for lot in lots:
        gone = lot.remaining - lot.held
        unit = unit_of(lot.kind)
        txn = await record(
            session,
            Entry(
                kind="expire",
                pseudonym=lot.pseudonym,
                # Unique per sweep: value can come back into a swept lot (a refund racing
                # the sweep), and its next expiry is another change. The row lock and the
                # "something available" filter keep a sweep from acting twice.
                key=f"expire:{lot.id}:{new_event_id()}",
                reason=f"{lot.kind.replace('_', ' ')} from {lot.issuer_shop} expired",
                shop=lot.issuer_shop,
                **shown_as(lot, gone),
            ),
            [Leg("available", unit, -gone, lot_id=lot.id), Leg("expired", unit, gone)],
            now,
        )
        # Breakage, for the settlement that follows.
        await (await session.connection()).execute(
            insert(PENDING), [{"kind": "expiry", "ref_id": txn}]
        )
    return len(lots)
