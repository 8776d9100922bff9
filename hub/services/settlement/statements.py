"""What a closed period says to each reader: a shop's statement (every line that makes
its position, a page at a time), the journal, positions and payment instructions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    SettlementEntry,
    SettlementInstruction,
    SettlementItem,
    SettlementLine,
    SettlementPeriod,
    SettlementPosition,
    Shop,
    ValueHold,
    ValueRedemption,
)
from hub.domain.problems import ProblemCode
from hub.services.settlement.calendar import get_period
from hub.services.settlement.corrections import booked
from hub.services.settlement_policy import SettlementError
from settlement.clearing import FUND
from settlement.periods import jalali_label
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


async def statement(
    session: AsyncSession,
    period_id: int,
    shop: str,
    first: int | None = None,
    offset: int = 0,
) -> Statement:
    """A shop's statement of a closed period: the captures between it and other shops,
    its campaign shares, corrections and expired value, and what it pays or is paid.

    With ``first``, ``lines`` holds only that page (``first`` lines after ``offset``) of
    the lines in their order: captures by id, then the aggregate lines. The totals and
    ``line_count`` are always over every line: the database sums and counts the captures
    (a statement can have many), and pages them with LIMIT/OFFSET."""
    if offset < 0:
        raise SettlementError(ProblemCode.INVALID_INPUT, "offset must be 0 or more", "offset")
    if first is not None and first < 1:
        raise SettlementError(ProblemCode.INVALID_INPUT, "first must be 1 or more", "first")
    period = await get_period(session, period_id)
    if period.status != "closed" or period.result is None or period.closed_at is None:
        raise SettlementError(
            ProblemCode.PERIOD_OPEN, f"period {period_id} is not closed yet", "periodId"
        )
    names = await session.scalar(select(Shop).where(Shop.slug == shop))
    if names is None:
        raise SettlementError(ProblemCode.NOT_FOUND, f"no shop {shop!r}", "shop")
    position = await session.get(SettlementPosition, (period_id, shop))
    captures = await _capture_totals(session, period_id, shop)
    aggregates = await _aggregate_lines(session, period, shop, position)
    return Statement(
        period_id=period.id,
        period_label=jalali_label(period.starts_at, period.ends_at),
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        closed_at=period.closed_at,
        shop=shop,
        shop_name_fa=names.name_fa,
        shop_name_en=names.name_en,
        funding=period.result["funding"],
        gross_receivable_rial=captures.receivable_rial,
        fees_rial=captures.fees_rial,
        # What the shop owes: its value spent elsewhere, campaign shares and breakage.
        gross_payable_rial=captures.spent_elsewhere_rial
        - sum(x.net_rial for x in aggregates if x.kind != CORRECTION),
        corrections_rial=sum(x.net_rial for x in aggregates if x.kind == CORRECTION),
        position_rial=0 if position is None else position.position_rial,
        covered_by_prepayment_rial=0 if position is None else position.covered_rial,
        lines=await _page(session, period_id, shop, captures.count, aggregates, first, offset),
        payments=await _payments(session, period_id, shop),
        digest=period.digest or "",
        line_count=captures.count + len(aggregates),
    )


@dataclass(frozen=True)
class _CaptureTotals:
    count: int
    receivable_rial: int  # gross of the captures redeemed at the shop
    fees_rial: int  # the fund's fees on them
    spent_elsewhere_rial: int  # gross of the shop's value spent at other shops


def _captures(shop: str, period_id: int, *columns: Any) -> Select[Any]:
    """The settled captures between the shop and another (a line each), whatever is
    selected of them: the lines and their totals read the same rows."""
    r, item, hold = ValueRedemption, SettlementItem, ValueHold
    return (
        select(*columns)
        .select_from(item)
        .join(r, r.id == item.redemption_id)
        .join(hold, hold.id == r.hold_id)
        .where(
            item.period_id == period_id,
            (item.creditor == shop) | (item.debtor == shop),
            item.debtor != item.creditor,
        )
    )


async def _capture_totals(session: AsyncSession, period_id: int, shop: str) -> _CaptureTotals:
    item = SettlementItem
    here = item.creditor == shop

    def total(column: Any) -> Any:
        return func.coalesce(func.sum(column), 0)

    row = (
        await session.execute(
            _captures(
                shop,
                period_id,
                func.count(),
                total(case((here, item.gross_rial), else_=0)),
                total(case((here, item.fee_rial), else_=0)),
                total(case((here, 0), else_=item.gross_rial)),
            )
        )
    ).one()
    # PostgreSQL sums bigints as numeric: back to int.
    return _CaptureTotals(*(int(x) for x in row))


async def _page(
    session: AsyncSession,
    period_id: int,
    shop: str,
    captures: int,
    aggregates: list[StatementLine],
    first: int | None,
    offset: int,
) -> list[StatementLine]:
    """The lines ``offset`` to ``offset + first`` (all from ``offset`` without ``first``):
    captures first, by redemption id, then the aggregate lines."""
    lines: list[StatementLine] = []
    if offset < captures:
        lines = await _capture_lines(session, period_id, shop, first, offset)
    start = max(0, offset - captures)
    room = None if first is None else first - len(lines)
    return lines + aggregates[start : None if room is None else start + room]


async def _capture_lines(
    session: AsyncSession, period_id: int, shop: str, first: int | None, offset: int
) -> list[StatementLine]:
    """Value spent at the shop (it is paid, less the fee) or spent elsewhere (it pays)."""
    r, item, hold = ValueRedemption, SettlementItem, ValueHold
    query = _captures(
        shop,
        period_id,
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
    ).order_by(item.redemption_id)  # the primary key: a stable order to page by
    rows = await session.execute(query.limit(first).offset(offset))
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
    return lines


async def _aggregate_lines(
    session: AsyncSession,
    period: SettlementPeriod,
    shop: str,
    position: SettlementPosition | None,
) -> list[StatementLine]:
    """One line per campaign share, correction and the shop's expired value."""
    assert period.result is not None
    lines: list[StatementLine] = []
    for campaign, shares in sorted(period.result["campaign_shares"].items()):
        if shop in shares:
            share = int(shares[shop])
            lines.append(_aggregate_line(CAMPAIGN_SHARE, campaign, period, campaign, -share))
    for c in await booked(session, period.id):
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
    return lines


async def _payments(session: AsyncSession, period_id: int, shop: str) -> list[Payment]:
    return [
        Payment(
            payer=i.party if i.direction == "to_fund" else FUND,
            payee=FUND if i.direction == "to_fund" else i.party,
            amount_rial=i.amount_rial,
            kind=i.kind,
        )
        for i in await instructions(session, period_id)
        if i.party == shop
    ]


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
