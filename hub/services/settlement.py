"""Settlement at the hub: periods, closing them, statements and the audit.

The hub feeds the pure engine (``settlement``) with what the network-value ledger recorded:
every capture and refund line (``value_redemptions``) and every expiry of value. A period
closes in one database transaction — its captures are settled (each exactly once: the
primary key of ``settlement_items``), its journal, positions and payment instructions are
written, the period is frozen and the next one opened — so a crash mid-close leaves nothing
behind, and closing a closed period again answers with what it produced the first time.
A capture that commits after a period closed is settled by the next one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hub.db.models import (
    SettlementBreakage,
    SettlementCorrection,
    SettlementEntry,
    SettlementInstruction,
    SettlementItem,
    SettlementLine,
    SettlementPending,
    SettlementPeriod,
    SettlementPolicyVersion,
    SettlementPosition,
    Shop,
    ValueHold,
    ValueLot,
    ValuePosting,
    ValueRedemption,
    ValueTransaction,
)
from hub.services import campaigns, prepaid, sales, settlement_policy
from hub.services.settlement_policy import SettlementError
from mallnet.db import copy_rows, utcnow
from mallnet.digest import request_digest
from settlement.clearing import FUND, Clearing, PeriodResult, Redemption
from settlement.periods import jalali_label, period_end
from settlement.policy import CostSharing, SettlementPolicy
from settlement.statements import (
    BREAKAGE,
    CAMPAIGN_SHARE,
    CORRECTION,
    REDEEMED_HERE,
    SPENT_ELSEWHERE,
    Payment,
    Statement,
    StatementLine,
)

ITEMS: Table = SettlementItem.__table__  # type: ignore[assignment]
LINES: Table = SettlementLine.__table__  # type: ignore[assignment]
ENTRIES: Table = SettlementEntry.__table__  # type: ignore[assignment]
BREAKAGE_ROWS: Table = SettlementBreakage.__table__  # type: ignore[assignment]
PAGE = 20_000  # captures read and written per round trip while closing
MAX_CLOSES_PER_SWEEP = 400  # a hub down for a year of daily periods catches up in one sweep


# --- Periods --------------------------------------------------------------------------------


async def open_period(session: AsyncSession, now: dt.datetime | None = None) -> SettlementPeriod:
    """The period value is settling into now (created on first use: from the end of the
    last closed one, or from the start of today in Tehran)."""
    now = now or utcnow()
    row = await session.scalar(
        select(SettlementPeriod)
        .where(SettlementPeriod.status == "open")
        .order_by(SettlementPeriod.starts_at)
        .limit(1)
    )
    if row is not None:
        return row
    _version, policy = await settlement_policy.current(session)
    last_end = await session.scalar(
        select(SettlementPeriod.ends_at).order_by(SettlementPeriod.ends_at.desc()).limit(1)
    )
    if last_end is None:
        first = await session.scalar(
            select(ValueRedemption.created_at).order_by(ValueRedemption.id).limit(1)
        )
        start = day_start(min(now, first) if first is not None else now)
    else:
        start = last_end
    row = SettlementPeriod(
        starts_at=start,
        ends_at=period_end(policy.period, start),
        length=policy.period,
        status="open",
        captures=0,
    )
    session.add(row)
    await session.flush()
    return row


def day_start(at: dt.datetime) -> dt.datetime:
    """Midnight in Tehran at or before ``at`` (as UTC)."""
    return period_end("daily", at) - dt.timedelta(days=1)


async def periods(session: AsyncSession, limit: int = 50) -> list[SettlementPeriod]:
    rows = await session.scalars(
        select(SettlementPeriod).order_by(SettlementPeriod.starts_at.desc()).limit(limit)
    )
    return list(rows.all())


async def get_period(session: AsyncSession, period_id: int) -> SettlementPeriod:
    row = await session.get(SettlementPeriod, period_id)
    if row is None:
        raise SettlementError("NOT_FOUND", f"no settlement period {period_id}", "periodId")
    return row


async def cut(
    session: AsyncSession, actor: str, now: dt.datetime | None = None
) -> SettlementPeriod:
    """Mall management closes the open period early: it ends now, and value spent from now
    on settles in the next period. The close itself follows (``close``)."""
    now = now or utcnow()
    row = await open_period(session, now)
    locked = await session.get(
        SettlementPeriod, row.id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    if locked.status == "open" and locked.ends_at > now:
        if now <= locked.starts_at:
            raise SettlementError("NOTHING_TO_CLOSE", "the open period has only just started")
        locked.ends_at, locked.cut_by = now, actor
        await session.flush()
    return locked


# --- Closing --------------------------------------------------------------------------------


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
        raise SettlementError("NOT_FOUND", f"no settlement period {period_id}", "periodId")
    if period.status == "closed":
        return Closed(period, True)
    if period.ends_at > now:
        raise SettlementError(
            "PERIOD_NOT_ENDED",
            f"period {period_id} ends at {period.ends_at.isoformat()}; cut it to close it now",
            "periodId",
        )
    version, declared = await settlement_policy.current(session)
    rules = await campaigns.cost_rules(session, declared)
    policy = _with_rules(declared, rules)
    clearing = Clearing(policy)
    await _settle_captures(session, period, clearing)
    await _count_breakage(session, period, clearing)
    corrections = await _count_corrections(session, period, clearing)
    needs_sales = any(c.rule == "sales_share" for c in policy.cost_sharing)
    weights = await sales.between(session, period.starts_at, period.ends_at) if needs_sales else {}
    result = clearing.result(weights)
    await _write_result(session, period, result, now, corrections)
    topups = await _prepayments(session, period, result)
    summary = _summary(result, clearing.count, version, weights) | {
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


LineRow = tuple[Any, ...]  # id, issuer, redeemer, amount, hold, lot, lot paid in advance, …


async def _lines(
    conn: AsyncConnection, clearing: Clearing, *, ends_at: dt.datetime | None, period_id: int | None
) -> AsyncIterator[tuple[Redemption, LineRow]]:
    """Capture and refund lines in the order they were written, page by page, as the
    engine's input: those waiting in the settlement outbox that happened before
    ``ends_at`` (closing), or those ``period_id`` settled,
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


