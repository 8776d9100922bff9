"""Tehran days in SQL: group rows by the Tehran calendar day of a UTC timestamp column.

Tehran has kept +03:30 all year since 2022. PostgreSQL converts with the zone database;
SQLite (the embedded demo) adds the fixed +03:30. The day comes back as a ``date``
(PostgreSQL) or ISO text (SQLite): ``as_date`` reads either.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, cast, func
from sqlalchemy.sql.elements import ColumnElement

from mallnet.jalali import TEHRAN


def tehran_day_of(dialect: str, column: Any) -> ColumnElement[Any]:
    """The Tehran calendar day of ``column`` (a UTC timestamp), as SQL."""
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Tehran", column), Date)
    return func.date(column, "+210 minutes")


def as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def start_of_tehran_day(day: dt.date) -> dt.datetime:
    """The UTC moment the Tehran day ``day`` begins."""
    return dt.datetime.combine(day, dt.time(), tzinfo=TEHRAN).astimezone(dt.UTC)
