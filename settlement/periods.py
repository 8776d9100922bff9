"""Settlement period boundaries in Tehran time: a day, a week (Saturday to Friday, as the
Iranian week runs) or a Jalali month. Stored and compared as UTC instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import jdatetime

TEHRAN = ZoneInfo("Asia/Tehran")
SATURDAY = 5  # date.weekday()


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=TEHRAN).astimezone(dt.UTC)


def period_end(length: str, start: dt.datetime) -> dt.datetime:
    """The first boundary after ``start``: the next Tehran midnight, the next Saturday, or
    the first day of the next Jalali month."""
    local_day = start.astimezone(TEHRAN).date()
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


def jalali_moment(at: dt.datetime) -> str:
    """E.g. ``1405/09/10 14:30``, Tehran time."""
    local = at.astimezone(TEHRAN)
    return str(jdatetime.datetime.fromgregorian(datetime=local).strftime("%Y/%m/%d %H:%M"))


def jalali_label(start: dt.datetime, end: dt.datetime) -> str:
    """E.g. ``1405/09/10 00:00 – 1405/09/11 00:00`` (Tehran time)."""
    return f"{jalali_moment(start)} – {jalali_moment(end)}"
