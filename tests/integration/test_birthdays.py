"""The birthday gift on SQLite and PostgreSQL: given once a year on the anniversary in the
calendar the member gave her birthday in, through the ledger, with one SMS; never twice,
however often and however many at once the job runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from typing import Any

import jdatetime
import pytest
from sqlalchemy import select, update

from mallnet.config import get_settings
from mallnet.jalali import TEHRAN, tehran_date
from mallnet.messaging.templates import Kind
from shop_node.db.models import (
    BirthdayGiftGiven,
    LedgerTransaction,
    Lot,
    Member,
    Message,
    OutboxEvent,
)
from shop_node.services import birthdays
from shop_node.services.ledger import member_accounts

from ..node_client import TEST_POLICY, NodeClient
from .test_node_club import ledger_problems
from .test_node_messages import outbox, send
from .test_shop_activity import at

GIFT = {"points": 50, "credit_rial": 200_000, "valid_days": 14}
WELCOME = (20, 10_000)  # what TEST_POLICY gives every new member


def on(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``hour:minute`` in Tehran on ``day`` (10:00 by default, outside the quiet hours)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TEHRAN).astimezone(dt.UTC)


def jalali(year: int, month: int, day: int) -> dt.date:
    gregorian: dt.date = jdatetime.date(year, month, day).togregorian()
    return gregorian


def with_gift(node: NodeClient, gift: dict[str, int] | None = GIFT) -> None:
    document = {**TEST_POLICY, "messaging": {"birthday_gift": gift}}
    result = node.op("UpdateClubPolicy", document=document)
    assert result["updateClubPolicy"]["__typename"] == "PolicyUpdated", result


def enrol(
    node: NodeClient, phone: str, birthday: str | None, *, settled: bool = True, **extra: Any
) -> int:
    """A member with this birthday; ``settled``: recorded long ago (a fresh birthday brings
    no gift for 30 days: see the test of an operator's edit)."""
    member = node.op("EnrolMember", input={"phone": phone, "birthday": birthday, **extra})
    assert member["enrolMember"]["__typename"] == "Member", member
    member_id = int(member["enrolMember"]["id"])
    if settled:

        async def long_ago(session: Any) -> None:
            await session.execute(
                update(Member)
                .where(Member.id == member_id)
                .values(birthday_set_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
            )

        node.call(node.runtime.transaction, long_ago)
    return member_id


def give(node: NodeClient, day: dt.date, hour: int = 10) -> int:
    at(node, on(day, hour))
    return node.call(functools.partial(birthdays.give_due, node.runtime))


def balances(node: NodeClient, member_id: int) -> tuple[int, int]:
    async def read(session: Any) -> tuple[int, int]:
        accounts = await member_accounts(session, member_id)
        return accounts.points, accounts.rial

    return node.call(node.runtime.read, read)


def gifts(node: NodeClient) -> list[tuple[int, int]]:
    async def read(session: Any) -> list[tuple[int, int]]:
        query = select(BirthdayGiftGiven.member_id, BirthdayGiftGiven.year)
        rows = await session.execute(query.order_by(BirthdayGiftGiven.given_at))
        return [(member, year) for member, year in rows.all()]

    return node.call(node.runtime.read, read)


def birthday_messages(node: NodeClient) -> list[Message]:
    async def read(session: Any) -> list[Message]:
        query = select(Message).where(Message.kind == Kind.BIRTHDAY.value).order_by(Message.id)
        return list(await session.scalars(query))

    return node.call(node.runtime.read, read)


def birthday_transactions(node: NodeClient) -> list[LedgerTransaction]:
    async def read(session: Any) -> list[LedgerTransaction]:
        query = select(LedgerTransaction).where(LedgerTransaction.reason == "birthday")
        return list(await session.scalars(query.order_by(LedgerTransaction.id)))

    return node.call(node.runtime.read, read)


# 15 Azar 1405 is 6 December 2026: the day of Azar 15th birthdays and 6 December ones.
AZAR_15 = jalali(1405, 9, 15)
assert dt.date(2026, 12, 6) == AZAR_15


def test_each_calendar_s_birthday_gets_one_gift_and_one_sms_on_its_day(node: NodeClient) -> None:
    # Given four members born near 6 December 1996, which was 16 Azar 1375: the calendar
    # each gave her birthday in decides her day.
    with_gift(node)
    azar_15 = enrol(node, "09121110001", "1375/09/15", name="مریم")  # 5 Dec 1996
    dec_6 = enrol(node, "09121110002", "1996-12-06", name="Sara")  # 16 Azar 1375
    azar_16 = enrol(node, "09121110003", "1375/09/16")  # 6 Dec 1996
    dec_5 = enrol(node, "09121110004", "1996-12-05")  # 15 Azar 1375
    nobody = enrol(node, "09121110005", None)
    assert nobody > dec_5 > dec_6 > azar_15

    # When the job runs on 15 Azar 1405 = 6 December 2026
    assert give(node, AZAR_15) == 2
    # Then the Jalali 15 Azar and the Gregorian 6 December get the gift, nobody else.
    assert sorted(gifts(node)) == [(azar_15, 1405), (dec_6, 2026)]
    gift = (WELCOME[0] + 50, WELCOME[1] + 200_000)
    assert balances(node, azar_15) == balances(node, dec_6) == gift
    assert balances(node, azar_16) == balances(node, dec_5) == WELCOME
    transactions = birthday_transactions(node)
    assert sorted(t.idempotency_key for t in transactions) == sorted(
        [f"birthday:{azar_15}:1405", f"birthday:{dec_6}:2026"]
    )
    assert ledger_problems(node) == []

    # The gift lasts the gift's 14 days, not the policy's 365 (points) and 30 (credit).
    async def lots(session: Any) -> list[dt.datetime | None]:
        ids = [t.id for t in transactions]
        return list(
            await session.scalars(select(Lot.expires_at).where(Lot.transaction_id.in_(ids)))
        )

    assert node.call(node.runtime.read, lots) == [on(AZAR_15) + dt.timedelta(days=14)] * 4

    # The hub hears of each new balance.
    async def last_events(session: Any) -> list[str]:
        query = select(OutboxEvent.type).order_by(OutboxEvent.id.desc()).limit(2)
        return list(await session.scalars(query))

    assert node.call(node.runtime.read, last_events) == ["balance.changed"] * 2

    # One SMS each, sent after the commit, saying what the gift is and until when.
    queued = birthday_messages(node)
    assert [(m.subject, m.medium, m.status) for m in queued] == [
        (str(azar_15), "sms", "queued"),
        (str(dec_6), "sms", "queued"),
    ]
    assert send(node).sent >= 2
    texts = [line["text"] for line in outbox(node.settings) if line["kind"] == "birthday"]
    assert len(texts) == 2
    assert texts[0].startswith("تولدتان مبارک مریم! ketab-sara به شما")
    assert "۵۰ امتیاز و ۲۰٬۰۰۰ تومان اعتبار هدیه داد" in texts[0]
    assert "تا ۱۴۰۵/۰۹/۲۹" in texts[0]  # 20 December 2026

    # Again that day, later: nothing more; two runs at once: nothing more either.
    assert give(node, AZAR_15, hour=18) == 0

    async def twice() -> list[int]:
        return list(
            await asyncio.gather(birthdays.give_due(node.runtime), birthdays.give_due(node.runtime))
        )

    assert node.call(twice) == [0, 0]
    # The next day is 16 Azar: her birthday, and nobody else's gift again.
    assert give(node, AZAR_15 + dt.timedelta(days=1)) == 1
    assert gifts(node)[-1] == (azar_16, 1405)
    assert give(node, AZAR_15 + dt.timedelta(days=1), hour=20) == 0
    assert give(node, AZAR_15 + dt.timedelta(days=2)) == 0
    assert len(birthday_messages(node)) == 3

    # Next year: 15 Azar 1406 is 6 December 2027, both birthdays again.
    next_year = jalali(1406, 9, 15)
    assert next_year == dt.date(2027, 12, 6)
    assert give(node, next_year) == 2
    assert sorted(gifts(node)) == [
        (azar_15, 1405),
        (azar_15, 1406),
        (dec_6, 2026),
        (dec_6, 2027),
        (azar_16, 1405),
    ]
    assert give(node, next_year) == 0
    assert len(birthday_messages(node)) == 5
    assert ledger_problems(node) == []


def test_two_jobs_at_once_give_one_gift(node: NodeClient) -> None:
    with_gift(node)
    member = enrol(node, "09121110011", "1370/09/15")
    at(node, on(AZAR_15))

    async def together() -> list[int]:
        jobs = [birthdays.give_due(node.runtime) for _ in range(3)]
        return list(await asyncio.gather(*jobs))

    assert sorted(node.call(together)) == [0, 0, 1]
    assert gifts(node) == [(member, 1405)]
    assert len(birthday_transactions(node)) == 1
    assert len(birthday_messages(node)) == 1
    assert balances(node, member) == (WELCOME[0] + 50, WELCOME[1] + 200_000)
    assert ledger_problems(node) == []


def test_30_esfand_comes_on_29_esfand_in_a_common_year(node: NodeClient) -> None:
    # Born on 30 Esfand 1370 (a leap year); 1404 is a common year, 1408 a leap one.
    with_gift(node, {"points": 10, "credit_rial": 0, "valid_days": 7})
    member = enrol(node, "09121110021", "1370/12/30")
    leap_born_29 = enrol(node, "09121110022", "1370/12/29")
    assert give(node, jalali(1404, 12, 28)) == 0
    assert give(node, jalali(1404, 12, 29)) == 2  # both Esfand birthdays
    assert sorted(gifts(node)) == [(member, 1404), (leap_born_29, 1404)]
    assert give(node, jalali(1405, 1, 1)) == 0
    # In a leap year each has her own day.
    assert give(node, jalali(1408, 12, 29)) == 1
    assert gifts(node)[-1] == (leap_born_29, 1408)
    assert give(node, jalali(1408, 12, 30)) == 1
    assert gifts(node)[-1] == (member, 1408)
    # A points-only gift says so, and nothing about credit.
    texts = [m.text for m in birthday_messages(node)]
    assert len(texts) == 4
    assert "به شما ۱۰ امتیاز هدیه داد" in texts[0]
    assert "تومان" not in texts[0]
    assert ledger_problems(node) == []


def test_29_february_comes_on_28_february_in_a_common_year(node: NodeClient) -> None:
    with_gift(node, {"points": 0, "credit_rial": 50_000, "valid_days": 30})
    member = enrol(node, "09121110031", "1992-02-29")
    assert give(node, dt.date(2026, 2, 27)) == 0
    assert give(node, dt.date(2026, 2, 28)) == 1
    assert give(node, dt.date(2026, 3, 1)) == 0
    assert give(node, dt.date(2027, 2, 28)) == 1
    assert give(node, dt.date(2028, 2, 28)) == 0  # 2028 has its 29th
    assert give(node, dt.date(2028, 2, 29)) == 1
    assert gifts(node) == [(member, 2026), (member, 2027), (member, 2028)]
    assert balances(node, member)[1] == WELCOME[1] + 3 * 50_000
    assert "به شما ۵٬۰۰۰ تومان اعتبار هدیه داد" in birthday_messages(node)[0].text
    assert ledger_problems(node) == []


def test_a_member_who_withdrew_sms_consent_gets_the_gift_but_no_sms(node: NodeClient) -> None:
    with_gift(node)
    member = enrol(node, "09121110041", "1370/09/15")
    update = {"member": {"id": str(member)}, "consentSms": False}
    changed = node.op("UpdateMember", input=update)["updateMember"]
    assert changed["consents"]["sms"] is False, changed
    assert give(node, AZAR_15) == 1
    assert balances(node, member) == (WELCOME[0] + 50, WELCOME[1] + 200_000)
    assert birthday_messages(node) == []
    assert ledger_problems(node) == []


@pytest.mark.parametrize(
    "gift", [None, {"points": 0, "credit_rial": 0, "valid_days": 30}], ids=["none", "empty"]
)
def test_no_gift_in_the_policy_gives_nothing(node: NodeClient, gift: Any) -> None:
    with_gift(node, gift)
    member = enrol(node, "09121110051", "1370/09/15")
    assert give(node, AZAR_15) == 0
    assert gifts(node) == []
    assert balances(node, member) == WELCOME
    assert birthday_messages(node) == []
    # A gift added later that day is given on the next run.
    with_gift(node)
    assert give(node, AZAR_15) == 1


def test_the_gift_waits_for_the_quiet_hours_to_end(node: NodeClient) -> None:
    with_gift(node)
    enrol(node, "09121110061", "1370/09/15")
    assert give(node, AZAR_15, hour=0) == 0  # 00:00-08:00 in Tehran is quiet
    assert give(node, AZAR_15, hour=7) == 0
    assert give(node, AZAR_15, hour=8) == 1
    assert give(node, AZAR_15, hour=23) == 0


def test_the_celery_task_gives_today_s_gifts_once(
    node: NodeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """node.birthdays as a worker runs it: its own engine, the real clock."""
    with_gift(node)
    today = tehran_date(dt.datetime.now(dt.UTC))
    member = enrol(node, "09121110071", f"1992-{today:%m-%d}")  # 1992: 29 February too
    monkeypatch.setenv("MALLNET_DATA_DIR", str(node.settings.data_dir))
    monkeypatch.setenv("MALLNET_QUIET_HOURS", "00:00-00:00")  # any hour the test runs at
    if node.settings.node_database_url:
        monkeypatch.setenv("MALLNET_NODE_DATABASE_URL", node.settings.node_database_url)
    from shop_node.tasks import give_birthday_gifts

    get_settings.cache_clear()
    try:
        assert give_birthday_gifts("ketab-sara") == 1
        assert give_birthday_gifts("ketab-sara") == 0
    finally:
        get_settings.cache_clear()
    assert [m for m, _year in gifts(node)] == [member]


# Every Jalali day of the birth years 1200-1450 (1821-2072), by where each year it fell.
@functools.cache
def _fell_on() -> dict[tuple[int, int], frozenset[int]]:
    fell: dict[tuple[int, int], set[int]] = {}
    for year in range(1200, 1451):
        start = jdatetime.date(year, 1, 1)
        for offset in range(366 if start.isleap() else 365):
            day = start + dt.timedelta(days=offset)
            g = day.togregorian()
            fell.setdefault((day.month, day.day), set()).add(g.month * 100 + g.day)
    return {key: frozenset(value) for key, value in fell.items()}


def test_the_database_window_holds_every_jalali_birthday_of_today() -> None:
    """The query's month/day window (birthdays.WINDOW_DAYS) must hold the Gregorian
    month/day of every birthday that may be today's, whatever the year she was born:
    checked for every day from 1390 to 1430."""
    fell = _fell_on()
    day = jalali(1390, 1, 1)
    while day < jalali(1431, 1, 1):
        today = jdatetime.date.fromgregorian(date=day)
        window = set(birthdays.nearby_month_days(day))
        due = fell[(today.month, today.day)]
        if (today.month, today.day) == (12, 29) and not today.isleap():
            due |= fell[(12, 30)]
        assert due <= window, (day, sorted(due - window))
        day += dt.timedelta(days=1)


def test_a_birthday_set_to_today_brings_no_gift_until_it_has_settled(node: NodeClient) -> None:
    """An operator may edit members, not give value: setting someone's birthday to today
    must not mint this year's gift (review finding F7). A birthday recorded 30 days or more
    before its day brings the gift."""
    with_gift(node)
    today = dt.date(2026, 12, 6)
    at(node, on(today - dt.timedelta(days=90)))
    member = enrol(node, "09121110081", "1990-03-03", settled=False)
    at(node, on(today, 9))
    operator = node.token_for(["shop:operate"])
    ref = {"phone": "09121110081"}
    changed = node.raw(
        "UpdateMember", token=operator, input={"member": ref, "birthday": f"1990-{today:%m-%d}"}
    )
    assert changed["data"]["updateMember"]["__typename"] == "Member", changed
    assert member == int(changed["data"]["updateMember"]["id"])
    assert give(node, today) == 0
    assert gifts(node) == []
    # Next year, the birthday long settled: the gift comes.
    assert give(node, today.replace(year=2027)) == 1
