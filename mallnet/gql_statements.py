"""A settlement statement over GraphQL, as both schemas show it: mall finance and each
shop's node read it at the hub; shop staff read their own through their node, which asks
the hub and maps the answer back (``statement_from_json``) to render CSV and PDF locally.

Its fields are guarded by the union of the scopes that reach a statement in either schema:
the field returning the statement decides who may (a token is only ever valid at one of
them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from mallnet.authz import guard_fields
from mallnet.gql import Rial
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
    lines: list[SettlementStatementLine]
    payments: list[SettlementPayment]

    @classmethod
    def of(cls, s: Statement) -> SettlementStatement:
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
            lines=[
                SettlementStatementLine(
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
                for x in s.lines
            ],
            payments=[
                SettlementPayment(
                    payer=p.payer, payee=p.payee, amount_rial=Rial(p.amount_rial), kind=p.kind
                )
                for p in s.payments
            ],
        )


for part in (SettlementStatementLine, SettlementPayment, SettlementStatement):
    guard_fields(part, *READERS)


def _at(raw: str) -> dt.datetime:
    return dt.datetime.fromisoformat(raw)


def statement_from_json(data: dict[str, Any]) -> Statement:
    """A statement as the hub answered it (``federation.client.STATEMENT_FIELDS``)."""
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
    )
