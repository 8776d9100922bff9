"""Each shop's sales per Tehran day, as its purchase and refund events report them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import ShopSalesDay
from mallnet.jalali import TEHRAN
from mallnet.jalali import tehran_date as tehran_day

SALES: Table = ShopSalesDay.__table__  # type: ignore[assignment]


async def record(
    session: AsyncSession, shop: str, at: dt.datetime, amount_rial: int, purchases: int
) -> None:
    """Add a purchase (or subtract a refund) to the shop's day: one upsert."""
    conn = await session.connection()
    dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect(SALES).values(
        shop=shop, day=tehran_day(at), sales_rial=amount_rial, purchases=purchases
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["shop", "day"],
            set_={
                "sales_rial": SALES.c.sales_rial + stmt.excluded.sales_rial,
                "purchases": SALES.c.purchases + stmt.excluded.purchases,
            },
        )
    )


async def between(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Each shop's sales on the Tehran days that begin within [start, end): a day belongs
    to the period its midnight falls in, so periods cut short never count a day twice."""
    first = tehran_day(start)
    if dt.datetime.combine(first, dt.time(), tzinfo=TEHRAN) < start:
        first += dt.timedelta(days=1)
    last = tehran_day(end - dt.timedelta(microseconds=1))
    rows = await session.execute(
        select(ShopSalesDay.shop, func.sum(ShopSalesDay.sales_rial))
        .where(ShopSalesDay.day >= first, ShopSalesDay.day <= last)
        .group_by(ShopSalesDay.shop)
    )
    return {shop: int(total or 0) for shop, total in rows.all()}
