from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.digits import normalize_digits, to_persian_digits
from mallnet.jalali import InvalidDate, parse_date, to_jalali_str

AUG_3_1991 = datetime.date(1991, 8, 3)


@pytest.mark.parametrize(
    "raw",
    [
        "1991-08-03",
        "1991/08/03",
        "1991-8-3",
        "1370/05/12",
        "1370-05-12",
        "1370/5/12",
        "  1370/05/12 ",
        "۱۳۷۰/۰۵/۱۲",
        "١٣٧٠/٠٥/١٢",
        "۱۹۹۱-۰۸-۰۳",
        "۱۳۷۰/05/۱۲",
    ],
)
def test_parse_date_accepts_both_calendars(raw: str) -> None:
    assert parse_date(raw) == AUG_3_1991


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1403/01/01", datetime.date(2024, 3, 20)),  # Nowruz 1403
        ("1399/12/30", datetime.date(2021, 3, 20)),  # 30 Esfand in a leap year
        ("1699/12/29", datetime.date(2321, 3, 20)),  # last year read as Jalali
        ("0001/01/01", datetime.date(622, 3, 21)),  # first day of the Jalali era
        ("1700/01/01", datetime.date(1700, 1, 1)),  # first year read as Gregorian
        ("2024-02-29", datetime.date(2024, 2, 29)),
        ("9999-12-31", datetime.date(9999, 12, 31)),
    ],
)
def test_parse_date_calendar_boundaries(raw: str, expected: datetime.date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1370/13/01", "not a valid Jalali date"),
        ("1370/05/32", "not a valid Jalali date"),
        ("1370/00/10", "not a valid Jalali date"),
        ("1370/07/31", "not a valid Jalali date"),  # Mehr has 30 days
        ("1402/12/30", "not a valid Jalali date"),  # 1402 is not a leap year
        ("0000/01/01", "not a valid Jalali date"),
        ("1991-13-01", "not a valid Gregorian date"),
        ("1991-02-29", "not a valid Gregorian date"),
        ("1991-08-32", "not a valid Gregorian date"),
        ("", "empty"),
        ("   ", "empty"),
        ("1370/05-12", "unrecognised"),  # mixed separators
        ("1370.05.12", "unrecognised"),
        ("12/05/1370", "unrecognised"),
        ("91-08-03", "unrecognised"),
        ("1370/005/12", "unrecognised"),
        ("1370/05/12 10:00", "unrecognised"),
        ("yesterday", "unrecognised"),
        ("१९९१-०८-०३", "unrecognised"),  # Devanagari digits are not accepted
        ("1370/05/12" + " " * 11, "longer than 20"),
        ("x" * 1000, "longer than 20"),
    ],
)
def test_parse_date_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDate, match=reason) as info:
        parse_date(raw)
    message = str(info.value)
    if len(raw) > 20:
        assert f"{len(raw)} characters" in message
    elif raw.strip():
        assert repr(raw) in message


def test_invalid_date_is_a_value_error_and_names_the_input() -> None:
    with pytest.raises(ValueError, match=r"'1402/12/30' is not a valid Jalali date"):
        parse_date("1402/12/30")


def test_parse_date_rejects_non_text() -> None:
    with pytest.raises(InvalidDate, match="must be text"):
        parse_date(AUG_3_1991)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (AUG_3_1991, "1370/05/12"),
        (datetime.date(2024, 3, 20), "1403/01/01"),
        (datetime.date(2025, 3, 20), "1403/12/30"),
        (datetime.date(622, 3, 22), "0001/01/02"),
        # A moment is shown on its Tehran day: 23:59 UTC was 04:29 next morning in Tehran
        # (+04:30, summer time before 2022), never on its UTC day (tests/unit/test_tehran_day.py).
        (datetime.datetime(1991, 8, 3, 23, 59, tzinfo=datetime.UTC), "1370/05/13"),
    ],
)
def test_to_jalali_str(d: datetime.date, expected: str) -> None:
    assert to_jalali_str(d) == expected


def test_to_jalali_str_with_persian_digits() -> None:
    assert to_jalali_str(AUG_3_1991, persian_digits=True) == "۱۳۷۰/۰۵/۱۲"


def test_to_jalali_str_outside_jalali_range() -> None:
    with pytest.raises(InvalidDate, match="no Jalali equivalent"):
        to_jalali_str(datetime.date(1, 1, 1))


def test_to_persian_digits() -> None:
    assert to_persian_digits("1370/05/12 ok") == "۱۳۷۰/۰۵/۱۲ ok"
    assert to_persian_digits("") == ""


dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))


@given(dates, st.booleans())
def test_jalali_round_trip(d: datetime.date, persian: bool) -> None:
    text = to_jalali_str(d, persian_digits=persian)
    assert parse_date(text) == d
    if not persian:
        assert len(text) == 10
        assert text[4] == text[7] == "/"


@given(dates)
def test_gregorian_iso_round_trip(d: datetime.date) -> None:
    assert parse_date(d.isoformat()) == d
    assert parse_date(d.isoformat().replace("-", "/")) == d


@given(st.text(max_size=40))
def test_persian_digits_round_trip(text: str) -> None:
    ascii_only = normalize_digits(text)
    assert normalize_digits(to_persian_digits(ascii_only)) == ascii_only


@given(st.text(max_size=30))
def test_parse_date_only_raises_invalid_date(raw: str) -> None:
    try:
        result = parse_date(raw)
    except InvalidDate:
        return
    assert isinstance(result, datetime.date)


def test_a_moment_is_a_jalali_or_gregorian_date_and_time_in_tehran() -> None:
    from mallnet.jalali import parse_moment

    assert parse_moment("۱۴۰۵/۰۹/۱۰ 18:30") == datetime.datetime(
        2026, 12, 1, 15, 0, tzinfo=datetime.UTC
    )
    assert parse_moment("1405/09/10 18:30:15").second == 15
    assert parse_moment("2026-12-01") == datetime.datetime(
        2026, 11, 30, 20, 30, tzinfo=datetime.UTC
    )
    for bad, reason in (
        ("1405/09/10 25:00", r"unrecognised time '1405/09/10 25:00': expected HH:MM"),
        ("1405/09/10 10", r"unrecognised time '1405/09/10 10': expected HH:MM"),
        ("1405/13/01 10:00", r"'1405/13/01' is not a valid Jalali date"),
    ):
        with pytest.raises(InvalidDate, match=reason):
            parse_moment(bad)
