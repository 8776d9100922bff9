"""A shop's statement for a closed period: every line traceable to the capture, the lot,
the issuing and redeeming shops and the receipt; totals; what moves as money.

Amounts are from the shop's point of view: positive = the fund owes the shop, negative =
the shop owes the fund. The lines add up to the position, and the position is what the
payment instructions move (or, under prepaid funding, what the prepayment covered).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# What a line is, for the shop reading it.
REDEEMED_HERE = "redeemed_here"  # another shop's value spent here: the fund owes us
SPENT_ELSEWHERE = "spent_elsewhere"  # our value spent at another shop: we owe the fund
CAMPAIGN_SHARE = "campaign_share"  # our share of a joint campaign's cost
BREAKAGE = "breakage"  # our expired value owed to the fund (postpaid, fund keeps breakage)
CORRECTION = "correction"  # mall finance corrected an earlier period (the memo says why)
LINE_KINDS = (REDEEMED_HERE, SPENT_ELSEWHERE, CAMPAIGN_SHARE, BREAKAGE, CORRECTION)


@dataclass(frozen=True)
class StatementLine:
    kind: str  # one of LINE_KINDS
    ref: str  # the settlement input it came from, e.g. "redemption:42" or "campaign:yalda"
    at: dt.datetime  # when the capture (or refund, or expiry) happened, UTC
    receipt: str  # the purchase at the redeeming shop ("" for breakage)
    hold_id: str
    lot_id: int | None
    value_kind: str  # pooled_points | general_credit | targeted_credit | "" (aggregates)
    issuer: str
    redeemer: str
    gross_rial: int  # signed, the shop's view
    fee_rial: int  # kept by the fund (only on lines where the shop receives)
    net_rial: int  # gross - fee: what the line adds to the position
    memo: str = ""  # why, for a correction


@dataclass(frozen=True)
class Payment:
    """Money that moves when the period closes."""

    payer: str  # a shop slug, "fund" or "mall"
    payee: str
    amount_rial: int
    kind: str  # "settlement" | "prepaid_topup" | "sponsorship"


@dataclass(frozen=True)
class Statement:
    period_id: int
    period_label: str  # Jalali, e.g. "1405/09/10 – 1405/09/11"
    starts_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime
    shop: str
    shop_name_fa: str
    shop_name_en: str
    funding: str  # "postpaid" | "prepaid"
    gross_receivable_rial: int  # redeemed here, before fees
    fees_rial: int  # fees the fund kept from what we receive
    gross_payable_rial: int  # our value spent elsewhere + campaign shares + breakage
    position_rial: int  # + the fund owes us, - we owe the fund (net of everything)
    covered_by_prepayment_rial: int  # prepaid funding: payable already paid for
    lines: list[StatementLine] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    digest: str = ""  # SHA-256 of the period's stored result, for audit
    corrections_rial: int = 0  # corrections of earlier periods booked here (+ owed to us)
    # How many lines the whole statement has when ``lines`` holds one page of them (a
    # statement read a page at a time); None: ``lines`` holds them all.
    line_count: int | None = None

    @property
    def complete(self) -> bool:
        """Whether ``lines`` holds every line (what a file of the statement needs)."""
        return self.line_count is None or self.line_count == len(self.lines)

    @property
    def lines_total_rial(self) -> int:
        """The sum of the lines held (of every line when ``complete``)."""
        return sum(line.net_rial for line in self.lines)
