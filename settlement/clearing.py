"""Clearing a period between shops through the shared fund: pure, no database.

When value issued by shop A is spent at shop B, B gave goods for A's promise: A owes B.
Each such redemption (a capture, or a refund's negative line) becomes an obligation at the
agreement's settlement rate (face value, or face less a fee in basis points kept by the
fund; the redeemer's share rounds toward zero, the fee takes the remainder). Value issued by
a joint campaign is owed by the campaign's participants, split by its declared rule (or by
the mall). Expired value goes to the fund when the policy says so.

Every participant then has one multilateral net position against the fund — what it
receives, or pays — and the positions (the fund's own fees and breakage included) always
sum to zero. Under postpaid funding, the net positions move as money; under prepaid
funding, what an issuer owes was paid when it issued the value, so the fund pays each
redeeming shop what it is owed and draws the issuers' part from their prepayments.

The journal records the same thing as balanced double entries (amounts are what the fund
owes the account's holder: positive, the fund owes; negative, the holder owes the fund),
aggregated per pair of shops, so a period of a million captures has thousands of entries;
each capture keeps its own settled line (``Obligation``) for the statements.

``Clearing`` is an accumulator: captures stream in one at a time (nothing is kept per
capture), so closing a large period needs memory per pair of shops, not per capture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from settlement.policy import CostSharing, SettlementPolicy

FUND = "fund"  # the fund as a participant: its fees and breakage income
MALL = "mall"  # the mall as a participant: it sponsors mall-funded campaigns
FEES = "fund:fees"
BREAKAGE_INCOME = "fund:breakage"
PAYMENTS = "fund:payments"  # money the fund pays out (+) or receives (-) at close
CORRECTIONS = "fund:corrections"  # what mall finance's corrections cost (or brought) the fund


@dataclass(frozen=True)
class Redemption:
    """One settlement input line: value issued by ``issuer`` spent at ``redeemer``."""

    ref: str  # traceable to the capture: e.g. "redemption:<id>"
    issuer: str  # a shop, or "campaign:<id>"
    redeemer: str
    amount_rial: int  # negative for a refund's reversal
    fee_bp: int = 0
    # A refund's line: what earlier lines of the same capture (hold and lot) came to, so
    # the fee is reversed cumulatively and a capture refunded in parts nets to nothing.
    prior_rial: int = 0
    # The lot was paid for in advance from the issuer's prepayment (prepaid funding).
    covered: bool = False


@dataclass(frozen=True)
class Obligation:
    """A redemption as settled: the debtor (issuer) owes ``gross``; the creditor
    (redeemer) receives ``gross - fee``; the fund keeps ``fee``. Zero for own value."""

    ref: str
    debtor: str
    creditor: str
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


def settle(r: Redemption) -> Obligation:
    """A shop spending its own value owes nobody: the line settles to nothing."""
    if r.issuer == r.redeemer:
        return Obligation(r.ref, r.issuer, r.redeemer, 0, 0)
    after = settle_amount(r.prior_rial + r.amount_rial, r.fee_bp)[1]
    fee = after - settle_amount(r.prior_rial, r.fee_bp)[1]
    return Obligation(r.ref, r.issuer, r.redeemer, r.amount_rial, fee)


def split_cost(
    amount_rial: int, rule: CostSharing, sales_rial: Mapping[str, int]
) -> dict[str, int]:
    """Who pays what of a campaign's cost: the mall alone, or the participating shops
    equally or in proportion to their sales in the period (equally when none sold). Whole
    Rial by largest remainder, ties to the earlier slug, so the shares add up exactly."""
    if rule.rule == "mall":
        return {MALL: amount_rial}
    shops = sorted(rule.shops)
    weights = [max(0, sales_rial.get(s, 0)) if rule.rule == "sales_share" else 1 for s in shops]
    if sum(weights) == 0:
        weights = [1] * len(shops)
    total = sum(weights)
    sign = -1 if amount_rial < 0 else 1
    whole = abs(amount_rial)
    shares = [whole * w // total for w in weights]
    remainders = sorted(range(len(shops)), key=lambda i: (-(whole * weights[i] % total), shops[i]))
    for i in remainders[: whole - sum(shares)]:
        shares[i] += 1
    return {s: sign * v for s, v in zip(shops, shares, strict=True) if v}


@dataclass(frozen=True)
class Line:
    account: str
    amount_rial: int  # what the fund owes the account's holder (negative: is owed)


@dataclass(frozen=True)
class Entry:
    ref: str
    kind: str  # obligation | campaign_split | breakage | settlement
    lines: tuple[Line, ...]

    def balanced(self) -> bool:
        return sum(line.amount_rial for line in self.lines) == 0


def payable(party: str) -> str:
    return f"{party}:payable"


def receivable(party: str) -> str:
    return f"{party}:receivable"


def prepaid(party: str) -> str:
    return f"{party}:prepaid"


@dataclass(frozen=True)
class Instruction:
    """Money to move at close: ``to_fund`` (the shop pays) or ``from_fund``."""

    shop: str
    direction: str  # "to_fund" | "from_fund"
    amount_rial: int
    kind: str = "settlement"  # settlement | sponsorship | prepaid_topup


@dataclass
class Party:
    """One participant's gross and net for the period."""

    receivable_rial: int = 0  # redeemed there, net of fees
    fees_rial: int = 0  # the fund kept this from what it receives
    payable_rial: int = 0  # its value spent elsewhere, campaign shares, breakage
    campaign_rial: int = 0  # of payable: campaign shares
    breakage_rial: int = 0  # of payable: expired value owed to the fund
    corrected_rial: int = 0  # corrections booked: + the fund owes more, - the party owes more
    correction_owed_rial: int = 0  # of payable: corrections the party owes
    netted_rial: int = 0  # owed and owing that cancelled out
    covered_rial: int = 0  # payable already paid by prepayment

    @property
    def position_rial(self) -> int:
        return self.receivable_rial - self.payable_rial


