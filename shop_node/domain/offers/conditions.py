"""Whether an offer's conditions hold: over what the node knows of a member at this shop
(``MemberFacts``, read from its own purchases and members — nothing leaves the node) and,
at the till, over the purchase being made (``Purchase``). Pure functions; times are
aware, days and hours are Tehran's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from mallnet.jalali import TEHRAN
from shop_node.domain.offers.definition import (
    All,
    AnyOf,
    AverageBasket,
    BasketAmount,
    BasketHasGroup,
    BirthdayWithin,
    BoughtGroup,
    Condition,
    DaysSinceLastVisit,
    Hours,
    Joined,
    MembershipIs,
    NeverBoughtGroup,
    Not,
    Tagged,
    TierIs,
    TotalSpend,
    VisitGap,
    Visits,
    Weekday,
)


@dataclass(frozen=True)
class Visit:
    """One purchase of the member here (what was paid, its product groups)."""

    at: dt.datetime
    amount_rial: int
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MemberFacts:
    tier: str
    membership_type: str
    joined_at: dt.datetime
    visits: Sequence[Visit] = ()  # oldest first
    tags: frozenset[str] = frozenset()
    birthday: dt.date | None = None


@dataclass(frozen=True)
class Purchase:
    at: dt.datetime
    lines: Sequence[tuple[str, int]] = field(default_factory=tuple)  # (group, Rial)

    @property
    def total_rial(self) -> int:
        return sum(amount for _group, amount in self.lines)


def holds(
    condition: Condition | None,
    member: MemberFacts,
    now: dt.datetime,
    purchase: Purchase | None = None,
) -> bool:
    """Whether ``condition`` holds for ``member`` at ``now`` (and, for purchase conditions,
    for ``purchase``: without one, a purchase condition does not hold). No condition: it
    holds."""
    if condition is None:
        return True
    if isinstance(condition, All):
        return all(holds(c, member, now, purchase) for c in condition.of)
    if isinstance(condition, AnyOf):
        return any(holds(c, member, now, purchase) for c in condition.of)
    if isinstance(condition, Not):
        return not holds(condition.condition, member, now, purchase)
    if isinstance(condition, Weekday | Hours | BasketAmount | BasketHasGroup):
        return purchase is not None and _purchase_holds(condition, purchase)
    return _member_holds(condition, member, now)


def _member_holds(condition: Condition, member: MemberFacts, now: dt.datetime) -> bool:
    visits = member.visits
    if isinstance(condition, Visits):
        return condition.admits(len(visits))
    if isinstance(condition, TotalSpend):
        return condition.admits(sum(v.amount_rial for v in visits))
    if isinstance(condition, AverageBasket):
        recent = visits[-condition.last_visits :] if condition.last_visits else visits
        # The average rounded down: "under 200,000 toman" is not met by 199,999.6.
        return bool(recent) and condition.admits(sum(v.amount_rial for v in recent) // len(recent))
    if isinstance(condition, DaysSinceLastVisit):
        return bool(visits) and condition.admits(_days_between(visits[-1].at, now))
    if isinstance(condition, VisitGap):
        if len(visits) < 2:
            return False
        span = _days_between(visits[0].at, visits[-1].at)
        return condition.admits(span // (len(visits) - 1))
    if isinstance(condition, TierIs):
        return member.tier in condition.codes
    if isinstance(condition, MembershipIs):
        return member.membership_type in condition.types
    if isinstance(condition, Tagged):
        return not member.tags.isdisjoint(condition.any_of)
    if isinstance(condition, BoughtGroup):
        since = (
            None
            if condition.within_days is None
            else _tehran_day(now) - dt.timedelta(days=condition.within_days)
        )
        return any(
            condition.group in v.groups and (since is None or _tehran_day(v.at) >= since)
            for v in visits
        )
    if isinstance(condition, NeverBoughtGroup):
        return all(condition.group not in v.groups for v in visits)
    if isinstance(condition, BirthdayWithin):
        return member.birthday is not None and _birthday_near(
            member.birthday, _tehran_day(now), condition.days_before, condition.days_after
        )
    if isinstance(condition, Joined):
        joined = _tehran_day(member.joined_at)
        return (condition.on_or_after is None or joined >= condition.on_or_after) and (
            condition.before is None or joined < condition.before
        )
    raise TypeError(f"not a member condition: {condition.kind}")


def _purchase_holds(
    condition: Weekday | Hours | BasketAmount | BasketHasGroup, purchase: Purchase
) -> bool:
    if isinstance(condition, BasketAmount):
        return condition.admits(purchase.total_rial)
    if isinstance(condition, BasketHasGroup):
        return any(group in condition.groups and amount > 0 for group, amount in purchase.lines)
    local = purchase.at.astimezone(TEHRAN)
    if isinstance(condition, Weekday):
        # Python's Monday is 0; the Iranian week starts on Saturday (Python's 5).
        return (local.weekday() + 2) % 7 in condition.days
    start, end = _minutes(condition.start), _minutes(condition.end)
    now = local.hour * 60 + local.minute
    return start <= now < end if start <= end else now >= start or now < end


def _minutes(hour_minute: str) -> int:
    hours, minutes = hour_minute.split(":")
    return int(hours) * 60 + int(minutes)


def _tehran_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(TEHRAN).date()


def _days_between(earlier: dt.datetime, later: dt.datetime) -> int:
    """Whole Tehran calendar days from ``earlier`` to ``later``."""
    return (_tehran_day(later) - _tehran_day(earlier)).days


def _birthday_near(birthday: dt.date, today: dt.date, before: int, after: int) -> bool:
    """Whether this year's (or last or next year's) birthday is within the window; 29
    February is kept on 28 February in other years."""
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            day = birthday.replace(year=year)
        except ValueError:
            day = dt.date(year, 2, 28)
        if -before <= (day - today).days <= after:
            return True
    return False
