"""Choosing which lots pay for a spend: soonest-expiring first, never-expiring last."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from shop_node.domain.errors import InsufficientBalance


@dataclass(frozen=True)
class OpenLot:
    lot_id: int
    remaining: int
    expires_at: dt.datetime | None


def spending_order(lots: Sequence[OpenLot]) -> list[OpenLot]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(lots, key=lambda lot: (lot.expires_at or far, lot.lot_id))


def allocate(
    lots: Sequence[OpenLot], amount: int, asset: str, *, keep_order: bool = False
) -> list[tuple[int, int]]:
    """``[(lot_id, taken)]`` covering ``amount``, soonest-expiring first (or in the order
    given, with ``keep_order``); raises when the lots hold less."""
    if amount <= 0:
        raise ValueError("allocate a positive amount")
    available = sum(lot.remaining for lot in lots)
    if available < amount:
        raise InsufficientBalance(asset, available, amount)
    taken: list[tuple[int, int]] = []
    left = amount
    for lot in lots if keep_order else spending_order(lots):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            taken.append((lot.lot_id, take))
            left -= take
    return taken