@dataclass
class PeriodResult:
    funding: str
    parties: dict[str, Party]
    entries: list[Entry]
    instructions: list[Instruction]
    fees_rial: int
    breakage_to_fund_rial: int  # expired value the fund keeps
    breakage_to_issuer: dict[str, int]  # prepaid: returned to each issuer's prepayment
    pairs: dict[tuple[str, str], tuple[int, int]]  # (debtor, creditor) -> (gross, fee)
    campaign_shares: dict[str, dict[str, int]]  # campaign -> payer -> share
    # Value paid for in advance and spent at its own issuer: back to its prepayment.
    own_spent: dict[str, int] = field(default_factory=dict)
    breakage_billed_rial: int = 0  # expired value not paid for in advance, billed at close

    @property
    def positions(self) -> dict[str, int]:
        """Every participant's net position; with the fund's, they sum to zero."""
        out = {name: p.position_rial for name, p in sorted(self.parties.items())}
        corrected = sum(p.corrected_rial for p in self.parties.values())
        out[FUND] = self.fees_rial + self.breakage_billed_rial - corrected
        return out

    @property
    def gross_payable(self) -> dict[str, int]:
        return {n: p.payable_rial for n, p in sorted(self.parties.items()) if p.payable_rial}

    @property
    def gross_receivable(self) -> dict[str, int]:
        return {n: p.receivable_rial for n, p in sorted(self.parties.items()) if p.receivable_rial}

    @property
    def netted_rial(self) -> int:
        """What netting saved: obligations that did not move as money."""
        return sum(p.netted_rial for p in self.parties.values())


