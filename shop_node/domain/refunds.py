"""What a refund takes back and gives back: pure integer arithmetic, no I/O.

A refund of part of a purchase works in three steps, each a function here:

1. ``refund_share``: the refunded part of everything the purchase moved — the points and
   credit it earned, the credit the member paid with, the network value it was paid
   with — in cumulative floors (``proportional_share``), so refunds in any number of parts
   add up to exactly what one full refund would.
2. ``take_back``: per asset, where the earned value comes from. What the purchase
   granted and has since expired already left the member (taking it again would charge
   twice); the rest is taken from the purchase's own lots first, then soonest-expiring;
   what the member has already spent is a shortfall, never a negative balance.
3. ``return_credit``: the credit the member paid with goes back to the lots it was spent
   from, less what covers earned credit they had already spent.

``plan_refund`` runs the three; the service turns its plan into ledger legs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop_node.domain.earning import proportional_share
from shop_node.domain.errors import RefundExceedsPurchase
from shop_node.domain.lots import OpenLot, allocate, spending_order

# (lot id, amount): where a spend came from, or where a take-back or return goes.
LotAmount = tuple[int, int]


@dataclass(frozen=True)
class PurchaseValue:
    """What a purchase moved that a refund reverses in proportion."""

    total_rial: int
    earned_points: int  # the purchase's points, punch-card reward included
    earned_credit_rial: int  # its credit, punch-card reward included
    credit_spent_rial: int  # paid with the member's shop credit
    network_paid_rial: int  # paid with network value held at the hub

    def __post_init__(self) -> None:
        amounts = (
            self.earned_points,
            self.earned_credit_rial,
            self.credit_spent_rial,
            self.network_paid_rial,
        )
        if self.total_rial <= 0 or min(amounts) < 0:
            raise ValueError("a purchase has a positive total and no negative amounts")
        if self.credit_spent_rial + self.network_paid_rial > self.total_rial:
            raise ValueError("credit and network value cannot pay more than the total")


@dataclass(frozen=True)
class RefundShare:
    """The part of a purchase one refund reverses."""

    amount_rial: int
    refunded_before_rial: int
    reversed_points: int
    reversed_credit_rial: int
    credit_paid_back_rial: int  # this refund's part of the credit paid with
    credit_paid_back_before_rial: int  # earlier refunds' part of it, together
    network_returned_rial: int  # the hub returns this to the network value paid with


def refund_share(
    purchase: PurchaseValue, refunded_before_rial: int, requested_rial: int | None
) -> RefundShare:
    """The share of ``purchase`` a refund of ``requested_rial`` (None: all that is left)
    reverses after ``refunded_before_rial`` was refunded; raises RefundExceedsPurchase
    when nothing is left or more is asked than is left."""
    total, before = purchase.total_rial, refunded_before_rial
    if not 0 <= before <= total:
        raise ValueError("earlier refunds must stay within the purchase")
    refundable = total - before
    amount = refundable if requested_rial is None else requested_rial
    if refundable == 0 or amount > refundable:
        raise RefundExceedsPurchase(refundable, amount)
    if amount <= 0:
        raise ValueError("a refund is of a positive amount")

    def share(value: int) -> int:
        return proportional_share(value, total, before, amount)

    return RefundShare(
        amount_rial=amount,
        refunded_before_rial=before,
        reversed_points=share(purchase.earned_points),
        reversed_credit_rial=share(purchase.earned_credit_rial),
        credit_paid_back_rial=share(purchase.credit_spent_rial),
        # The cumulative floor of the earlier refunds: the sum of their shares.
        credit_paid_back_before_rial=purchase.credit_spent_rial * before // total,
        network_returned_rial=share(purchase.network_paid_rial),
    )


@dataclass(frozen=True)
class Holdings:
    """What the member holds of one asset when a refund takes earned value back."""

    lots: tuple[OpenLot, ...]  # lots with value left, expired but not yet swept included
    own_lot_ids: frozenset[int] = frozenset()  # the lots the refunded purchase granted
    expired_own: int = 0  # of the purchase's own lots, what has left the member by expiry
    lapsed_before: int = 0  # of that, what earlier refunds of the purchase already counted


@dataclass(frozen=True)
class Takeback:
    """Where one asset's reversed value comes from: ``lapsed + recovered + shortfall`` is
    what was to be reversed."""

    lapsed: int  # had expired from the purchase's own lots: already gone
    taken: tuple[LotAmount, ...]  # taken back from the member's lots
    shortfall: int  # already spent: cannot be taken back

    @property
    def recovered(self) -> int:
        return sum(amount for _lot, amount in self.taken)


def takeback_order(holdings: Holdings) -> list[OpenLot]:
    """The purchase's own lots first (in the order given), then soonest-expiring."""
    own = [lot for lot in holdings.lots if lot.lot_id in holdings.own_lot_ids]
    others = [lot for lot in holdings.lots if lot.lot_id not in holdings.own_lot_ids]
    return own + spending_order(others)


