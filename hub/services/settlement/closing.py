"""Closing a period in one transaction: its captures settled (each exactly once: the
primary key of ``settlement_items``), its journal, positions and payment instructions
written, prepayments squared, the period frozen and the next one opened. A crash mid-close
leaves nothing behind; closing a closed period again answers with what it produced.

A close settles what waits in the settlement outbox (``settlement_pending``), and a capture
enters it only once the node's purchase event has matched it (``value.match_purchase``):
an unmatched capture waits for a later close, and one reversed by reconciliation (no
purchase event within the window) never enters it — neither do its reversal lines — so it
settles to nothing (``hub/services/value/reconcile.py``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    SettlementBreakage,
    SettlementCorrection,
    SettlementEntry,
    SettlementInstruction,
    SettlementItem,
    SettlementLine,
    SettlementPending,
    SettlementPeriod,
    SettlementPosition,
    ValueTransaction,
)
from hub.domain.problems import ProblemCode
from hub.services import campaigns, prepaid, sales, settlement_policy
from hub.services.settlement.calendar import open_period
from hub.services.settlement.inputs import PAGE, expiries, lines, with_rules
from hub.services.settlement_policy import SettlementError
from mallnet.db import copy_rows, utcnow
from mallnet.digest import request_digest
from settlement.clearing import FUND, Clearing, PeriodResult
from settlement.periods import period_end

ITEMS: Table = SettlementItem.__table__  # type: ignore[assignment]
LINES: Table = SettlementLine.__table__  # type: ignore[assignment]
ENTRIES: Table = SettlementEntry.__table__  # type: ignore[assignment]
BREAKAGE_ROWS: Table = SettlementBreakage.__table__  # type: ignore[assignment]
MAX_CLOSES_PER_SWEEP = 400  # a hub down for a year of daily periods catches up in one sweep


@dataclass(frozen=True)
class Closed:
    period: SettlementPeriod
    replayed: bool


async def close(
    session: AsyncSession, period_id: int, actor: str, now: dt.datetime | None = None
) -> Closed:
    """Close a period that has ended. Run inside one transaction (the caller's): all of it
    is written, or nothing is."""
    now = now or utcnow()
    period = await session.get(
        SettlementPeriod, period_id, with_for_update=True, populate_existing=True
    )
    if period is None:
        raise SettlementError(
            ProblemCode.NOT_FOUND, f"no settlement period {period_id}", "periodId"
        )
    if period.status == "closed":
        return Closed(period, True)
    if period.ends_at > now:
        raise SettlementError(
            ProblemCode.PERIOD_NOT_ENDED,
            f"period {period_id} ends at {period.ends_at.isoformat()}; cut it to close it now",
            "periodId",
        )
    version, declared = await settlement_policy.current(session)
    rules = await campaigns.cost_rules(session, declared)
    policy = with_rules(declared, rules)
    clearing = Clearing(policy)
    await _settle_captures(session, period, clearing)
    await _count_breakage(session, period, clearing)
    corrections = await _count_corrections(session, period, clearing)
    needs_sales = any(c.rule == "sales_share" for c in policy.cost_sharing)
    weights = await sales.between(session, period.starts_at, period.ends_at) if needs_sales else {}
    result = clearing.result(weights)
    await _write_result(session, period, result, now, corrections)
    topups = await _prepayments(session, period, result)
    summary = summary_of(result, clearing.count, version, weights) | {
        "prepaid_topups": topups,
        "campaign_rules": [r.model_dump(mode="json") for r in rules],
    }
    period.status, period.closed_at, period.closed_by = "closed", now, actor
    period.policy_version, period.captures = version, clearing.count
    period.result, period.digest = summary, digest_of(summary)
    await session.flush()
    # The next period starts where this one ended, on the policy's calendar.
    session.add(
        SettlementPeriod(
            starts_at=period.ends_at,
            ends_at=period_end(policy.period, period.ends_at),
            length=policy.period,
            status="open",
            captures=0,
        )
    )
    await session.flush()
    return Closed(period, False)


async def _settle_captures(
    session: AsyncSession, period: SettlementPeriod, clearing: Clearing
) -> None:
    """Every capture and refund line waiting that happened before the period's end (those
    that committed late, or whose capture was matched late, included)."""
    conn = await session.connection()
    rows: list[tuple[Any, ...]] = []
    async for line, _row in lines(conn, clearing, ends_at=period.ends_at, period_id=None):
        o = clearing.add(line)
        rid = int(line.ref.removeprefix("redemption:"))
        rows.append(
            (
                rid,
                period.id,
                o.debtor,
                o.creditor,
                o.gross_rial,
                o.fee_rial,
                line.fee_bp,
                line.covered,
            )
        )
        if len(rows) == PAGE:
            await copy_rows(conn, ITEMS, ITEM_COLUMNS, rows)
            rows = []
    await copy_rows(conn, ITEMS, ITEM_COLUMNS, rows)
    # Out of the outbox: exactly the lines this close settled. (Statements in this
    # transaction each see what has committed by then: a line committed meanwhile and not
    # read stays for the next close.)
    pending = SettlementPending
    await conn.execute(
        delete(pending).where(
            pending.kind == "capture",
            pending.ref_id.in_(
                select(SettlementItem.redemption_id).where(SettlementItem.period_id == period.id)
            ),
        )
    )


ITEM_COLUMNS = (
    *("redemption_id", "period_id", "debtor", "creditor"),
    *("gross_rial", "fee_rial", "fee_bp", "covered"),
)


async def _count_breakage(
    session: AsyncSession, period: SettlementPeriod, clearing: Clearing
) -> None:
    t, pending = ValueTransaction, SettlementPending
    conn = await session.connection()
    rows = (
        await conn.execute(
            expiries()
            .join(pending, (pending.kind == "expiry") & (pending.ref_id == t.id))
            .where(t.created_at < period.ends_at)
            .order_by(t.id)
        )
    ).all()
    for _tid, issuer, worth, covered in rows:
        clearing.add_breakage(issuer or "", worth, bool(covered))
    if rows:
        await conn.execute(
            insert(BREAKAGE_ROWS),
            [
                {"transaction_id": tid, "period_id": period.id, "issuer": issuer, "amount_rial": v}
                for tid, issuer, v, _covered in rows
            ],
        )
        await conn.execute(
            delete(pending).where(
                pending.kind == "expiry", pending.ref_id.in_([row[0] for row in rows])
            )
        )


async def _count_corrections(
    session: AsyncSession, period: SettlementPeriod, clearing: Clearing
) -> dict[str, SettlementCorrection]:
    """Corrections posted before the period's end and not booked yet: booked now."""
    rows = (
        await session.scalars(
            select(SettlementCorrection)
            .outerjoin(SettlementEntry, SettlementEntry.correction_id == SettlementCorrection.id)
            .where(SettlementEntry.id.is_(None), SettlementCorrection.created_at < period.ends_at)
            .order_by(SettlementCorrection.id)
        )
    ).all()
    for row in rows:
        clearing.add_correction(f"correction:{row.id}", row.party, row.amount_rial)
    return {f"correction:{row.id}": row for row in rows}


