"""The birthday gift: once a year, on the member's birthday, what the club's policy gives.

Beat runs :func:`give_due` every hour for each shop. A birthday comes on its anniversary in
the calendar the member gave it in (``Member.birthday_calendar``; none recorded means
Jalali, as nearly everyone here gives it): 30 Esfand, which only leap Jalali years have,
is kept on 29 Esfand in the others, and 29 February on 28 February. The gift's year is the
Jalali year for a Jalali birthday and the Gregorian year otherwise, and the
``birthday_gifts`` row of (member, year) — its primary key — is what makes a second gift
that year impossible, however many runs and workers there are.

Finding the members whose birthday is today without reading every member each hour:
birthdays are stored as Gregorian dates, and a Jalali day falls on a Gregorian month/day
that moves by a day or so between years (30 Dey was 20 January in 1370 and 19 January in
1403), so no single month/day names a Jalali birthday. The database is asked for the
members without this year's gift whose birthday's month/day lies within three days of
today's — every Jalali day of the years 1200 to 1450 falls within two days of where it
falls this year (a test checks each of them against every day from 1390 to 1430) — and
Python then decides exactly. That reads about 2% of the members with a birthday, and needs
nothing new stored: no column of birthdays in Jalali, no migration. SQLAlchemy's
``extract`` compiles to ``strftime`` on SQLite and ``EXTRACT`` on PostgreSQL, so one query
serves both. (Neither database has an index on the month/day; the scan stays in SQL.)

The gift waits for the end of the shop's quiet hours (when it has any, and they end
today): it comes with an SMS, and a greeting at midnight wakes people up.
"""

from __future__ import annotations

import datetime as dt
from calendar import isleap
from collections.abc import Sequence
from dataclasses import dataclass

import jdatetime
from sqlalchemy import exists, extract, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.jalali import tehran_date
from mallnet.messaging.templates import Kind, Values
from shop_node.db.models import BirthdayGiftGiven, Member
from shop_node.domain.policy import BirthdayGift, ClubPolicy
from shop_node.services import notify, outbox
from shop_node.services.ledger import Ledger, Leg, MemberAccounts
from shop_node.services.members import grant_legs
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

# How far (in days) the database's month/day filter reaches either side of today; see the
# module's docstring for why a Jalali birthday needs more than today's month/day.
WINDOW_DAYS = 3
_PAGE = 500


@dataclass(frozen=True)
class Anniversary:
    """Today, as each calendar names it."""

    today: dt.date  # Gregorian, in Tehran
    jalali: jdatetime.date

    @classmethod
    def of(cls, today: dt.date) -> Anniversary:
        return cls(today, jdatetime.date.fromgregorian(date=today))


def gift_year(birthday: dt.date, calendar: str | None, on: Anniversary) -> int | None:
    """The year whose gift is due today for this birthday, or None when today is not her
    birthday. ``calendar`` None (nothing recorded) is read as Jalali."""
    if calendar == "gregorian":
        today = on.today
        if (birthday.month, birthday.day) == (today.month, today.day):
            return today.year
        leap_day = (birthday.month, birthday.day) == (2, 29)
        if leap_day and (today.month, today.day) == (2, 28) and not isleap(today.year):
            return today.year
        return None
    born = jdatetime.date.fromgregorian(date=birthday)
    today_j = on.jalali
    if (born.month, born.day) == (today_j.month, today_j.day):
        return today_j.year
    last_day = (born.month, born.day) == (12, 30)
    if last_day and (today_j.month, today_j.day) == (12, 29) and not today_j.isleap():
        return today_j.year
    return None


def nearby_month_days(today: dt.date, reach: int = WINDOW_DAYS) -> list[int]:
    """``month * 100 + day`` of the days within ``reach`` of ``today``, and 29 February
    whenever the window touches the end of February (it is kept on the 28th in other
    years, and a Jalali day may fall on it in leap years)."""
    days = {today + dt.timedelta(days=offset) for offset in range(-reach, reach + 1)}
    shown = {d.month * 100 + d.day for d in days}
    if shown & {228, 301}:
        shown.add(229)
    return sorted(shown)


def gift_of(policy: ClubPolicy) -> BirthdayGift | None:
    """The policy's birthday gift, when it gives anything."""
    gift = policy.messaging.birthday_gift
    if gift is None or (gift.points <= 0 and gift.credit_rial <= 0):
        return None
    return gift


def _waits_for_quiet_hours(runtime: NodeRuntime, now: dt.datetime) -> bool:
    """Inside the quiet hours the gift waits, unless they last past today's end (the gift
    belongs to the day; a shop quiet until tomorrow gets it now)."""
    if not runtime.quiet.is_quiet(now):
        return False
    return tehran_date(runtime.quiet.next_open(now)) == tehran_date(now)


# A birthday given or changed less than this long ago brings no gift yet: otherwise staff
# who may edit members (an operator) could mint a gift by setting anyone's birthday to today.
SETTLED = dt.timedelta(days=30)


