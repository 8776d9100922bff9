"""Dates as Iranians write them: Jalali (Solar Hijri), in Tehran time.

Members give birthdays and staff pick campaign dates in the Jalali calendar
(``1370/05/12``), sometimes in Gregorian, often with Persian digits. The database and all
logic use Gregorian :class:`datetime.date` and aware UTC timestamps; this module converts
at the edges so no other code needs to know about the calendar or the time zone.

A moment (an aware :class:`datetime.datetime`) is shown by its day **in Tehran**: a purchase
at 01:00 Tehran time is 21:30 UTC of the day before, and belongs to the Tehran day.
:func:`tehran_date` is the one place that takes that day; every formatter here goes through
it, and a naive datetime (no time zone, so no day) is refused rather than guessed.
"""

from __future__ import annotations

import datetime
import re
from typing import Final
from zoneinfo import ZoneInfo

import jdatetime

from mallnet.digits import normalize_digits, to_persian_digits
from mallnet.phone import describe_input

__all__ = [
    "JALALI_YEAR_LIMIT",
    "MAX_INPUT_LENGTH",
    "TEHRAN",
    "InvalidDate",
    "jalali_moment",
    "parse_date",
    "parse_moment",
    "tehran_date",
    "to_jalali_str",
]

MAX_INPUT_LENGTH = 20
JALALI_YEAR_LIMIT = 1700
"""A year below this is read as Jalali, otherwise as Gregorian."""

TEHRAN: Final = ZoneInfo("Asia/Tehran")
"""UTC+03:30 since Iran dropped daylight saving in 2022 (+04:30 in earlier summers, as the
tz database records)."""

_EXPECTED_SHAPE = "a date like 1370/05/12 (Jalali) or 1991-08-03 (Gregorian)"
_DATE = re.compile(r"(?P<y>[0-9]{4})(?P<sep>[/-])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})")


class InvalidDate(ValueError):
    """The text is not a valid Jalali or Gregorian date, or a date cannot be shown."""


def _shown(raw: object) -> str:
    return describe_input(raw, MAX_INPUT_LENGTH)


def _in_tehran(at: datetime.datetime) -> datetime.datetime:
    if not isinstance(at, datetime.datetime):
        raise InvalidDate(f"expected a datetime.datetime, got a {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidDate(
            f"{at.isoformat()} has no time zone, so no day in Tehran: give an aware datetime "
            "(UTC, as the database stores it)"
        )
    return at.astimezone(TEHRAN)


def tehran_date(at: datetime.datetime) -> datetime.date:
    """The calendar day of the moment ``at`` in Tehran: 2026-03-20T21:30Z -> 2026-03-21.

    ``at`` must be aware; a naive datetime raises :class:`InvalidDate`.
    """
    return _in_tehran(at).date()


def parse_date(raw: str) -> datetime.date:
    """Parse ``YYYY/MM/DD`` or ``YYYY-MM-DD`` into a Gregorian date.

    A year below 1700 is Jalali (``1370/05/12``), otherwise Gregorian (``1991-08-03``).
    Persian and Arabic-Indic digits are accepted, and month and day may omit the leading
    zero. Raises :class:`InvalidDate` for anything else or for a day that does not exist,
    such as 30 Esfand in a common Jalali year.
    """
    if not isinstance(raw, str):
        raise InvalidDate(f"date must be text: got {_shown(raw)}, expected {_EXPECTED_SHAPE}")
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidDate(
            f"date is longer than {MAX_INPUT_LENGTH} characters: got {_shown(raw)}, "
            f"expected {_EXPECTED_SHAPE}"
        )
    text = normalize_digits(raw.strip())
    if not text:
        raise InvalidDate(f"date is empty: expected {_EXPECTED_SHAPE}")
    match = _DATE.fullmatch(text)
    if match is None:
        raise InvalidDate(f"unrecognised date {_shown(raw)}: expected {_EXPECTED_SHAPE}")
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if year < JALALI_YEAR_LIMIT:
        try:
            gregorian: datetime.date = jdatetime.date(year, month, day).togregorian()
        except ValueError as exc:
            raise InvalidDate(
                f"{_shown(raw)} is not a valid Jalali date ({exc}); "
                f"years below {JALALI_YEAR_LIMIT} are read as Jalali"
            ) from exc
        return gregorian
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise InvalidDate(
            f"{_shown(raw)} is not a valid Gregorian date ({exc}); "
            f"years from {JALALI_YEAR_LIMIT} on are read as Gregorian"
        ) from exc


def calendar_of(raw: str) -> str:
    """Which calendar a date ``parse_date`` accepted was given in: "jalali" or
    "gregorian" (a birthday comes on the anniversary in the calendar it was given in)."""
    match = _DATE.fullmatch(normalize_digits(raw.strip()))
    return "jalali" if match is None or int(match["y"]) < JALALI_YEAR_LIMIT else "gregorian"


def to_jalali_str(d: datetime.date, persian_digits: bool = False) -> str:
    """Format a Gregorian date as a Jalali ``YYYY/MM/DD`` string, zero padded.

    A :class:`datetime.datetime` is a moment: it is shown as its day in Tehran
    (:func:`tehran_date`), never as its UTC day; a naive one raises :class:`InvalidDate`.
    Only dates whose Jalali year is below 1700 (Gregorian up to March 2321) read back as
    Jalali through :func:`parse_date`.
    """
    if isinstance(d, datetime.datetime):
        d = tehran_date(d)
    if not isinstance(d, datetime.date):
        raise InvalidDate(f"expected a datetime.date, got a {type(d).__name__}")
    try:
        jalali = jdatetime.date.fromgregorian(date=d)
    except ValueError as exc:
        raise InvalidDate(f"{d.isoformat()} has no Jalali equivalent ({exc})") from exc
    text = f"{jalali.year:04d}/{jalali.month:02d}/{jalali.day:02d}"
    return to_persian_digits(text) if persian_digits else text


def jalali_moment(at: datetime.datetime) -> str:
    """A moment as its Jalali date and time in Tehran, e.g. ``1405/09/10 14:30`` for
    2026-12-01T11:00Z. ``at`` must be aware."""
    local = _in_tehran(at)
    return f"{to_jalali_str(local.date())} {local:%H:%M}"


def parse_moment(raw: str) -> datetime.datetime:
    """``1405/09/10 18:30`` (Jalali or Gregorian date as :func:`parse_date`, then an
    optional 24-hour ``HH:MM`` or ``HH:MM:SS``) in Tehran time, as a UTC instant."""
    text = normalize_digits(raw.strip()) if isinstance(raw, str) else ""
    day, _, clock = text.partition(" ")
    date = parse_date(day)
    hour = minute = second = 0
    if clock:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", clock.strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
            raise InvalidDate(f"unrecognised time {_shown(raw)}: expected HH:MM after the date")
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    local = datetime.datetime.combine(date, datetime.time(hour, minute, second), tzinfo=TEHRAN)
    return local.astimezone(datetime.UTC)
