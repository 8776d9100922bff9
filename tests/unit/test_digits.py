"""The one table of Persian digits: shown to people, read back from what they type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.digits import (
    ARABIC_INDIC_DIGITS,
    PERSIAN_DIGITS,
    integer_fa,
    normalize_digits,
    persian_letters,
    to_persian_digits,
)


def test_the_tables_are_the_unicode_digits() -> None:
    assert [ord(c) for c in PERSIAN_DIGITS] == list(range(0x06F0, 0x06FA))
    assert [ord(c) for c in ARABIC_INDIC_DIGITS] == list(range(0x0660, 0x066A))


def test_to_persian_digits_keeps_everything_else() -> None:
    assert to_persian_digits("1370/05/12 ok") == "۱۳۷۰/۰۵/۱۲ ok"
    assert to_persian_digits("") == ""


def test_normalize_digits_reads_both_persian_and_arabic_indic() -> None:
    assert normalize_digits("۰۹۱۲ ٠٩١٢ 0912") == "0912 0912 0912"


@given(st.text(max_size=40))
def test_persian_digits_round_trip(text: str) -> None:
    ascii_only = normalize_digits(text)
    assert not set(ascii_only) & set(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS)
    assert normalize_digits(to_persian_digits(ascii_only)) == ascii_only


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "۰"),
        (7, "۷"),
        (999, "۹۹۹"),
        (1_000, "۱٬۰۰۰"),
        (1_234_567, "۱٬۲۳۴٬۵۶۷"),
        (-1, "−۱"),
        (-1_234_567, "−۱٬۲۳۴٬۵۶۷"),
    ],
)
def test_integer_fa_groups_in_persian_with_the_minus_on_the_left(n: int, shown: str) -> None:
    assert integer_fa(n) == shown


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_integer_fa_reads_back(n: int) -> None:
    text = normalize_digits(integer_fa(n)).replace("٬", "").replace("−", "-")
    assert int(text) == n


@pytest.mark.parametrize("bad", [True, 1.5, "12"])
def test_integer_fa_takes_ints_only(bad: object) -> None:
    with pytest.raises(TypeError, match=f"expected an int, got a {type(bad).__name__}"):
        integer_fa(bad)  # type: ignore[arg-type]


def test_persian_letters_reads_arabic_forms_as_persian() -> None:
    assert persian_letters("كتاب سراي علي") == "کتاب سرای علی"
    assert persian_letters("کتاب‌سرا") == "کتاب‌سرا", "Persian text and its ZWNJ stay"
    assert persian_letters("Ketab 12") == "Ketab 12"