def take_back(wanted: int, holdings: Holdings, asset: str) -> Takeback:
    """Take ``wanted`` of ``asset`` back from what the member holds."""
    if wanted < 0:
        raise ValueError("cannot take back a negative amount")
    # What this purchase granted and has since expired already left the member: taking it
    # back again would charge them twice.
    lapsed = max(0, min(wanted, holdings.expired_own - holdings.lapsed_before))
    left = wanted - lapsed
    if not left:
        return Takeback(lapsed, (), 0)
    lots = takeback_order(holdings)
    recoverable = min(left, sum(lot.remaining for lot in lots))
    taken = allocate(lots, recoverable, asset, keep_order=True) if recoverable else []
    return Takeback(lapsed, tuple(taken), left - recoverable)


@dataclass(frozen=True)
class CreditReturn:
    """The credit paid with, coming back: ``returned + offset`` is this refund's part."""

    returned: tuple[LotAmount, ...]  # back to the lots it was spent from
    offset_rial: int  # kept: covers earned credit the member had already spent

    @property
    def returned_rial(self) -> int:
        return sum(amount for _lot, amount in self.returned)


def window(parts: Sequence[LotAmount], start: int, length: int) -> list[LotAmount]:
    """The slice ``[start, start + length)`` of amounts laid end to end, per part id."""
    out: list[LotAmount] = []
    offset = 0
    for part_id, amount in parts:
        lo, hi = max(start, offset), min(start + length, offset + amount)
        if hi > lo:
            out.append((part_id, hi - lo))
        offset += amount
    return out


def return_credit(
    share: RefundShare, credit_shortfall_rial: int, spent_from: Sequence[LotAmount]
) -> CreditReturn:
    """Give back ``share``'s part of the credit paid, less ``credit_shortfall_rial`` of
    earned credit the member had already spent, to the lots ``spent_from`` (the
    purchase's spend, in posting order): earlier refunds had the slices before it."""
    offset = min(credit_shortfall_rial, share.credit_paid_back_rial)
    returned = share.credit_paid_back_rial - offset
    slices = window(spent_from, share.credit_paid_back_before_rial, returned) if returned else []
    if sum(amount for _lot, amount in slices) != returned:
        raise ValueError("the credit to return is more than the purchase spent")
    return CreditReturn(tuple(slices), offset)


@dataclass(frozen=True)
class RefundPlan:
    """Everything one refund reverses, and how."""

    share: RefundShare
    points: Takeback
    credit: Takeback
    credit_return: CreditReturn

    @property
    def shortfall_points(self) -> int:
        return self.points.shortfall

    @property
    def shortfall_credit_rial(self) -> int:
        """Earned credit the member had spent, less what the credit paid with covers."""
        return self.credit.shortfall - self.credit_return.offset_rial


def plan_refund(
    share: RefundShare, points: Holdings, credit: Holdings, credit_spent_from: Sequence[LotAmount]
) -> RefundPlan:
    """The whole refund: earned points and credit taken back, credit paid given back."""
    taken_points = take_back(share.reversed_points, points, "points")
    taken_credit = take_back(share.reversed_credit_rial, credit, "rial")
    back = return_credit(share, taken_credit.shortfall, credit_spent_from)
    return RefundPlan(share, taken_points, taken_credit, back)
