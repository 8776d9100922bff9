"""A settlement statement over GraphQL, as both schemas show it: mall finance and each
shop's node read it at the hub; shop staff read their own through their node, which asks
the hub and maps the answer back (``statement_from_json``) to render CSV and PDF locally.

Its lines come a page at a time (``lines(first, offset)``, with ``lineCount``): the field
returning the statement reads the page its query asks for (``requested_window``) together
with the totals, which are always over every line; another window of the same statement in
the same query (an alias) is read on its own.

Its fields are guarded by the union of the scopes that reach a statement in either schema:
the field returning the statement decides who may (a token is only ever valid at one of
them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from mallnet.authz import guard_fields
from mallnet.gql import Rial
from mallnet.gql_limits import page_offset, page_size
from mallnet.scopes import Scope
from settlement.periods import jalali_moment
from settlement.statements import Payment, Statement, StatementLine

READERS = (
    Scope.MALL_SETTLEMENT,
    Scope.MALL_ADMIN,
    Scope.MALL_REPORTS,
    Scope.NODE_FEDERATE,
    Scope.SHOP_MANAGE,
    Scope.SHOP_READ,
)
LINES_FIRST = 50  # lines a page holds unless the query asks otherwise
LINES_MAX = 200  # the most one page may hold (a file of the statement reads these pages)

Window = tuple[int, int]  # (first, offset) of a page of lines
# Reads another page of the same statement's lines: (first, offset) -> the lines.
MoreLines = Callable[[int, int], Awaitable[Sequence[StatementLine]]]


@strawberry.type(description="One line of a statement, traceable to the capture and receipt.")
class SettlementStatementLine:
    kind: str = strawberry.field(
        description="redeemed_here, spent_elsewhere, campaign_share or breakage."
    )
    ref: str = strawberry.field(description="redemption:<id>, campaign:<id> or breakage:<shop>.")
    at: dt.datetime
    at_jalali: str
    receipt: str = strawberry.field(description="The purchase at the redeeming shop.")
    hold_id: str
    lot_id: str | None
    value_kind: str
    issuer: str
    redeemer: str
    gross_rial: Rial
    fee_rial: Rial
    net_rial: Rial = strawberry.field(description="+ the fund owes the shop, - the shop owes.")
    memo: str = strawberry.field(description="Why, for a correction.")


@strawberry.type(description="Money that moves for the period.")
class SettlementPayment:
    payer: str
    payee: str
    amount_rial: Rial
    kind: str = strawberry.field(description="settlement, sponsorship or prepaid_topup.")


@strawberry.type(description="A shop's settlement statement for a closed period.")
class SettlementStatement:
    period_id: int
    period_label: str = strawberry.field(description="Jalali, Tehran time.")
    starts_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime
    shop: str
    shop_name_fa: str
    shop_name_en: str
    funding: str = strawberry.field(description="postpaid or prepaid.")
    gross_receivable_rial: Rial = strawberry.field(description="Redeemed here, before fees.")
    fees_rial: Rial
    gross_payable_rial: Rial
    covered_by_prepayment_rial: Rial
    corrections_rial: Rial = strawberry.field(description="Corrections of earlier periods.")
    position_rial: Rial = strawberry.field(description="+ the fund owes the shop, - it owes.")
    digest: str = strawberry.field(description="SHA-256 of the period's closed result.")
    line_count: int = strawberry.field(description="How many lines the statement has in all.")
    payments: list[SettlementPayment]
    window: strawberry.Private[Window]
    page: strawberry.Private[Sequence[StatementLine]]
    more: strawberry.Private[MoreLines]

    @strawberry.field(
        description=f"A page of the lines: captures by id, then campaign shares, corrections "
        f"and breakage. first: 1-{LINES_MAX}; offset: lines skipped. The totals are over "
        "every line."
    )
    async def lines(
        self, first: int = LINES_FIRST, offset: int = 0
    ) -> list[SettlementStatementLine]:
        window = line_window(first, offset)
        page = self.page if window == self.window else await self.more(*window)
        return [_line(x) for x in page]

    @classmethod
    def of(cls, s: Statement, window: Window, more: MoreLines) -> SettlementStatement:
        """``s`` holding the lines of ``window`` (read together with it)."""
        return cls(
            period_id=s.period_id,
            period_label=s.period_label,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            closed_at=s.closed_at,
            shop=s.shop,
            shop_name_fa=s.shop_name_fa,
            shop_name_en=s.shop_name_en,
            funding=s.funding,
            gross_receivable_rial=Rial(s.gross_receivable_rial),
            fees_rial=Rial(s.fees_rial),
            gross_payable_rial=Rial(s.gross_payable_rial),
            covered_by_prepayment_rial=Rial(s.covered_by_prepayment_rial),
            corrections_rial=Rial(s.corrections_rial),
            position_rial=Rial(s.position_rial),
            digest=s.digest,
            line_count=len(s.lines) if s.line_count is None else s.line_count,
            payments=[
                SettlementPayment(
                    payer=p.payer, payee=p.payee, amount_rial=Rial(p.amount_rial), kind=p.kind
                )
                for p in s.payments
            ],
            window=window,
            page=s.lines,
            more=more,
        )


def _line(x: StatementLine) -> SettlementStatementLine:
    return SettlementStatementLine(
        kind=x.kind,
        ref=x.ref,
        at=x.at,
        at_jalali=jalali_moment(x.at),
        receipt=x.receipt,
        hold_id=x.hold_id,
        lot_id=None if x.lot_id is None else str(x.lot_id),
        value_kind=x.value_kind,
        issuer=x.issuer,
        redeemer=x.redeemer,
        gross_rial=Rial(x.gross_rial),
        fee_rial=Rial(x.fee_rial),
        net_rial=Rial(x.net_rial),
        memo=x.memo,
    )


def line_window(first: int = LINES_FIRST, offset: int = 0) -> Window:
    """A page of lines asked for: ``first`` above ``LINES_MAX`` or a negative ``offset`` is
    refused (a GraphQL error with its code)."""
    return page_size(first, LINES_MAX), page_offset(offset)


def requested_window(info: strawberry.Info) -> Window:
    """The page of lines the query asks of the statement this field returns (the first
    ``lines`` it selects; the default page when it selects none), checked as ``lines``
    checks it: the resolver reads that page with the statement, in one go."""
    for field in _lines_selected(info.selected_fields[0].selections):
        asked = {k: v for k, v in field.arguments.items() if v is not None}
        # A literal in the document comes as its text, a variable as its value.
        return line_window(int(asked.get("first", LINES_FIRST)), int(asked.get("offset", 0)))
    return line_window()


def _lines_selected(selections: list[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == "lines":
                yield selection
        elif isinstance(selection, (InlineFragment, FragmentSpread)) and (
            selection.type_condition in (None, "SettlementStatement")
        ):
            yield from _lines_selected(selection.selections)


for part in (SettlementStatementLine, SettlementPayment, SettlementStatement):
    guard_fields(part, *READERS)


def _at(raw: str) -> dt.datetime:
    return dt.datetime.fromisoformat(raw)


def statement_from_json(data: dict[str, Any]) -> Statement:
    """A statement as the hub answered it (``federation.client.STATEMENT_FIELDS``): the
    lines it sent (a page, or all of them gathered) and how many there are in all."""
    return Statement(
        period_id=int(data["periodId"]),
        period_label=data["periodLabel"],
        starts_at=_at(data["startsAt"]),
        ends_at=_at(data["endsAt"]),
        closed_at=_at(data["closedAt"]),
        shop=data["shop"],
        shop_name_fa=data["shopNameFa"],
        shop_name_en=data["shopNameEn"],
        funding=data["funding"],
        gross_receivable_rial=int(data["grossReceivableRial"]),
        fees_rial=int(data["feesRial"]),
        gross_payable_rial=int(data["grossPayableRial"]),
        covered_by_prepayment_rial=int(data["coveredByPrepaymentRial"]),
        corrections_rial=int(data["correctionsRial"]),
        position_rial=int(data["positionRial"]),
        digest=data["digest"],
        lines=[
            StatementLine(
                kind=x["kind"],
                ref=x["ref"],
                at=_at(x["at"]),
                receipt=x["receipt"],
                hold_id=x["holdId"],
                lot_id=None if x["lotId"] is None else int(x["lotId"]),
                value_kind=x["valueKind"],
                issuer=x["issuer"],
                redeemer=x["redeemer"],
                gross_rial=int(x["grossRial"]),
                fee_rial=int(x["feeRial"]),
                net_rial=int(x["netRial"]),
                memo=x["memo"],
            )
            for x in data["lines"]
        ],
        payments=[
            Payment(p["payer"], p["payee"], int(p["amountRial"]), p["kind"])
            for p in data["payments"]
        ],
        line_count=int(data["lineCount"]),
    )