def settled_long_enough(member: Member, now: dt.datetime) -> bool:
    """Whether her birthday was recorded at least :data:`SETTLED` ago (a birthday recorded
    before the date of each change was kept counts as settled)."""
    return member.birthday_set_at is None or member.birthday_set_at <= now - SETTLED


async def _candidates(
    runtime: NodeRuntime, on: Anniversary, after: int
) -> list[tuple[int, dt.date, str | None]]:
    """A page of members (id order, from ``after``) whose birthday is near today and who
    have no gift of this year yet: (id, birthday, calendar)."""
    month_day = extract("month", Member.birthday) * 100 + extract("day", Member.birthday)
    # A Jalali year (below 1700) and a Gregorian one never share a number, so "this
    # year's gift" is either, whichever calendar hers is in.
    given = exists().where(
        BirthdayGiftGiven.member_id == Member.id,
        BirthdayGiftGiven.year.in_([on.jalali.year, on.today.year]),
    )
    query = (
        select(Member.id, Member.birthday, Member.birthday_calendar)
        .where(
            Member.birthday.is_not(None),
            Member.id > after,
            month_day.in_(nearby_month_days(on.today)),
            ~given,
        )
        .order_by(Member.id)
        .limit(_PAGE)
    )

    async def read(session: AsyncSession) -> list[tuple[int, dt.date, str | None]]:
        rows = (await session.execute(query)).all()
        return [(id_, birthday, calendar) for id_, birthday, calendar in rows if birthday]

    return await runtime.read(read)


async def _claim(session: AsyncSession, member_id: int, year: int, now: dt.datetime) -> bool:
    """Mark this year's gift as given, in the caller's transaction; False when it was.
    A second worker's insert waits for the first one's commit and then does nothing."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(BirthdayGiftGiven)
        .values(member_id=member_id, year=year, given_at=now)
        .on_conflict_do_nothing(index_elements=["member_id", "year"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _legs(
    ledger: Ledger, accounts: MemberAccounts, gift: BirthdayGift, policy: ClubPolicy
) -> list[Leg]:
    """The gift as new lots that last the gift's own ``valid_days``, not the policy's
    validity for earned points and credit (``grant_legs`` reads it from the policy)."""
    lasting = policy.model_copy(
        update={"points_valid_days": gift.valid_days, "credit_valid_days": gift.valid_days}
    )
    return [
        *grant_legs(ledger, accounts, "points", gift.points, lasting, ledger.now),
        *grant_legs(ledger, accounts, "rial", gift.credit_rial, lasting, ledger.now),
    ]


async def _give(runtime: NodeRuntime, member_id: int, on: Anniversary, now: dt.datetime) -> int:
    """One member's gift, its balance event and its message in one transaction; 1 when
    given, 0 when it is not due (any more) or was given already."""

    async def work(session: AsyncSession) -> int:
        _version, policy = await current_policy(session, runtime)
        gift = gift_of(policy)
        member = await session.get(Member, member_id)
        if gift is None or member is None or member.birthday is None:
            return 0
        if not settled_long_enough(member, now):
            return 0
        # Read again inside the transaction: her birthday may have been corrected since.
        year = gift_year(member.birthday, member.birthday_calendar, on)
        if year is None or not await _claim(session, member.id, year, now):
            return 0
        key = f"birthday:{member.id}:{year}"
        ledger = Ledger(session, runtime.system_accounts, now)
        accounts = await ledger.lock_member(member.id)
        recorded = await ledger.record(
            key=key,
            reason="birthday",
            reference=f"member:{member.card_code}",
            member_id=member.id,
            actor="system:birthday",
            legs=_legs(ledger, accounts, gift, policy),
            memo=f"birthday gift of {year}",
        )
        after = recorded.after(accounts)
        balance = await outbox.balance_now(session, runtime, member, after.points, after.rial)
        await outbox.emit(session, now, [balance])
        until = tehran_date(now + dt.timedelta(days=gift.valid_days))
        values = Values(
            points=gift.points or None, credit_rial=gift.credit_rial or None, date=until
        )
        await notify.tell(session, runtime, policy, member, Kind.BIRTHDAY, values, key=key)
        return 1

    return await runtime.transaction(work)


async def give_due(runtime: NodeRuntime, *, limit: int = 500) -> int:
    """Give today's birthday gifts (at most ``limit`` in this run; the next run gives the
    rest); returns how many were given. Safe to run again and at once in two workers."""
    now = runtime.clock()

    async def policy_now(session: AsyncSession) -> ClubPolicy:
        return (await current_policy(session, runtime))[1]

    if gift_of(await runtime.read(policy_now)) is None or _waits_for_quiet_hours(runtime, now):
        return 0
    on = Anniversary.of(tehran_date(now))
    given = 0
    after = 0
    while given < limit:
        page = await _candidates(runtime, on, after)
        for member_id in _due(page, on):
            given += await _give(runtime, member_id, on, now)
            if given >= limit:
                break
        if len(page) < _PAGE:
            break
        after = page[-1][0]
    return given


def _due(page: Sequence[tuple[int, dt.date, str | None]], on: Anniversary) -> list[int]:
    return [
        id_ for id_, birthday, calendar in page if gift_year(birthday, calendar, on) is not None
    ]
