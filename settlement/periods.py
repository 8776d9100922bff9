"""Settlement period boundaries in Tehran time: a day, a week (Saturday to Friday, as the
Iranian week runs) or a Jalali month. Stored and compared as UTC instants."""

from __future__ import annotations

import datetime as dt

import jdatetime

# The Tehran clock and the Jalali formatting are the core's (mallnet.jalali); this module
# only draws period boundaries with them. Both stay importable from here.
from mallnet.jalali import TEHRAN, jalali_moment, tehran_date

__all__ = ["SATURDAY", "TEHRAN", "jalali_label", "jalali_moment", "period_end"]

SATURDAY = 5  # date.weekday()


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=TEHRAN).astimezone(dt.UTC)


def period_end(length: str, start: dt.datetime) -> dt.datetime:
    """The first boundary after ``start``: the next Tehran midnight, the next Saturday, or
    the first day of the next Jalali month."""
    local_day = tehran_date(start)
    if length == "daily":
        end_day = local_day + dt.timedelta(days=1)
    elif length == "weekly":
        end_day = local_day + dt.timedelta(days=(SATURDAY - local_day.weekday()) % 7 or 7)
    elif length == "monthly":
        j = jdatetime.date.fromgregorian(date=local_day)
        year, month = (j.year + 1, 1) if j.month == 12 else (j.year, j.month + 1)
        end_day = jdatetime.date(year, month, 1).togregorian()
    else:
        raise ValueError(f"unknown period length {length!r}")
    return _local_midnight(end_day)


def jalali_label(start: dt.datetime, end: dt.datetime) -> str:
    """E.g. ``1405/09/10 00:00 – 1405/09/11 00:00`` (Tehran time)."""
    return f"{jalali_moment(start)} – {jalali_moment(end)}"