async def _write_result(
    session: AsyncSession,
    period: SettlementPeriod,
    result: PeriodResult,
    now: dt.datetime,
    corrections: dict[str, SettlementCorrection],
) -> None:
    await _write_journal(session, period, result, now, corrections)
    _add_positions(session, period, result)
    for i in result.instructions:
        session.add(
            SettlementInstruction(
                period_id=period.id,
                party=i.shop,
                direction=i.direction,
                amount_rial=i.amount_rial,
                kind=i.kind,
            )
        )
    await session.flush()


async def _write_journal(
    session: AsyncSession,
    period: SettlementPeriod,
    result: PeriodResult,
    now: dt.datetime,
    corrections: dict[str, SettlementCorrection],
) -> None:
    """The period's entries and their lines. One entry per pair of shops: thousands in a
    large period, written in bulk."""
    conn = await session.connection()
    for start in range(0, len(result.entries), PAGE):
        batch = result.entries[start : start + PAGE]
        ids = (
            await conn.execute(
                insert(ENTRIES).returning(ENTRIES.c.id, sort_by_parameter_order=True),
                [
                    {
                        "period_id": period.id,
                        "ref": e.ref,
                        "kind": e.kind,
                        "created_at": now,
                        "correction_id": c.id if (c := corrections.get(e.ref)) else None,
                        "corrects_entry_id": c.corrects_entry_id if c else None,
                    }
                    for e in batch
                ],
            )
        ).scalars()
        lines = [
            (entry_id, x.account, x.amount_rial)
            for entry_id, e in zip(ids, batch, strict=True)
            for x in e.lines
        ]
        await copy_rows(conn, LINES, ("entry_id", "account", "amount_rial"), lines)


