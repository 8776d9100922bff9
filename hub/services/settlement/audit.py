"""The audit of a closed period: recomputed twice, from the captures it settled and from
its journal, and every difference from what was stored listed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    SettlementBreakage,
    SettlementEntry,
    SettlementLine,
    SettlementPolicyVersion,
    ValueTransaction,
)
from hub.services import sales
from hub.services.settlement.calendar import get_period
from hub.services.settlement.closing import digest_of, summary_of
from hub.services.settlement.corrections import booked
from hub.services.settlement.inputs import expiries, lines, with_rules
from hub.services.settlement.statements import instructions, positions
from settlement.clearing import FUND, Clearing, PeriodResult
from settlement.policy import CostSharing, SettlementPolicy


async def verify(session: AsyncSession, period_id: int) -> list[str]:
    """Recompute a closed period twice — from the captures it settled and from its journal
    — and list every difference from what was stored (empty: all agree)."""
    period = await get_period(session, period_id)
    if period.status != "closed" or period.result is None:
        return [f"period {period_id} is not closed"]
    stored = period.result
    policy = await _policy_of(session, period.policy_version or 0, stored)
    # 1. From the captures: the value ledger's own lines, settled again.
    clearing = Clearing(policy)
    problems = await _settle_again(session, period_id, clearing)
    weights = stored.get("sales_rial") or {}
    if any(c.rule == "sales_share" for c in policy.cost_sharing):
        weights = await sales.between(session, period.starts_at, period.ends_at)
    result = clearing.result(weights)
    again = summary_of(result, clearing.count, period.policy_version or 0, weights)
    again["prepaid_topups"] = stored.get("prepaid_topups", {})  # the balances then, not now
    again["campaign_rules"] = stored.get("campaign_rules", [])
    for key in sorted(set(again) | set(stored)):
        if _normal(again.get(key)) != _normal(stored.get(key)):
            problems.append(f"{key}: stored {stored.get(key)!r}, recomputed {again.get(key)!r}")
    if digest_of(stored) != period.digest:
        problems.append("the stored result does not match its digest")
    problems += await _check_rows(session, period_id, result, again["prepaid_topups"])
    # 2. From the journal.
    problems += await _check_journal(session, period_id)
    return problems


async def _policy_of(
    session: AsyncSession, version: int, stored: dict[str, Any]
) -> SettlementPolicy:
    """The policy the close used, with the campaigns' rules as the close found them (shops
    may join campaigns later)."""
    row = await session.get(SettlementPolicyVersion, version)
    return with_rules(
        SettlementPolicy() if row is None else SettlementPolicy.model_validate(row.document),
        [CostSharing.model_validate(r) for r in stored.get("campaign_rules", [])],
    )


async def _settle_again(session: AsyncSession, period_id: int, clearing: Clearing) -> list[str]:
    """Feed the engine the lines, corrections and expiries the period settled; every line
    settled otherwise than it is now, and every expiry counted at another worth."""
    problems: list[str] = []
    conn = await session.connection()
    async for line, row in lines(conn, clearing, ends_at=None, period_id=period_id):
        o = clearing.add(line)
        gross, fee, rate, covered = row[7:11]
        if (o.gross_rial, o.fee_rial, line.fee_bp, line.covered) != (gross, fee, rate, covered):
            now_is = f"{o.gross_rial}/{o.fee_rial} at {line.fee_bp} bp"
            problems.append(
                f"{line.ref}: settled as {gross}/{fee} at {rate} bp, recomputed {now_is}"
            )
    for c in await booked(session, period_id):
        clearing.add_correction(f"correction:{c.id}", c.party, c.amount_rial)
    expired = await conn.execute(
        expiries()
        .add_columns(SettlementBreakage.amount_rial)
        .join(SettlementBreakage, SettlementBreakage.transaction_id == ValueTransaction.id)
        .where(SettlementBreakage.period_id == period_id)
    )
    for _tid, issuer, worth, covered, counted in expired.all():
        if worth != counted:
            problems.append(f"breakage of {issuer}: counted {counted}, ledger says {worth}")
        clearing.add_breakage(issuer or "", worth, bool(covered))
    return problems


async def _check_rows(
    session: AsyncSession, period_id: int, result: PeriodResult, topups: dict[str, int]
) -> list[str]:
    """The rows mall finance pays from and shops read say what was recomputed."""
    problems: list[str] = []
    expected = sorted(
        [(i.shop, i.direction, i.amount_rial, i.kind) for i in result.instructions]
        + [(shop, "to_fund", amount, "prepaid_topup") for shop, amount in topups.items()]
    )
    rows = sorted(
        (i.party, i.direction, i.amount_rial, i.kind)
        for i in await instructions(session, period_id)
    )
    if rows != expected:
        problems.append(f"payment instructions: stored {rows}, recomputed {expected}")
    stored_positions = {p.party: p.position_rial for p in await positions(session, period_id)}
    if stored_positions != {
        k: v for k, v in result.positions.items() if k in stored_positions or v
    }:
        problems.append(f"positions: stored {stored_positions}, recomputed {result.positions}")
    return problems


async def _check_journal(session: AsyncSession, period_id: int) -> list[str]:
    """Balanced entries; every receivable and payable cleared; the positions and
    instructions are what the entries say."""
    balances: dict[str, int] = {}
    per_entry: dict[int, int] = {}
    earned: dict[str, int] = {}
    conn = await session.connection()
    journal = await conn.execute(
        select(
            SettlementLine.entry_id,
            SettlementLine.account,
            SettlementLine.amount_rial,
            SettlementEntry.kind,
        )
        .join(SettlementEntry, SettlementEntry.id == SettlementLine.entry_id)
        .where(SettlementEntry.period_id == period_id)
    )
    for entry_id, account, amount, kind in journal.all():
        per_entry[entry_id] = per_entry.get(entry_id, 0) + amount
        balances[account] = balances.get(account, 0) + amount
        if kind != "settlement":
            earned[account] = earned.get(account, 0) + amount
    problems = [f"journal entry {e} does not balance ({s})" for e, s in per_entry.items() if s]
    problems += [
        f"{account} is not cleared ({amount})"
        for account, amount in sorted(balances.items())
        if amount and account.endswith((":receivable", ":payable"))
    ]
    for p in await positions(session, period_id):
        if p.party == FUND:
            continue
        from_journal = earned.get(f"{p.party}:receivable", 0) + earned.get(f"{p.party}:payable", 0)
        if from_journal != p.position_rial:
            problems.append(f"{p.party}: position {p.position_rial}, journal says {from_journal}")
    paid = sum(
        (-1 if i.direction == "to_fund" else 1) * i.amount_rial
        for i in await instructions(session, period_id)
        if i.kind != "prepaid_topup"  # a request to pay in advance, not this period's dues
    )
    if balances.get("fund:payments", 0) != paid:
        problems.append(
            f"payments: journal {balances.get('fund:payments', 0)}, instructions {paid}"
        )
    return problems


def _normal(value: Any) -> Any:
    """Stored JSON and a fresh result compare equal when they say the same thing."""
    return json.loads(json.dumps(value, sort_keys=True))
