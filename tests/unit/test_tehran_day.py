"""A moment is shown on its day in Tehran, never on its UTC day.

Tehran is UTC+03:30 (no summer time since 2022), so from 00:00 to 03:30 Tehran time the UTC
date is still the day before: a purchase at 01:00 on 1 Farvardin is 21:30 UTC on 29 Esfand.
These are the day boundaries every Jalali formatter of mallnet.jalali goes through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.jalali import (
    TEHRAN,
    InvalidDate,
    jalali_moment,
    parse_moment,
    tehran_date,
    to_jalali_str,
)
from settlement.periods import jalali_label, period_end

UTC = dt.UTC


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "day", "jalali"),
    [
        # Nowruz 1405: 1 Farvardin begins at 2026-03-20T20:30Z.
        ("2026-03-20T20:29:59", dt.date(2026, 3, 20), "1404/12/29"),
        ("2026-03-20T20:30:00", dt.date(2026, 3, 21), "1405/01/01"),
        # 01:00 Tehran on Nowruz, the node's case: the UTC date is still 20 March.
        ("2026-03-20T21:30:00", dt.date(2026, 3, 21), "1405/01/01"),
        # 03:29:59 Tehran: the last second whose UTC date is the day before.
        ("2026-03-20T23:59:59", dt.date(2026, 3, 21), "1405/01/01"),
        # 03:30 Tehran: UTC midnight, both calendars agree again.
        ("2026-03-21T00:00:00", dt.date(2026, 3, 21), "1405/01/01"),
        # 23:59 Tehran: the same day in both.
        ("2026-03-21T20:29:00", dt.date(2026, 3, 21), "1405/01/01"),
        ("2026-03-21T20:30:00", dt.date(2026, 3, 22), "1405/01/02"),
        # The end of a Jalali month: 30 Azar 1405 ends at 2026-12-21T20:30Z.
        ("2026-12-21T20:29:59", dt.date(2026, 12, 21), "1405/09/30"),
        ("2026-12-21T20:30:00", dt.date(2026, 12, 22), "1405/10/01"),
    ],
)
def test_the_day_of_a_moment_is_its_tehran_day(at: str, day: dt.date, jalali: str) -> None:
    moment = utc(at)
    assert tehran_date(moment) == day
    assert to_jalali_str(moment) == jalali
    assert to_jalali_str(tehran_date(moment)) == jalali
    assert jalali_moment(moment).split(" ")[0] == jalali


def test_a_moment_in_another_offset_is_the_same_tehran_day() -> None:
    in_utc = utc("2026-03-20T21:30:00")
    in_tehran = in_utc.astimezone(TEHRAN)
    in_berlin = in_utc.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert tehran_date(in_utc) == tehran_date(in_tehran) == tehran_date(in_berlin)
    assert tehran_date(in_berlin) == dt.date(2026, 3, 21)


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        ("2026-03-20T20:29:59", "1404/12/29 23:59"),
        ("2026-03-20T20:30:00", "1405/01/01 00:00"),
        ("2026-03-20T21:30:00", "1405/01/01 01:00"),
        ("2026-12-01T11:00:00", "1405/09/10 14:30"),
    ],
)
def test_a_moment_is_shown_in_tehran_time(at: str, shown: str) -> None:
    assert jalali_moment(utc(at)) == shown


def test_a_moment_round_trips_through_tehran_time() -> None:
    moment = utc("2026-03-20T21:30:00")
    assert parse_moment(jalali_moment(moment)) == moment


def test_before_2022_summer_time_was_plus_four_thirty() -> None:
    """The tz database keeps Iran's old summer time: 2021-07-01T19:45Z was 00:15 on
    11 Tir in Tehran (+04:30), so even 20:00 UTC could be the next Tehran day."""
    moment = utc("2021-07-01T19:45:00")
    assert moment.astimezone(TEHRAN).utcoffset() == dt.timedelta(hours=4, minutes=30)
    assert tehran_date(moment) == dt.date(2021, 7, 2)
    assert jalali_moment(moment) == "1400/04/11 00:15"


def test_a_settlement_period_is_labelled_by_tehran_midnights() -> None:
    start = utc("2026-03-20T20:30:00")  # 00:00 on Nowruz, Tehran time
    end = period_end("daily", start)
    assert end == utc("2026-03-21T20:30:00")
    assert jalali_label(start, end) == "1405/01/01 00:00 – 1405/01/02 00:00"


@pytest.mark.parametrize("show", [tehran_date, to_jalali_str, jalali_moment])
def test_a_naive_moment_is_refused_not_guessed(show: Callable[[dt.datetime], object]) -> None:
    naive = dt.datetime(2026, 3, 20, 21, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidDate, match=r"2026-03-20T21:30:00 has no time zone"):
        show(naive)


def test_tehran_date_takes_a_moment_not_a_date() -> None:
    with pytest.raises(InvalidDate, match=r"expected a datetime\.datetime, got a date"):
        tehran_date(dt.date(2026, 3, 21))  # type: ignore[arg-type]


@given(
    st.datetimes(
        min_value=dt.datetime(2022, 9, 22),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_tehran_day_is_the_utc_day_three_and_a_half_hours_later(moment: dt.datetime) -> None:
    # Since Iran dropped summer time, Tehran is a fixed UTC+03:30.
    assert tehran_date(moment) == (moment + dt.timedelta(hours=3, minutes=30)).date()
