"""What a close (and its audit) feeds the pure engine from the value ledger: capture and
refund lines page by page, expiries, and the policy with the campaigns' cost rules."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.db.models import (
    SettlementItem,
    SettlementPending,
    ValueLot,
    ValuePosting,
    ValueRedemption,
    ValueTransaction,
)
from settlement.clearing import Clearing, Redemption
from settlement.policy import CostSharing, SettlementPolicy

PAGE = 20_000  # captures read and written per round trip while closing


LineRow = tuple[Any, ...]  # id, issuer, redeemer, amount, hold, lot, lot paid in advance, …


async def lines(
    conn: AsyncConnection, clearing: Clearing, *, ends_at: dt.datetime | None, period_id: int | None
) -> AsyncIterator[tuple[Redemption, LineRow]]:
    """Capture and refund lines in the order they were written, page by page, as the
    engine's input: those waiting in the settlement outbox (a matched capture's lines
    only) that happened before ``ends_at`` (closing), or those ``period_id`` settled,
    with what it settled them as (auditing). A refund line reverses its capture at the
    capture's own rate, cumulatively over the earlier lines of that capture."""
    r, item, pending = ValueRedemption, SettlementItem, SettlementPending
    columns = [r.id, r.issuer_shop, r.redeemer_shop, r.amount_rial, r.hold_id, r.lot_id]
    last = 0
    while True:
        query = select(*columns, ValueLot.prepaid).join(ValueLot, ValueLot.id == r.lot_id)
        if period_id is not None:
            query = (
                query.add_columns(item.gross_rial, item.fee_rial, item.fee_bp, item.covered)
                .join(item, item.redemption_id == r.id)
                .where(item.period_id == period_id)
            )
            order = r.id
        else:
            # Walk the outbox by its primary key (the planner then reads it in order and
            # looks each line up, instead of joining the whole outbox for every page).
            query = query.join(pending, pending.ref_id == r.id).where(
                pending.kind == "capture", r.created_at < ends_at
            )
            order = pending.ref_id
        page: Sequence[Any] = (
            await conn.execute(query.where(order > last).order_by(order).limit(PAGE))
        ).all()
        if not page:
            return
        last = page[-1][0]
        priors = await _priors(conn, [row for row in page if row[3] < 0])
        for row in page:
            rid, issuer, redeemer, amount = row[:4]
            prior, rate = priors.get(rid, (0, None))
            yield (
                Redemption(
                    f"redemption:{rid}",
                    issuer,
                    redeemer,
                    amount,
                    clearing.fee_bp(issuer, redeemer) if rate is None else rate,
                    prior,
                    covered=bool(row[6]),
                ),
                tuple(row),
            )


async def _priors(
    conn: AsyncConnection, refunds: Sequence[Any]
) -> dict[int, tuple[int, int | None]]:
    """For each refund line: what the earlier lines of its capture (same hold and lot)
    came to, and the rate its capture was settled at (None: the capture is settled in this
    same close, at today's rate). One query per page; refunds are few."""
    if not refunds:
        return {}
    r, item = ValueRedemption, SettlementItem
    rows = await conn.execute(
        select(r.id, r.hold_id, r.lot_id, r.amount_rial, item.fee_bp)
        .outerjoin(item, item.redemption_id == r.id)
        .where(r.hold_id.in_({row[4] for row in refunds}), r.id <= max(row[0] for row in refunds))
        .order_by(r.id)
    )
    running: dict[tuple[str, int], int] = defaultdict(int)
    rates: dict[tuple[str, int], int | None] = {}
    wanted = {row[0] for row in refunds}
    out: dict[int, tuple[int, int | None]] = {}
    for rid, hold_id, lot_id, amount, rate in rows.all():
        key = (hold_id, lot_id)
        rates.setdefault(key, rate)  # the first line of a hold and lot is its capture
        if rid in wanted:
            out[rid] = (running[key], rates[key])
        running[key] += amount
    return out


def expiries() -> Any:
    """Expiry transactions with their issuer, worth and whether the lot was paid for in
    advance (an expiry moves one lot)."""
    t = ValueTransaction
    return (
        select(t.id, t.shop, t.value_rial, ValueLot.prepaid)
        .join(
            ValuePosting, (ValuePosting.transaction_id == t.id) & ValuePosting.lot_id.is_not(None)
        )
        .join(ValueLot, ValueLot.id == ValuePosting.lot_id)
    )


def with_rules(policy: SettlementPolicy, rules: Sequence[CostSharing]) -> SettlementPolicy:
    """The policy with the campaigns' own cost rules beside the declared ones."""
    return policy.model_copy(update={"cost_sharing": [*policy.cost_sharing, *rules]})
