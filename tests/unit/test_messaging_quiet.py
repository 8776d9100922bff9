"""Quiet hours by Tehran's clock: messages that may wait do not wake anyone up."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.jalali import TEHRAN
from mallnet.messaging.quiet import DEFAULT_QUIET_HOURS, InvalidQuietHours, QuietHours, parse

UTC = dt.UTC


def tehran(hour: int, minute: int, second: int = 0, micro: int = 0, day: int = 6) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, second, micro, tzinfo=TEHRAN)


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (tehran(21, 59), False),
        (tehran(21, 59, 59, 999_999), False),
        (tehran(22, 0), True),
        (tehran(23, 59), True),
        (tehran(0, 0), True),
        (tehran(7, 59), True),
        (tehran(7, 59, 59, 999_999), True),
        (tehran(8, 0), False),
        (tehran(12, 0), False),
    ],
)
def test_default_window_crosses_midnight(at: dt.datetime, quiet: bool) -> None:
    assert DEFAULT_QUIET_HOURS.is_quiet(at) is quiet
    # The same instant written in UTC is judged by Tehran's clock all the same.
    assert DEFAULT_QUIET_HOURS.is_quiet(at.astimezone(UTC)) is quiet


def test_the_window_is_tehran_time_not_utc() -> None:
    # 18:30 UTC is 22:00 in Tehran (UTC+03:30): quiet, though 18:30 is no hour of quiet.
    assert DEFAULT_QUIET_HOURS.is_quiet(dt.datetime(2026, 12, 6, 18, 30, tzinfo=UTC))
    assert not DEFAULT_QUIET_HOURS.is_quiet(dt.datetime(2026, 12, 6, 18, 29, tzinfo=UTC))


def test_next_open_is_the_end_of_the_window_in_utc() -> None:
    hours = DEFAULT_QUIET_HOURS
    after_start = hours.next_open(tehran(22, 0))
    assert after_start == tehran(8, 0, day=7)
    assert after_start.utcoffset() == dt.timedelta(0)
    assert after_start == dt.datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    assert hours.next_open(tehran(0, 0)) == tehran(8, 0)
    assert hours.next_open(tehran(7, 59)) == tehran(8, 0)


def test_next_open_is_the_moment_itself_when_open() -> None:
    at = tehran(21, 59, 30)
    opened = DEFAULT_QUIET_HOURS.next_open(at)
    assert opened == at
    assert opened.tzinfo is UTC
    assert DEFAULT_QUIET_HOURS.next_open(tehran(8, 0)) == tehran(8, 0)


def test_a_window_within_one_day() -> None:
    siesta = QuietHours(dt.time(13, 0), dt.time(16, 0))
    assert not siesta.is_quiet(tehran(12, 59))
    assert siesta.is_quiet(tehran(13, 0))
    assert siesta.is_quiet(tehran(15, 59))
    assert not siesta.is_quiet(tehran(16, 0))
    assert not siesta.is_quiet(tehran(23, 0))
    assert siesta.next_open(tehran(14, 0)) == tehran(16, 0)


def test_start_equal_to_end_means_no_quiet_hours() -> None:
    none = QuietHours(dt.time(22, 0), dt.time(22, 0))
    assert not none.enabled
    for hour in range(24):
        assert not none.is_quiet(tehran(hour, 0))
    assert none.next_open(tehran(22, 0)) == tehran(22, 0)
    assert parse("00:00-00:00").enabled is False


def test_a_skipped_hour_opens_the_window_when_clocks_jump() -> None:
    # 2021-03-22 00:00 Tehran time jumped to 01:00 (the last spring of daylight saving):
    # a window ending at 00:30 opened at the jump, 20:30 UTC.
    hours = QuietHours(dt.time(22, 0), dt.time(0, 30))
    at = dt.datetime(2021, 3, 21, 23, 0, tzinfo=TEHRAN)
    assert hours.is_quiet(at)
    opened = hours.next_open(at)
    assert opened == dt.datetime(2021, 3, 21, 20, 30, tzinfo=UTC)
    assert not hours.is_quiet(opened)
    assert hours.is_quiet(opened - dt.timedelta(microseconds=1))


def test_a_repeated_hour_opens_at_its_first_pass() -> None:
    # 2021-09-22 00:00 (+04:30) went back to 2021-09-21 23:00 (+03:30): 23:30 happened twice.
    hours = QuietHours(dt.time(20, 0), dt.time(23, 30))
    first = hours.next_open(dt.datetime(2021, 9, 21, 21, 0, tzinfo=TEHRAN))
    assert first == dt.datetime(2021, 9, 21, 19, 0, tzinfo=UTC)  # 23:30 at +04:30
    # In the second pass of 23:00-23:30 it is quiet again, until 23:30 comes round again.
    again = dt.datetime(2021, 9, 21, 23, 10, fold=1, tzinfo=TEHRAN)
    assert hours.is_quiet(again)
    assert hours.next_open(again) == dt.datetime(2021, 9, 21, 20, 0, tzinfo=UTC)


def test_clocks_jumping_into_the_open_span_open_the_window() -> None:
    # Open only 00:30-01:15. On 2020-03-21 at 00:00 clocks jumped to 01:00, straight into
    # the open span, though 00:30 itself never happened that night.
    hours = QuietHours(dt.time(1, 15), dt.time(0, 30))
    at = dt.datetime(2020, 3, 20, 1, 37, tzinfo=TEHRAN)
    assert hours.next_open(at) == dt.datetime(2020, 3, 20, 20, 30, tzinfo=UTC)


def test_clocks_going_back_into_the_open_span_open_the_window() -> None:
    # Open only 23:00-23:30. At 2021-09-22 00:00 (+04:30) clocks went back to 23:00.
    hours = QuietHours(dt.time(23, 30), dt.time(23, 0))
    at = dt.datetime(2021, 9, 21, 23, 45, tzinfo=TEHRAN)
    assert hours.is_quiet(at)
    assert hours.next_open(at) == dt.datetime(2021, 9, 21, 19, 30, tzinfo=UTC)


def test_naive_moments_are_refused() -> None:
    with pytest.raises(InvalidQuietHours, match="no time zone"):
        DEFAULT_QUIET_HOURS.is_quiet(dt.datetime(2026, 12, 6, 23, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="no time zone"):
        DEFAULT_QUIET_HOURS.next_open(dt.datetime(2026, 12, 6, 23, 0))  # noqa: DTZ001


def test_times_with_a_zone_are_refused() -> None:
    with pytest.raises(InvalidQuietHours, match="wall-clock"):
        QuietHours(dt.time(22, 0, tzinfo=UTC), dt.time(8, 0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22:00-08:00", DEFAULT_QUIET_HOURS),
        (" 22:00 - 08:00 ", DEFAULT_QUIET_HOURS),
        ("۲۲:۰۰–۰۸:۰۰", DEFAULT_QUIET_HOURS),
        ("9:30-17:45", QuietHours(dt.time(9, 30), dt.time(17, 45))),
    ],
)
def test_parse(text: str, expected: QuietHours) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "22-08", "22:00", "24:00-08:00", "22:60-08:00", "22:00-08:00-09:00", "late"]
)
def test_parse_refuses_what_is_not_a_span_of_times(text: str) -> None:
    with pytest.raises(ValueError, match=r"22:00-08:00|time of day"):
        parse(text)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(InvalidQuietHours):
        parse(2200)  # type: ignore[arg-type]


def test_str_round_trips() -> None:
    assert str(DEFAULT_QUIET_HOURS) == "22:00-08:00"
    assert parse(str(QuietHours(dt.time(1, 5), dt.time(6, 0)))) == QuietHours(
        dt.time(1, 5), dt.time(6, 0)
    )


# Naive bounds are what hypothesis takes; the drawn moments are aware (UTC).
_FROM, _TO = dt.datetime(2019, 1, 1), dt.datetime(2030, 12, 31)  # noqa: DTZ001
_MINUTES = st.integers(0, 24 * 60 - 1).map(lambda m: dt.time(m // 60, m % 60))


@given(
    start=_MINUTES,
    end=_MINUTES,
    at=st.datetimes(_FROM, _TO, timezones=st.just(UTC)),
)
def test_next_open_is_the_first_open_instant(start: dt.time, end: dt.time, at: dt.datetime) -> None:
    hours = QuietHours(start, end)
    opened = hours.next_open(at)
    assert opened.utcoffset() == dt.timedelta(0)
    assert at <= opened < at + dt.timedelta(hours=25)
    assert not hours.is_quiet(opened)
    if opened > at:
        assert hours.is_quiet(at)
        assert hours.is_quiet(opened - dt.timedelta(microseconds=1))
        assert hours.is_quiet(at + (opened - at) / 2)
