"""Quiet hours: when a shop's messages wait rather than wake people up, in Tehran time.

A purchase receipt at 23:00 is expected, but a campaign or an expiry reminder at 23:00 is
a nuisance, and a member annoyed at night opts out for good. The dispatcher
asks :meth:`QuietHours.is_quiet` before a message that may wait, and holds it until
:meth:`QuietHours.next_open`. The window is a wall-clock span in Tehran, 22:00–08:00 by
default, and may cross midnight; a span whose start equals its end is no quiet hours at
all (a shop that turned them off).

Iran has kept UTC+03:30 all year since 2022, but timestamps from earlier years, and any
future change, go through the tz database, so a wall-clock time that was skipped or
repeated when clocks moved is handled rather than assumed away.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from mallnet.digits import normalize_digits
from mallnet.jalali import TEHRAN
from mallnet.phone import describe_input

__all__ = ["DEFAULT_QUIET_HOURS", "InvalidQuietHours", "QuietHours", "parse"]

_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})")
_TICK = dt.timedelta(microseconds=1)


class InvalidQuietHours(ValueError):
    """The quiet hours are not two 24-hour ``HH:MM`` times, or a time is not usable."""


def _utc(at: dt.datetime) -> dt.datetime:
    if not isinstance(at, dt.datetime):
        raise InvalidQuietHours(f"expected a datetime.datetime, got a {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidQuietHours(
            f"{at.isoformat()} has no time zone, so no time in Tehran: give an aware datetime"
        )
    return at.astimezone(dt.UTC)


@dataclass(frozen=True)
class QuietHours:
    """Tehran wall-clock times: quiet from ``start`` (included) to ``end`` (excluded)."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        for which in (self.start, self.end):
            if not isinstance(which, dt.time) or which.tzinfo is not None:
                raise InvalidQuietHours(
                    "quiet hours are Tehran wall-clock times: give datetime.time values "
                    f"without a time zone, got {which!r}"
                )

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def is_quiet(self, at: dt.datetime) -> bool:
        """Whether the moment ``at`` (aware) falls in the window, by Tehran's clock."""
        clock = _utc(at).astimezone(TEHRAN).time()
        if not self.enabled:
            return False
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """The first instant at or after ``at`` when messages may go, as aware UTC:
        ``at`` itself when it is not quiet, else the window's end on Tehran's clock."""
        now = _utc(at)
        if not self.is_quiet(now):
            return now
        today = now.astimezone(TEHRAN).date()
        # Quiet turns to open only where Tehran's clock reaches the end, or where the clocks
        # themselves move: a jump past the end, or back into the open span. So the first
        # open one of those instants is the first open instant. Each wall-clock end is read
        # both ways (a time repeated when clocks went back is two instants).
        candidates = [
            dt.datetime.combine(today + dt.timedelta(days=days), self.end, tzinfo=TEHRAN)
            .replace(fold=fold)
            .astimezone(dt.UTC)
            for days in (0, 1, 2)
            for fold in (0, 1)
        ]
        moved = _clock_change(now, now + dt.timedelta(days=3))
        candidates += [moved] if moved is not None else []
        opened = min((c for c in candidates if c > now and not self.is_quiet(c)), default=None)
        assert opened is not None, f"{self} never opens after {now.isoformat()}"
        return opened


def _clock_change(after: dt.datetime, until: dt.datetime) -> dt.datetime | None:
    """The instant in (after, until] when Tehran's UTC offset changed, if it did. Offsets
    change at most twice a year, so a span of days holds at most one change."""
    before = after.astimezone(TEHRAN).utcoffset()
    if until.astimezone(TEHRAN).utcoffset() == before:
        return None
    low, high = after, until
    while high - low > _TICK:
        middle = low + (high - low) / 2
        if middle.astimezone(TEHRAN).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


DEFAULT_QUIET_HOURS = QuietHours(dt.time(22, 0), dt.time(8, 0))


def parse(text: str) -> QuietHours:
    """``"22:00-08:00"`` (24-hour, Tehran time; Persian digits and an en dash accepted) as
    :class:`QuietHours`; ``"00:00-00:00"`` (start equals end) means none."""
    if not isinstance(text, str):
        raise InvalidQuietHours(
            f"quiet hours must be text like 22:00-08:00, got {describe_input(text)}"
        )
    match = _SPAN.fullmatch(normalize_digits(text.strip()))
    if match is None:
        raise InvalidQuietHours(
            f"unrecognised quiet hours {describe_input(text, 20)}: expected two 24-hour "
            "times like 22:00-08:00 (start-end, Tehran time)"
        )
    hour1, minute1, hour2, minute2 = (int(g) for g in match.groups())
    for hour, minute in ((hour1, minute1), (hour2, minute2)):
        if hour > 23 or minute > 59:
            raise InvalidQuietHours(
                f"{hour:02d}:{minute:02d} in {describe_input(text, 20)} is not a time of day: "
                "hours run 00-23 and minutes 00-59"
            )
    return QuietHours(dt.time(hour1, minute1), dt.time(hour2, minute2))
