"""Money as integer Rial: validation, basis-point arithmetic and toman display.

Every amount in mallnet (purchases, points value, pooled balances, settlements) is an
``int`` number of Rial, the legal unit; floats never appear, so sums and shares are exact
and settle to the last Rial. People think in toman (10 Rial), so display goes through
:func:`toman_fa`. Rates are basis points (1 bp = 0.01 %) applied with
:func:`apply_bp`, which rounds down so the network never pays out more than it owes.
"""

from __future__ import annotations

from typing import TypeGuard

from mallnet.digits import integer_fa
from mallnet.values import MAX_RIAL

__all__ = [
    "BP_DENOMINATOR",
    "RIAL_PER_TOMAN",
    "InvalidAmount",
    "apply_bp",
    "check_rial",
    "toman_fa",
]

RIAL_PER_TOMAN = 10
BP_DENOMINATOR = 10_000


class InvalidAmount(ValueError):
    """An amount or rate is not a valid integer value in range."""


def _is_int(value: object) -> TypeGuard[int]:
    # bool is a subclass of int, but True is never a meaningful amount.
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: int) -> str:
    # str() of an int beyond 4300 digits raises ValueError; no real amount is that long.
    return str(value) if abs(value) < 10**30 else f"a {value.bit_length()}-bit int"


def toman_fa(rial: int) -> str:
    """A Rial amount shown in toman, as the Persian UI shows money: ``12_345_675`` ->
    ``۱٬۲۳۴٬۵۶۷``, ``-12_345`` -> ``−۱٬۲۳۴``.

    Whole toman, cut toward zero, so a refund shows the same toman as the capture it
    reverses; Persian digits grouped with ``٬``, the minus sign on the left (see
    :func:`mallnet.digits.integer_fa`). Toman are what people read; where the last Rial
    matter (a statement's totals), show the exact Rial beside them with ``integer_fa``.
    """
    if not _is_int(rial):
        raise InvalidAmount(f"amount must be an int number of Rial, got a {type(rial).__name__}")
    toman = abs(rial) // RIAL_PER_TOMAN
    return integer_fa(-toman if rial < 0 else toman)


def apply_bp(amount: int, bp: int) -> int:
    """Return ``amount * bp / 10000`` rounded down, e.g. 2.5 % (250 bp) of 1,000 is 25.

    Both arguments must be non-negative ints (not bool); ``bp`` may exceed 10,000 for
    rates above 100 %. Raises :class:`InvalidAmount` otherwise.
    """
    if not _is_int(amount):
        raise InvalidAmount(f"amount must be an int number of Rial, got a {type(amount).__name__}")
    if not _is_int(bp):
        raise InvalidAmount(f"bp must be an int number of basis points, got a {type(bp).__name__}")
    if amount < 0:
        raise InvalidAmount(f"amount must not be negative, got {_show(amount)}")
    if bp < 0:
        raise InvalidAmount(f"bp must not be negative, got {_show(bp)}")
    return amount * bp // BP_DENOMINATOR


def check_rial(
    value: object,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    maximum: int = MAX_RIAL,
) -> int:
    """Return ``value`` if it is a valid Rial amount, else raise :class:`InvalidAmount`.

    Valid means an ``int`` (not ``bool``, not ``float``), greater than zero (or zero when
    ``allow_zero``) and at most ``maximum``. The error names ``field``.
    """
    if not _is_int(value):
        raise InvalidAmount(
            f"{field} must be a whole number of Rial (int), got a {type(value).__name__}"
        )
    if allow_zero and value < 0:
        raise InvalidAmount(f"{field} must be zero or more Rial, got {_show(value)}")
    if not allow_zero and value <= 0:
        raise InvalidAmount(f"{field} must be more than zero Rial, got {_show(value)}")
    if value > maximum:
        # The value itself is not printed: a huge int may exceed str()'s digit limit.
        raise InvalidAmount(f"{field} must be at most {maximum:,} Rial")
    return value