async def _settle_captures(
    session: AsyncSession, period: SettlementPeriod, clearing: Clearing
) -> None:
    """Every capture and refund line waiting that happened before the period's end (those
    that committed late included)."""
    conn = await session.connection()
    rows: list[tuple[Any, ...]] = []
    async for line, _row in _lines(conn, clearing, ends_at=period.ends_at, period_id=None):
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


def _expiries() -> Any:
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


async def _count_breakage(
    session: AsyncSession, period: SettlementPeriod, clearing: Clearing
) -> None:
    t, pending = ValueTransaction, SettlementPending
    conn = await session.connection()
    rows = (
        await conn.execute(
            _expiries()
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
    conn = await session.connection()
    # One entry per pair of shops: thousands in a large period, written in bulk.
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


def _summary(
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


def _with_rules(policy: SettlementPolicy, rules: Sequence[CostSharing]) -> SettlementPolicy:
    """The policy with the campaigns' own cost rules beside the declared ones."""
    return policy.model_copy(update={"cost_sharing": [*policy.cost_sharing, *rules]})


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


MAX_CORRECTION_RIAL = 10**15


@dataclass(frozen=True)
class CorrectionInput:
    party: str  # a shop's slug, or "mall"
    amount_rial: int  # + the fund owes the party more; - the party owes the fund more
    reason: str
    idempotency_key: str
    corrects_entry_id: int | None = None


async def post_correction(
    session: AsyncSession, data: CorrectionInput, actor: str
) -> tuple[SettlementCorrection, bool]:
    """Record a correction for the next close to book (a closed period is never edited).
    Idempotent on the key: the same request again is answered with the first; another
    request under the same key is a conflict. Returns (the correction, replayed)."""
    digest = request_digest(
        {
            "party": data.party,
            "amount": data.amount_rial,
            "reason": data.reason,
            "corrects": data.corrects_entry_id,
        }
    )
    seen = await session.scalar(
        select(SettlementCorrection).where(
            SettlementCorrection.idempotency_key == data.idempotency_key
        )
    )
    if seen is not None:
        if seen.request_hash != digest:
            raise SettlementError(
                "IDEMPOTENCY_CONFLICT", "this key was used for another correction", "idempotencyKey"
            )
        return seen, True
    if not 1 <= len(data.idempotency_key) <= 120:
        raise SettlementError("INVALID_INPUT", "1 to 120 characters", "idempotencyKey")
    if not data.reason.strip() or len(data.reason) > 300:
        raise SettlementError("INVALID_INPUT", "say why, in at most 300 characters", "reason")
    amount = data.amount_rial
    if isinstance(amount, bool) or amount == 0 or abs(amount) > MAX_CORRECTION_RIAL:
        raise SettlementError("INVALID_INPUT", "a non-zero amount in Rial", "amountRial")
    if data.party != "mall" and (
        await session.scalar(select(Shop.id).where(Shop.slug == data.party)) is None
    ):
        raise SettlementError("NOT_FOUND", f"no shop {data.party!r}", "party")
    if data.corrects_entry_id is not None and (
        await session.get(SettlementEntry, data.corrects_entry_id) is None
    ):
        raise SettlementError(
            "NOT_FOUND", f"no journal entry {data.corrects_entry_id}", "correctsEntryId"
        )
    row = SettlementCorrection(
        party=data.party,
        amount_rial=amount,
        reason=data.reason.strip(),
        corrects_entry_id=data.corrects_entry_id,
        idempotency_key=data.idempotency_key,
        request_hash=digest,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row, False


async def journal(
    session: AsyncSession, period_id: int
) -> list[tuple[SettlementEntry, list[SettlementLine]]]:
    """A closed period's journal: its entries and their lines."""
    entries = (
        await session.scalars(
            select(SettlementEntry)
            .where(SettlementEntry.period_id == period_id)
            .order_by(SettlementEntry.id)
        )
    ).all()
    lines = (
        await session.scalars(
            select(SettlementLine)
            .join(SettlementEntry, SettlementEntry.id == SettlementLine.entry_id)
            .where(SettlementEntry.period_id == period_id)
            .order_by(SettlementLine.id)
        )
    ).all()
    by_entry: dict[int, list[SettlementLine]] = defaultdict(list)
    for line in lines:
        by_entry[line.entry_id].append(line)
    return [(entry, by_entry[entry.id]) for entry in entries]


async def _booked_corrections(session: AsyncSession, period_id: int) -> list[SettlementCorrection]:
    rows = await session.scalars(
        select(SettlementCorrection)
        .join(SettlementEntry, SettlementEntry.correction_id == SettlementCorrection.id)
        .where(SettlementEntry.period_id == period_id)
        .order_by(SettlementCorrection.id)
    )
    return list(rows.all())


# --- Statements -----------------------------------------------------------------------------


async def statement(session: AsyncSession, period_id: int, shop: str) -> Statement:
    period = await get_period(session, period_id)
    if period.status != "closed" or period.result is None or period.closed_at is None:
        raise SettlementError("PERIOD_OPEN", f"period {period_id} is not closed yet", "periodId")
    names = await session.scalar(select(Shop).where(Shop.slug == shop))
    if names is None:
        raise SettlementError("NOT_FOUND", f"no shop {shop!r}", "shop")
    position = await session.get(SettlementPosition, (period_id, shop))
    r, item, hold = ValueRedemption, SettlementItem, ValueHold
    rows = await session.execute(
        select(
            item.redemption_id,
            item.debtor,
            item.creditor,
            item.gross_rial,
            item.fee_rial,
            r.created_at,
            r.hold_id,
            r.lot_id,
            r.kind,
            hold.purchase_ref,
        )
        .join(r, r.id == item.redemption_id)
        .join(hold, hold.id == r.hold_id)
        .where(
            item.period_id == period_id,
            (item.creditor == shop) | (item.debtor == shop),
            item.debtor != item.creditor,
        )
        .order_by(item.redemption_id)
    )
    lines: list[StatementLine] = []
    for rid, debtor, creditor, gross, fee, at, hold_id, lot_id, kind, receipt in rows.all():
        here = creditor == shop
        lines.append(
            StatementLine(
                kind=REDEEMED_HERE if here else SPENT_ELSEWHERE,
                ref=f"redemption:{rid}",
                at=at,
                receipt=receipt,
                hold_id=hold_id,
                lot_id=lot_id,
                value_kind=kind,
                issuer=debtor,
                redeemer=creditor,
                gross_rial=gross if here else -gross,
                fee_rial=fee if here else 0,
                net_rial=gross - fee if here else -gross,
            )
        )
    summary = period.result
    for campaign, shares in sorted(summary["campaign_shares"].items()):
        if shop in shares:
            share = int(shares[shop])
            lines.append(_aggregate_line(CAMPAIGN_SHARE, campaign, period, campaign, -share))
    for c in await _booked_corrections(session, period_id):
        if c.party == shop:
            lines.append(
                _aggregate_line(
                    CORRECTION, f"correction:{c.id}", period, shop, c.amount_rial, c.reason
                )
            )
    if position is not None and position.breakage_rial:
        lines.append(
            _aggregate_line(BREAKAGE, f"breakage:{shop}", period, shop, -position.breakage_rial)
        )
    payments = [
        Payment(
            payer=i.party if i.direction == "to_fund" else FUND,
            payee=FUND if i.direction == "to_fund" else i.party,
            amount_rial=i.amount_rial,
            kind=i.kind,
        )
        for i in await instructions(session, period_id)
        if i.party == shop
    ]
    redeemed = [x for x in lines if x.kind == REDEEMED_HERE]
    return Statement(
        period_id=period.id,
        period_label=jalali_label(period.starts_at, period.ends_at),
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        closed_at=period.closed_at,
        shop=shop,
        shop_name_fa=names.name_fa,
        shop_name_en=names.name_en,
        funding=summary["funding"],
        gross_receivable_rial=sum(x.gross_rial for x in redeemed),
        fees_rial=sum(x.fee_rial for x in redeemed),
        gross_payable_rial=-sum(
            x.net_rial for x in lines if x.kind not in (REDEEMED_HERE, CORRECTION)
        ),
        corrections_rial=sum(x.net_rial for x in lines if x.kind == CORRECTION),
        position_rial=0 if position is None else position.position_rial,
        covered_by_prepayment_rial=0 if position is None else position.covered_rial,
        lines=lines,
        payments=payments,
        digest=period.digest or "",
    )


def _aggregate_line(
    kind: str, ref: str, period: SettlementPeriod, issuer: str, amount: int, memo: str = ""
) -> StatementLine:
    return StatementLine(
        kind=kind,
        ref=ref,
        at=period.ends_at,
        receipt="",
        hold_id="",
        lot_id=None,
        value_kind="",
        issuer=issuer,
        redeemer="",
        gross_rial=amount,
        fee_rial=0,
        net_rial=amount,
        memo=memo,
    )


async def instructions(session: AsyncSession, period_id: int) -> list[SettlementInstruction]:
    rows = await session.scalars(
        select(SettlementInstruction)
        .where(SettlementInstruction.period_id == period_id)
        .order_by(SettlementInstruction.id)
    )
    return list(rows.all())


async def positions(session: AsyncSession, period_id: int) -> list[SettlementPosition]:
    rows = await session.scalars(
        select(SettlementPosition)
        .where(SettlementPosition.period_id == period_id)
        .order_by(SettlementPosition.party)
    )
    return list(rows.all())


# --- Audit ----------------------------------------------------------------------------------


async def verify(session: AsyncSession, period_id: int) -> list[str]:
    """Recompute a closed period twice — from the captures it settled and from its journal
    — and list every difference from what was stored (empty: all agree)."""
    period = await get_period(session, period_id)
    if period.status != "closed" or period.result is None:
        return [f"period {period_id} is not closed"]
    problems: list[str] = []
    stored = period.result
    policy_row = await session.get(SettlementPolicyVersion, period.policy_version or 0)
    policy = _with_rules(
        SettlementPolicy()
        if policy_row is None
        else SettlementPolicy.model_validate(policy_row.document),
        # The campaigns' rules as the close found them (shops may join campaigns later).
        [CostSharing.model_validate(r) for r in stored.get("campaign_rules", [])],
    )
    # 1. From the captures: the value ledger's own lines, settled again.
    clearing = Clearing(policy)
    conn = await session.connection()
    async for line, row in _lines(conn, clearing, ends_at=None, period_id=period_id):
        o = clearing.add(line)
        gross, fee, rate, covered = row[7:11]
        if (o.gross_rial, o.fee_rial, line.fee_bp, line.covered) != (gross, fee, rate, covered):
            now_is = f"{o.gross_rial}/{o.fee_rial} at {line.fee_bp} bp"
            problems.append(
                f"{line.ref}: settled as {gross}/{fee} at {rate} bp, recomputed {now_is}"
            )
    for c in await _booked_corrections(session, period_id):
        clearing.add_correction(f"correction:{c.id}", c.party, c.amount_rial)
    expired = await conn.execute(
        _expiries()
        .add_columns(SettlementBreakage.amount_rial)
        .join(SettlementBreakage, SettlementBreakage.transaction_id == ValueTransaction.id)
        .where(SettlementBreakage.period_id == period_id)
    )
    for _tid, issuer, worth, covered, counted in expired.all():
        if worth != counted:
            problems.append(f"breakage of {issuer}: counted {counted}, ledger says {worth}")
        clearing.add_breakage(issuer or "", worth, bool(covered))
    weights = stored.get("sales_rial") or {}
    if any(c.rule == "sales_share" for c in policy.cost_sharing):
        weights = await sales.between(session, period.starts_at, period.ends_at)
    result = clearing.result(weights)
    again = _summary(result, clearing.count, period.policy_version or 0, weights)
    again["prepaid_topups"] = stored.get("prepaid_topups", {})  # the balances then, not now
    again["campaign_rules"] = stored.get("campaign_rules", [])
    for key in sorted(set(again) | set(stored)):
        if _normal(again.get(key)) != _normal(stored.get(key)):
            problems.append(f"{key}: stored {stored.get(key)!r}, recomputed {again.get(key)!r}")
    if digest_of(stored) != period.digest:
        problems.append("the stored result does not match its digest")
    # The rows mall finance pays from and shops read say what was recomputed.
    expected = sorted(
        [(i.shop, i.direction, i.amount_rial, i.kind) for i in result.instructions]
        + [
            (shop, "to_fund", amount, "prepaid_topup")
            for shop, amount in again["prepaid_topups"].items()
        ]
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
    # 2. From the journal: balanced entries; every receivable and payable cleared; the
    #    positions and instructions are what the entries say.
    balances: dict[str, int] = {}
    per_entry: dict[int, int] = {}
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
    earned: dict[str, int] = {}
    for entry_id, account, amount, kind in journal.all():
        per_entry[entry_id] = per_entry.get(entry_id, 0) + amount
        balances[account] = balances.get(account, 0) + amount
        if kind != "settlement":
            earned[account] = earned.get(account, 0) + amount
    problems += [f"journal entry {e} does not balance ({s})" for e, s in per_entry.items() if s]
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
