from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.digits import normalize_digits
from mallnet.phone import (
    InvalidPhone,
    local_format,
    mask,
    normalize_mobile,
)

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("۰۹۱۲۱۲۳۴۵۶۷", "09121234567"),
        ("٠٩١٢١٢٣٤٥٦٧", "09121234567"),
        ("abc ۱۲۳ def", "abc 123 def"),
        ("mixed ۱2٣", "mixed 123"),
        ("no digits", "no digits"),
        ("", ""),
    ],
)
def test_normalize_digits(text: str, expected: str) -> None:
    assert normalize_digits(text) == expected


@given(st.text(alphabet="0123456789", max_size=30))
def test_normalize_digits_round_trips_persian_and_arabic(ascii_digits: str) -> None:
    persian = ascii_digits.translate(str.maketrans("0123456789", PERSIAN))
    arabic = ascii_digits.translate(str.maketrans("0123456789", ARABIC_INDIC))
    assert normalize_digits(persian) == ascii_digits
    assert normalize_digits(arabic) == ascii_digits


@given(st.text(max_size=50).filter(lambda s: not set(s) & set(PERSIAN + ARABIC_INDIC)))
def test_normalize_digits_leaves_other_text_alone(text: str) -> None:
    assert normalize_digits(text) == text


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "0912 123 4567",
        "0912-123-4567",
        "(0912) 123-4567",
        "+98 (912) 123 45 67",
        "  09121234567  ",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷",
    ],
)
def test_normalize_mobile_accepts_common_shapes(raw: str) -> None:
    assert normalize_mobile(raw) == "+989121234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09351234567", "+989351234567"),
        ("09901234567", "+989901234567"),
        ("09011234567", "+989011234567"),
    ],
)
def test_normalize_mobile_other_operators(raw: str, expected: str) -> None:
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "02188776655",  # Tehran landline
        "+982188776655",
        "03132223344",  # Isfahan landline
        "",
        "   ",
        "hello",
        "0912ABCDEFG",  # letters are never accepted as digits
        "0912123456",  # one digit short
        "091212345678",  # one digit long
        "+14155552671",  # a valid number, but not Iranian
        "+447911123456",
        "+989121234567 ext 5",
        "09121234567#",
        "+-09121234567",
        "0912.123.4567",
        "१२३४५६७८९०",  # Devanagari digits are not Persian digits
    ],
)
def test_normalize_mobile_rejects(raw: str) -> None:
    with pytest.raises(InvalidPhone) as info:
        normalize_mobile(raw)
    message = str(info.value)
    assert repr(raw) in message
    assert "09121234567 or +989121234567" in message


def test_invalid_phone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="landline"):
        normalize_mobile("02188776655")


def test_normalize_mobile_rejects_long_input_before_parsing() -> None:
    raw = "0" * 31 + "9121234567"
    with pytest.raises(InvalidPhone, match="longer than 32 characters") as info:
        normalize_mobile(raw)
    assert f"{len(raw)} characters" in str(info.value)
    # 32 characters with separators is still fine.
    padded = "0912 123 4567".center(32)
    assert len(padded) == 32
    assert normalize_mobile(padded) == "+989121234567"


def test_normalize_mobile_rejects_non_text() -> None:
    with pytest.raises(InvalidPhone, match="must be text"):
        normalize_mobile(9121234567)  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_normalize_mobile_returns_e164_mobile_or_raises(raw: str) -> None:
    try:
        result = normalize_mobile(raw)
    except InvalidPhone:
        return
    assert result.startswith("+989")
    assert len(result) == 13
    assert result[1:].isascii()
    assert result[1:].isdigit()


@given(st.integers(min_value=0, max_value=10**7 - 1))
def test_normalize_mobile_is_idempotent_for_mci_numbers(subscriber: int) -> None:
    e164 = f"+98912{subscriber:07d}"
    assert normalize_mobile(e164) == e164
    assert normalize_mobile(local_format(e164)) == e164


def test_local_format() -> None:
    assert local_format("+989121234567") == "09121234567"


def test_mask() -> None:
    assert mask("+989121234567") == "0912***4567"
    assert mask(normalize_mobile("۰۹۳۵ ۹۸۷ ۶۵۴۳")) == "0935***6543"


@pytest.mark.parametrize(
    "bad",
    ["09121234567", "+982188776655", "+98912123456", "+9891212345678", "", "+14155552671"],
)
def test_local_format_and_mask_require_normalised_input(bad: str) -> None:
    with pytest.raises(InvalidPhone, match=r"\+989121234567"):
        local_format(bad)
    with pytest.raises(InvalidPhone, match=r"\+989121234567"):
        mask(bad)
