"""The value ledger's invariants, recomputed from its rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    ValueLot,
    ValuePosting,
    ValueTransaction,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Totals:
    issued: int
    remaining: int
    held: int
    captured: int
    expired: int


async def verify(session: AsyncSession, pseudonym: str | None = None) -> list[str]:
    """Every invariant of the value ledger that can be checked from the rows; an empty
    list means all hold."""
    problems: list[str] = []
    txn_filter = [] if pseudonym is None else [ValueTransaction.pseudonym == pseudonym]
    unbalanced = (
        await session.execute(
            select(ValuePosting.transaction_id, ValuePosting.unit, func.sum(ValuePosting.amount))
            .join(ValueTransaction, ValueTransaction.id == ValuePosting.transaction_id)
            .where(*txn_filter)
            .group_by(ValuePosting.transaction_id, ValuePosting.unit)
            .having(func.sum(ValuePosting.amount) != 0)
        )
    ).all()
    problems += [f"transaction {t} is unbalanced in {u}: {s}" for t, u, s in unbalanced]
    lot_filter = [] if pseudonym is None else [ValueLot.pseudonym == pseudonym]
    sums = (
        await session.execute(
            select(
                ValueLot.id,
                ValueLot.remaining,
                ValueLot.held,
                func.coalesce(
                    func.sum(ValuePosting.amount).filter(ValuePosting.account == "available"), 0
                ),
                func.coalesce(
                    func.sum(ValuePosting.amount).filter(ValuePosting.account == "held"), 0
                ),
            )
            .outerjoin(ValuePosting, ValuePosting.lot_id == ValueLot.id)
            .where(*lot_filter)
            .group_by(ValueLot.id, ValueLot.remaining, ValueLot.held)
        )
    ).all()
    for lot_id, remaining, held, available_sum, held_sum in sums:
        if remaining != available_sum + held_sum or held != held_sum:
            problems.append(
                f"lot {lot_id}: cache remaining={remaining} held={held}, ledger says"
                f" {available_sum + held_sum} and {held_sum}"
            )
        if remaining < 0 or held < 0 or held > remaining:
            problems.append(f"lot {lot_id}: out of bounds remaining={remaining} held={held}")
    for unit in ("point", "rial"):
        t = await totals(session, unit, pseudonym)
        if t.issued != t.remaining + t.captured + t.expired:
            problems.append(f"{unit}: issued {t.issued} != remaining+captured+expired {t}")
    return problems


async def totals(session: AsyncSession, unit: str, pseudonym: str | None = None) -> Totals:
    query = (
        select(ValuePosting.account, func.sum(ValuePosting.amount))
        .where(ValuePosting.unit == unit)
        .group_by(ValuePosting.account)
    )
    if pseudonym is not None:
        query = query.join(
            ValueTransaction, ValueTransaction.id == ValuePosting.transaction_id
        ).where(ValueTransaction.pseudonym == pseudonym)
    by = {account: int(total or 0) for account, total in (await session.execute(query)).all()}
    return Totals(
        issued=-by.get("issuer", 0),
        remaining=by.get("available", 0) + by.get("held", 0),
        held=by.get("held", 0),
        captured=by.get("redeemed", 0),
        expired=by.get("expired", 0),
    )