class Clearing:
    """Accumulates one period's settlement input, then clears it (``result``)."""

    def __init__(self, policy: SettlementPolicy) -> None:
        self.policy = policy
        self._sharing = policy.sharing()
        # (debtor, creditor) -> [gross, fee, of gross: paid for in advance]
        self._pairs: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        # issuer -> [not paid for in advance, paid for in advance]
        self._breakage: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self._own: dict[str, int] = defaultdict(int)
        self._fees: dict[tuple[str, str], int] = {}  # per pair: looked up once per close
        self._corrections: list[tuple[str, str, int]] = []
        self.count = 0

    def fee_bp(self, issuer: str, redeemer: str) -> int:
        pair = (issuer, redeemer)
        fee = self._fees.get(pair)
        if fee is None:
            fee = self._fees[pair] = self.policy.fee_for(issuer, redeemer)
        return fee

    def add(self, r: Redemption) -> Obligation:
        """Settle one redemption and count it into its pair."""
        o = settle(r)
        self.count += 1
        if r.issuer == r.redeemer:
            if r.covered:  # paid for in advance, spent at home: the prepayment goes back
                self._own[r.issuer] += r.amount_rial
        elif o.gross_rial or o.fee_rial:
            pair = self._pairs[(o.debtor, o.creditor)]
            pair[0] += o.gross_rial
            pair[1] += o.fee_rial
            if r.covered:
                pair[2] += o.gross_rial
        return o

    def add_breakage(self, issuer: str, amount_rial: int, covered: bool = False) -> None:
        """Value of ``issuer`` that expired unspent in the period; ``covered``: it was paid
        for in advance."""
        self._breakage[issuer][1 if covered else 0] += amount_rial

    def add_correction(self, ref: str, party: str, amount_rial: int) -> None:
        """A correction of an earlier period, booked in this one: the fund owes ``party``
        ``amount_rial`` more (negative: the party owes the fund)."""
        self._corrections.append((ref, party, amount_rial))

    def _rule(self, issuer: str) -> CostSharing | None:
        """Who pays for value a campaign issued: its declared rule, or the mall when none
        was declared (a campaign is never a party that could be billed)."""
        if issuer in self._sharing:
            return self._sharing[issuer]
        if issuer.startswith("campaign:"):
            return CostSharing(issuer=issuer, rule="mall")
        return None

    def result(self, sales_rial: Mapping[str, int] | None = None) -> PeriodResult:
        """Clear the period: every pair's obligation, breakage, campaign costs split by
        their rules (``sales_rial`` for a rule by sales), corrections, then each party
        settled. The journal entries come in that order."""
        parties: dict[str, Party] = defaultdict(Party)
        entries: list[Entry] = []
        fees, campaign_totals = self._obligations(parties, entries)
        to_fund, to_issuer, billed = self._expired(parties, entries, campaign_totals)
        shares = self._split_campaigns(parties, entries, campaign_totals, sales_rial or {})
        self._book_corrections(parties, entries)
        instructions: list[Instruction] = []
        for name in sorted(parties):
            instructions += self._settle(name, parties[name], entries)
        result = PeriodResult(
            funding=self.policy.funding,
            parties=dict(sorted(parties.items())),
            entries=entries,
            instructions=instructions,
            fees_rial=fees,
            breakage_to_fund_rial=to_fund + billed,
            breakage_billed_rial=billed,
            breakage_to_issuer=to_issuer,
            pairs={k: (v[0], v[1]) for k, v in sorted(self._pairs.items()) if v[0] or v[1]},
            campaign_shares=shares,
            own_spent=dict(sorted((k, v) for k, v in self._own.items() if v)),
        )
        check(result)
        return result

    def _obligations(
        self, parties: dict[str, Party], entries: list[Entry]
    ) -> tuple[int, dict[str, int]]:
        """Each pair's gross, less the fund's fee, is owed by the debtor to the creditor;
        a campaign's debts are gathered to be split later. Returns (fees, campaign
        totals)."""
        fees = 0
        campaign_totals: dict[str, int] = defaultdict(int)
        for (debtor, creditor), (gross, fee, covered) in sorted(self._pairs.items()):
            if not (gross or fee):
                continue
            parties[creditor].receivable_rial += gross - fee
            parties[creditor].fees_rial += fee
            fees += fee
            if self._rule(debtor) is not None:
                campaign_totals[debtor] += gross
            else:
                parties[debtor].payable_rial += gross
                parties[debtor].covered_rial += covered
            entries.append(
                Entry(
                    f"{debtor}>{creditor}",
                    "obligation",
                    _lines(
                        (receivable(creditor), gross - fee), (FEES, fee), (payable(debtor), -gross)
                    ),
                )
            )
        return fees, campaign_totals

    def _split_campaigns(
        self,
        parties: dict[str, Party],
        entries: list[Entry],
        campaign_totals: dict[str, int],
        sales: Mapping[str, int],
    ) -> dict[str, dict[str, int]]:
        """What each campaign cost, split among its payers by its rule: campaign -> payer
        -> share."""
        shares: dict[str, dict[str, int]] = {}
        for campaign, total in sorted(campaign_totals.items()):
            rule = self._rule(campaign)
            assert rule is not None
            shares[campaign] = split_cost(total, rule, sales)
            for payer, share in shares[campaign].items():
                parties[payer].payable_rial += share
                parties[payer].campaign_rial += share
            entries.append(
                Entry(
                    campaign,
                    "campaign_split",
                    _lines(
                        (payable(campaign), total),
                        *((payable(p), -s) for p, s in shares[campaign].items()),
                    ),
                )
            )
        return shares

    def _book_corrections(self, parties: dict[str, Party], entries: list[Entry]) -> None:
        """Corrections of earlier periods: the fund owes a party more, or it owes more."""
        for ref, party, amount in self._corrections:
            parties[party].corrected_rial += amount
            side = receivable(party) if amount > 0 else payable(party)
            if amount > 0:
                parties[party].receivable_rial += amount
            else:
                parties[party].payable_rial -= amount
                parties[party].correction_owed_rial -= amount
            entries.append(Entry(ref, "correction", _lines((side, amount), (CORRECTIONS, -amount))))

    def _expired(
        self, parties: dict[str, Party], entries: list[Entry], campaign_totals: dict[str, int]
    ) -> tuple[int, dict[str, int], int]:
        """Breakage by policy: to the issuer (what it paid in advance goes back to its
        prepayment; what it did not pay for costs nothing) or to the fund (it keeps what was
        paid in advance, and bills the rest: to the issuer, or by a campaign's rule)."""
        to_fund = billed_total = 0
        to_issuer: dict[str, int] = {}
        for issuer, (billed, covered) in sorted(self._breakage.items()):
            if self.policy.breakage == "issuer":
                if covered:
                    to_issuer[issuer] = covered
                continue
            if covered:
                to_fund += covered
                entries.append(
                    Entry(
                        f"breakage:{issuer}:prepaid",
                        "breakage",
                        _lines((prepaid(issuer), -covered), (BREAKAGE_INCOME, covered)),
                    )
                )
            if not billed:
                continue
            billed_total += billed
            if self._rule(issuer) is not None:
                campaign_totals[issuer] += billed
            else:
                parties[issuer].payable_rial += billed
                parties[issuer].breakage_rial += billed
            entries.append(
                Entry(
                    f"breakage:{issuer}",
                    "breakage",
                    _lines((payable(issuer), -billed), (BREAKAGE_INCOME, billed)),
                )
            )
        return to_fund, to_issuer, billed_total

    def _settle(self, name: str, party: Party, entries: list[Entry]) -> list[Instruction]:
        """Clear one participant's receivable and payable: what its prepayment covers is
        drawn from it; the rest nets against what it receives, and the difference moves as
        money."""
        r, p, covered = party.receivable_rial, party.payable_rial, party.covered_rial
        rest = p - covered
        party.netted_rial = min(r, rest)
        money = r - rest
        lines: list[tuple[str, int]] = [
            (receivable(name), -r),
            (payable(name), p),
            (prepaid(name), -covered),
        ]
        out: list[Instruction] = []
        if money > 0:
            out.append(Instruction(name, "from_fund", money))
        elif money < 0:
            kind = "sponsorship" if name == MALL else "settlement"
            out.append(Instruction(name, "to_fund", -money, kind))
        lines.append((PAYMENTS, -sum(v for _a, v in lines)))
        settled = _lines(*lines)
        if settled:  # a shop that only paid fees on value worth less than a Rial moves nothing
            entries.append(Entry(f"settle:{name}", "settlement", settled))
        return out


