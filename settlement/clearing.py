"""Clearing a period between shops through the shared fund: pure, no database.

When value issued by shop A is spent at shop B, B gave goods for A's promise: A owes B.
Each such redemption (a capture, or a refund's negative line) becomes an obligation at the
agreement's settlement rate (face value, or face less a fee in basis points kept by the
fund; the redeemer's share rounds down, the fee takes the remainder). Every shop then has
one multilateral net position against the fund — what it receives, or pays — and the
positions of a period always sum to zero. The journal records the same thing as balanced
double entries, so the statements, the payment instructions and the journal can be
recomputed from the redemptions and compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FUND = "fund"
FEES = "fees"


@dataclass(frozen=True)
class Redemption:
    """One settlement input line: value issued by ``issuer`` spent at ``redeemer``."""

    ref: str  # traceable to the capture: e.g. "redemption:<id>"
    issuer: str
    redeemer: str
    amount_rial: int  # negative for a refund's reversal
    fee_bp: int = 0


@dataclass(frozen=True)
class Obligation:
    ref: str
    debtor: str  # the issuer
    creditor: str  # the redeemer
    gross_rial: int
    fee_rial: int

    @property
    def net_rial(self) -> int:
        return self.gross_rial - self.fee_rial


def settle_amount(amount_rial: int, fee_bp: int) -> tuple[int, int]:
    """(to the redeemer, fee) for a redemption: the redeemer's share rounds toward zero,
    the fee is the rest, so the two always add up to the amount (refunds mirror captures)."""
    if not 0 <= fee_bp <= 10_000:
        raise ValueError("fee_bp must be between 0 and 10,000")
    sign = -1 if amount_rial < 0 else 1
    redeemer = sign * (abs(amount_rial) * (10_000 - fee_bp) // 10_000)
    return redeemer, amount_rial - redeemer


def obligations(redemptions: Iterable[Redemption]) -> list[Obligation]:
    """A shop spending its own value owes nobody: those lines settle to nothing."""
    out = []
    for r in redemptions:
        if r.issuer == r.redeemer or r.amount_rial == 0:
            continue
        _redeemer_share, fee = settle_amount(r.amount_rial, r.fee_bp)
        out.append(Obligation(r.ref, r.issuer, r.redeemer, r.amount_rial, fee))
    return out


@dataclass(frozen=True)
class Line:
    account: str
    amount_rial: int  # debit positive, credit negative


@dataclass(frozen=True)
class Entry:
    ref: str
    lines: tuple[Line, ...]

    def balanced(self) -> bool:
        return sum(line.amount_rial for line in self.lines) == 0


def payable(shop: str) -> str:
    return f"shop:{shop}:payable"


def receivable(shop: str) -> str:
    return f"shop:{shop}:receivable"


def journal(items: Sequence[Obligation]) -> list[Entry]:
    """Per obligation: the issuer's payable to the fund grows by the gross amount, the
    redeemer's receivable from the fund by its share, the fee account by the rest."""
    entries = []
    for o in items:
        entry = Entry(
            o.ref,
            (
                Line(receivable(o.creditor), o.net_rial),
                Line(FEES, o.fee_rial),
                Line(payable(o.debtor), -o.gross_rial),
            ),
        )
        if not entry.balanced():
            raise AssertionError(f"unbalanced entry for {o.ref}")
        entries.append(entry)
    return entries


@dataclass(frozen=True)
class Instruction:
    shop: str
    direction: str  # "to_fund" or "from_fund"
    amount_rial: int


@dataclass
class PeriodResult:
    obligations: list[Obligation]
    entries: list[Entry]
    gross_payable: dict[str, int] = field(default_factory=dict)
    gross_receivable: dict[str, int] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)  # + receives, - pays
    fees_rial: int = 0
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def netted_rial(self) -> int:
        """What netting saved: gross obligations not moved as money."""
        gross = sum(self.gross_payable.values())
        return gross - sum(i.amount_rial for i in self.instructions if i.direction == "to_fund")


def clear(redemptions: Iterable[Redemption]) -> PeriodResult:
    """Clear a period: obligations, journal, gross and net positions, payment instructions.
    The fund receives from the net payers what it pays the net receivers plus the fees."""
    items = obligations(redemptions)
    result = PeriodResult(items, journal(items))
    pays: dict[str, int] = defaultdict(int)
    gets: dict[str, int] = defaultdict(int)
    for o in items:
        pays[o.debtor] += o.gross_rial
        gets[o.creditor] += o.net_rial
        result.fees_rial += o.fee_rial
    result.gross_payable = dict(sorted(pays.items()))
    result.gross_receivable = dict(sorted(gets.items()))
    for shop in sorted(set(pays) | set(gets)):
        position = gets.get(shop, 0) - pays.get(shop, 0)
        result.positions[shop] = position
        if position < 0:
            result.instructions.append(Instruction(shop, "to_fund", -position))
        elif position > 0:
            result.instructions.append(Instruction(shop, "from_fund", position))
    if sum(result.positions.values()) + result.fees_rial != 0:
        raise AssertionError("net positions and fees do not sum to zero")
    return result
