"""The console's network value report (``networkValueReport``), on SQLite and PostgreSQL:
the value outstanding by issuing shop (live lots only, pooled points at each lot's own
point value, the largest issuer first) and what expires on each coming Tehran day; read by
mall admin and reports, refused to marketing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import Shopper
from hub.services import value
from mallnet.db import utcnow
from mallnet.jalali import TEHRAN, tehran_date

from .test_mall_console_api import (
    ADMIN,
    BOOKS,
    MARKETING,
    REPORTS,
    SHOES,
    _execute,
    _lot,
    _ok,
    sessions,  # noqa: F401 - the fixture
)

REPORT = """query($days: Int!) { networkValueReport(days: $days) {
  byIssuer { shop outstanding { pooledPoints pooledPointsRial generalCreditRial
    targetedCreditRial totalRial } }
  expiring { day outstanding { pooledPoints totalRial } } } }"""


def _tehran_noon(days_ahead: int) -> dt.datetime:
    day = tehran_date(utcnow()) + dt.timedelta(days=days_ahead)
    return dt.datetime.combine(day, dt.time(12), tzinfo=TEHRAN).astimezone(dt.UTC)


async def test_outstanding_by_issuer_and_expiries_ahead(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    # Given value issued by two shops: the bookshop's pooled points at two point values
    # and general credit; the shoe shop's targeted credit; and lots spent or expired
    async with sessions() as session, session.begin():
        session.add(Shopper(pseudonym="p1", created_at=utcnow()))
        await session.flush()
        lots = [
            _lot("p1", "pooled_points", 10, 1_000, _tehran_noon(3)),  # 10,000 Rial in 3 days
            _lot("p1", "pooled_points", 5, 2_000, _tehran_noon(3)),  # 10,000 Rial, same day
            _lot("p1", "general_credit", 70_000, 1, _tehran_noon(200)),
            _lot("p1", "targeted_credit", 150_000, 1, _tehran_noon(10)),
            _lot("p1", "general_credit", 0, 1, _tehran_noon(5)),  # spent
            _lot("p1", "general_credit", 9_999, 1, utcnow() - dt.timedelta(hours=1)),  # expired
        ]
        lots[3].issuer_shop = SHOES
        session.add_all(lots)
    # When mall reports read it with 30 days ahead
    report = (await _ok(sessions, REPORTS, REPORT, days=30))["networkValueReport"]
    # Then the shoe shop owes most; the bookshop's points count at their own values
    assert [i["shop"] for i in report["byIssuer"]] == [SHOES, BOOKS]
    books = report["byIssuer"][1]["outstanding"]
    assert books == {
        "pooledPoints": 15,
        "pooledPointsRial": 20_000,
        "generalCreditRial": 70_000,
        "targetedCreditRial": 0,
        "totalRial": 90_000,
    }
    assert report["byIssuer"][0]["outstanding"]["totalRial"] == 150_000
    # and within 30 days: the points in 3 days and the targeted credit in 10 (not the
    # credit 200 days away, not the spent nor the expired lot)
    ahead = [(e["day"], e["outstanding"]["totalRial"]) for e in report["expiring"]]
    today = tehran_date(utcnow())
    assert ahead == [
        (str(today + dt.timedelta(days=3)), 20_000),
        (str(today + dt.timedelta(days=10)), 150_000),
    ]
    assert report["expiring"][0]["outstanding"]["pooledPoints"] == 15
    # Seven days ahead sees only the points
    week = (await _ok(sessions, ADMIN, REPORT, days=7))["networkValueReport"]
    assert [e["outstanding"]["totalRial"] for e in week["expiring"]] == [20_000]


async def test_marketing_may_not_read_it(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    result = await _execute(sessions, MARKETING, REPORT, days=30)
    assert result.errors is not None
    assert result.data is None or result.data.get("networkValueReport") is None


async def test_point_values_come_newest_first_a_page_at_a_time(
    sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    async with sessions() as session, session.begin():
        for rial in (1_000, 1_500, 2_000):
            await value.set_point_value(session, rial, "mall:1")
    page = await _ok(sessions, ADMIN, "{ pointValues(first: 2) { rialPerPoint } }")
    assert [v["rialPerPoint"] for v in page["pointValues"]] == [2_000, 1_500]
    refused = await _execute(sessions, ADMIN, "{ pointValues(first: 101) { rialPerPoint } }")
    assert refused.errors is not None