def _add_positions(session: AsyncSession, period: SettlementPeriod, result: PeriodResult) -> None:
    """Each party's position, the fund's included."""
    positions = result.positions
    for name, p in result.parties.items():
        session.add(
            SettlementPosition(
                period_id=period.id,
                party=name,
                receivable_rial=p.receivable_rial,
                fees_rial=p.fees_rial,
                payable_rial=p.payable_rial,
                campaign_rial=p.campaign_rial,
                breakage_rial=p.breakage_rial,
                netted_rial=p.netted_rial,
                covered_rial=p.covered_rial,
                position_rial=positions[name],
            )
        )
    session.add(
        SettlementPosition(
            period_id=period.id,
            party=FUND,
            receivable_rial=0,
            fees_rial=result.fees_rial,
            payable_rial=0,
            campaign_rial=0,
            breakage_rial=0,
            netted_rial=0,
            covered_rial=0,
            position_rial=positions[FUND],
        )
    )


async def _prepayments(
    session: AsyncSession, period: SettlementPeriod, result: PeriodResult
) -> dict[str, int]:
    """What goes back to the shops' prepayments at this close — expired value by policy,
    value paid for in advance and spent at its own shop — then the top-up each shop owes
    whose balance is below zero (issued on credit, flagged): an instruction to pay in."""
    returns = [
        ("breakage", result.breakage_to_issuer, "expired value returned"),
        ("own_spend", result.own_spent, "spent at the shop that paid for it"),
    ]
    for kind, amounts, why in returns:
        for shop, amount in amounts.items():
            key, reason = f"{kind}:{period.id}:{shop}", f"{why} (period {period.id})"
            await prepaid.give_back(session, shop, kind, amount, key, reason)
    topups = {shop: -b for shop, b in sorted((await prepaid.balances(session)).items()) if b < 0}
    for shop, amount in topups.items():
        session.add(
            SettlementInstruction(
                period_id=period.id,
                party=shop,
                direction="to_fund",
                amount_rial=amount,
                kind="prepaid_topup",
            )
        )
    await session.flush()
    return topups


def summary_of(
    result: PeriodResult, captures: int, version: int, weights: dict[str, int]
) -> dict[str, Any]:
    """What the period produced, as stored and as ``verify`` recomputes it."""
    return {
        "captures": captures,
        "policy_version": version,
        "funding": result.funding,
        "fees_rial": result.fees_rial,
        "breakage_to_fund_rial": result.breakage_to_fund_rial,
        "breakage_to_issuer": result.breakage_to_issuer,
        "positions": result.positions,
        "netted_rial": result.netted_rial,
        "instructions": [
            {
                "party": i.shop,
                "direction": i.direction,
                "amount_rial": i.amount_rial,
                "kind": i.kind,
            }
            for i in result.instructions
        ],
        "pairs": [[d, c, g, f] for (d, c), (g, f) in result.pairs.items()],
        "campaign_shares": result.campaign_shares,
        "own_spent": result.own_spent,
        "sales_rial": weights,
    }


def digest_of(summary: dict[str, Any]) -> str:
    return request_digest(summary)


async def close_due(session_work: Any, actor: str = "beat") -> list[int]:
    """Close every period that has ended (beat-scheduled), each in its own transaction.
    ``session_work(fn)`` runs ``fn(session)`` in a fresh transaction and returns its result."""
    closed: list[int] = []
    for _ in range(MAX_CLOSES_PER_SWEEP):

        async def step(session: AsyncSession) -> int | None:
            now = utcnow()
            period = await open_period(session, now)
            if period.ends_at > now:
                return None
            done = await close(session, period.id, actor, now)
            return None if done.replayed else done.period.id

        period_id = await session_work(step)
        if period_id is None:
            return closed
        closed.append(period_id)
    return closed
