from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.digits import normalize_digits
from mallnet.money import InvalidAmount, apply_bp, check_rial, toman_fa


@pytest.mark.parametrize(
    ("rial", "expected"),
    [
        (12_345_670, "۱٬۲۳۴٬۵۶۷"),
        (12_345_675, "۱٬۲۳۴٬۵۶۷"),  # whole toman: the leftover 5 Rial are not shown
        (0, "۰"),
        (5, "۰"),
        (10, "۱"),
        (10_000, "۱٬۰۰۰"),
        (9_999, "۹۹۹"),
        (-12_345_670, "−۱٬۲۳۴٬۵۶۷"),
        (-12_345_671, "−۱٬۲۳۴٬۵۶۷"),  # toward zero, as its positive twin
        (-5, "۰"),  # no "−۰"
        (10**15, "۱۰۰٬۰۰۰٬۰۰۰٬۰۰۰٬۰۰۰"),
    ],
)
def test_toman_fa(rial: int, expected: str) -> None:
    assert toman_fa(rial) == expected


@pytest.mark.parametrize("bad", [1.5, 10.0, True, "100", Decimal(10), None])
def test_toman_fa_rejects_non_int(bad: object) -> None:
    with pytest.raises(
        InvalidAmount, match=f"must be an int number of Rial, got a {type(bad).__name__}"
    ):
        toman_fa(bad)  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_toman_fa_is_rial_over_ten_toward_zero(rial: int) -> None:
    text = toman_fa(rial)
    assert set(text) <= set("۰۱۲۳۴۵۶۷۸۹٬−")
    assert text.startswith("−") == (rial <= -10)
    # Read back with exact arithmetic: the whole toman, cut toward zero, so a refund
    # (negative) shows the same toman as the capture (positive) it reverses.
    shown = int(normalize_digits(text).replace("٬", "").replace("−", "-"))
    assert shown == int(Fraction(rial, 10))
    assert toman_fa(-rial) == ("−" + text if shown > 0 else text.removeprefix("−"))
    # Grouped by thousands.
    assert normalize_digits(text).lstrip("−") == f"{abs(shown):,}".replace(",", "٬")


@pytest.mark.parametrize(
    ("amount", "bp", "expected"),
    [
        (1_000, 250, 25),
        (10_000, 1, 1),
        (9_999, 1, 0),  # 0.9999 rounds down
        (19_999, 1, 1),
        (12_345, 10_000, 12_345),
        (12_345, 0, 0),
        (0, 500, 0),
        (1_000, 15_000, 1_500),  # rates above 100 % are allowed
        (10**15, 9_999, 999_900_000_000_000),
    ],
)
def test_apply_bp(amount: int, bp: int, expected: int) -> None:
    assert apply_bp(amount, bp) == expected


@pytest.mark.parametrize(
    ("amount", "bp", "match"),
    [
        (-1, 100, "amount must not be negative"),
        (100, -1, "bp must not be negative"),
        (1.0, 100, "amount must be an int"),
        (100, 2.5, "bp must be an int"),
        (True, 100, "amount must be an int"),
        (100, False, "bp must be an int"),
        ("100", 100, "amount must be an int"),
        (Decimal(100), 100, "amount must be an int"),
    ],
)
def test_apply_bp_rejects(amount: object, bp: object, match: str) -> None:
    with pytest.raises(InvalidAmount, match=match):
        apply_bp(amount, bp)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**18), st.integers(min_value=0, max_value=10_000))
def test_apply_bp_is_floor_and_never_exceeds_amount(amount: int, bp: int) -> None:
    result = apply_bp(amount, bp)
    assert isinstance(result, int)
    assert 0 <= result <= amount
    assert result == (Fraction(amount) * bp / 10_000).__floor__()
    # Floor: the exact share lies in [result, result + 1).
    assert result * 10_000 <= amount * bp < (result + 1) * 10_000


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=10_000))
def test_apply_bp_shares_never_exceed_the_whole(amount: int, bp: int) -> None:
    assert apply_bp(amount, bp) + apply_bp(amount, 10_000 - bp) <= amount


@pytest.mark.parametrize("value", [1, 500_000, 10**15])
def test_check_rial_accepts(value: int) -> None:
    assert check_rial(value) == value


def test_check_rial_zero_only_when_allowed() -> None:
    assert check_rial(0, allow_zero=True) == 0
    with pytest.raises(InvalidAmount, match="amount must be more than zero Rial, got 0"):
        check_rial(0)


def test_check_rial_custom_maximum() -> None:
    assert check_rial(1_000, maximum=1_000) == 1_000
    with pytest.raises(InvalidAmount, match="price must be at most 1,000 Rial"):
        check_rial(1_001, field="price", maximum=1_000)


@pytest.mark.parametrize(
    ("value", "kwargs", "match"),
    [
        (1.0, {}, "purchase must be a whole number of Rial \\(int\\), got a float"),
        (True, {}, "purchase must be a whole number of Rial \\(int\\), got a bool"),
        (False, {"allow_zero": True}, "got a bool"),
        ("100", {}, "got a str"),
        (None, {}, "got a NoneType"),
        (Decimal(100), {}, "got a Decimal"),
        (-1, {}, "purchase must be more than zero Rial, got -1"),
        (-1, {"allow_zero": True}, "purchase must be zero or more Rial, got -1"),
        (10**15 + 1, {}, "purchase must be at most 1,000,000,000,000,000 Rial"),
        pytest.param(10**10_000, {}, "purchase must be at most", id="huge"),
        pytest.param(
            -(10**10_000), {}, "must be more than zero Rial, got a \\d+-bit int", id="huge-negative"
        ),
    ],
)
def test_check_rial_rejects_naming_the_field(
    value: object, kwargs: dict[str, bool], match: str
) -> None:
    with pytest.raises(InvalidAmount, match=match):
        check_rial(value, field="purchase", **kwargs)


def test_invalid_amount_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="amount"):
        check_rial(-5)