def _lines(*pairs: tuple[str, int]) -> tuple[Line, ...]:
    return tuple(Line(account, amount) for account, amount in pairs if amount)


def check(result: PeriodResult) -> None:
    """The invariants every period must keep; a failure is a bug, never an input error."""
    for entry in result.entries:
        if not entry.balanced():
            raise AssertionError(f"unbalanced entry {entry.ref}")
    if sum(result.positions.values()) != 0:
        raise AssertionError("net positions do not sum to zero")
    for name, p in result.parties.items():
        moved = {"to_fund": 0, "from_fund": 0}
        for i in result.instructions:
            if i.shop == name:
                moved[i.direction] += i.amount_rial
        if p.payable_rial != p.netted_rial + moved["to_fund"] + p.covered_rial:
            raise AssertionError(f"{name}: payable is not netted + paid + covered")
        if p.receivable_rial != p.netted_rial + moved["from_fund"]:
            raise AssertionError(f"{name}: receivable is not netted + received")


def clear(
    redemptions: Iterable[Redemption],
    policy: SettlementPolicy | None = None,
    sales_rial: Mapping[str, int] | None = None,
) -> PeriodResult:
    """Clear a list of redemptions in one go (tests, worked examples)."""
    clearing = Clearing(policy or SettlementPolicy())
    for r in redemptions:
        clearing.add(r)
    return clearing.result(sales_rial)
