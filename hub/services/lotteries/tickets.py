"""Tickets from the purchase events the shops relay: once per purchase, taken back by a
refund before the draw; a shopper's standing in each lottery, and her entrant id there
(what the published list names instead of her pseudonym)."""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, Table, and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    CampaignShop,
    Lottery,
    LotteryEntrant,
    LotteryEntry,
)
from hub.domain import draw as fair
from hub.services.lotteries.setup import TicketRules
from mallnet.db import utcnow

ENTRANTS: Table = LotteryEntrant.__table__  # type: ignore[assignment]


async def enter_purchase(
    session: AsyncSession,
    shop: str,
    event_id: str,
    receipt: str,
    pseudonym: str,
    amount_rial: int,
    at: dt.datetime,
) -> int:
    """A purchase at ``shop`` enters every open lottery it takes part in (once per purchase:
    the entry's key is the event), its shopper with an entrant id there from her first.
    Returns how many lotteries it entered."""
    lotteries = (
        await session.scalars(
            select(Lottery.id)
            .join(CampaignShop, CampaignShop.event_id == Lottery.id)
            .where(
                CampaignShop.shop == shop,
                CampaignShop.status == "accepted",
                Lottery.status == "open",
                Lottery.starts_at <= at,
                Lottery.ends_at > at,
            )
        )
    ).all()
    for lottery_id in lotteries:
        seen = await session.get(LotteryEntry, (lottery_id, event_id))
        if seen is None:
            await _enrol(session, lottery_id, pseudonym)
            session.add(
                LotteryEntry(
                    lottery_id=lottery_id,
                    event_id=event_id,
                    shop=shop,
                    receipt=receipt,
                    pseudonym=pseudonym,
                    amount_rial=amount_rial,
                    refunded_rial=0,
                    created_at=utcnow(),
                )
            )
    await session.flush()
    return len(lotteries)


async def _enrol(session: AsyncSession, lottery_id: str, pseudonym: str) -> None:
    """Give the shopper her entrant id in the lottery, made at random, unless she has one:
    one upsert, as two shops' intakes may meet the same new entrant at once."""
    conn = await session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(
        insert(ENTRANTS)
        .values(
            lottery_id=lottery_id,
            pseudonym=pseudonym,
            entrant_id=fair.new_entrant_id(),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["lottery_id", "pseudonym"])
    )


async def refund_purchase(session: AsyncSession, shop: str, receipt: str, amount_rial: int) -> int:
    """A refund before the draw takes back the tickets of what was refunded."""
    entries = (
        await session.scalars(
            select(LotteryEntry)
            .join(Lottery, Lottery.id == LotteryEntry.lottery_id)
            .where(
                LotteryEntry.shop == shop,
                LotteryEntry.receipt == receipt,
                Lottery.status == "open",
            )
            .with_for_update()
        )
    ).all()
    for entry in entries:
        entry.refunded_rial = min(entry.amount_rial, entry.refunded_rial + amount_rial)
    await session.flush()
    return len(entries)


def tickets_for(r: TicketRules, spent_rial: int, shops: int) -> int:
    """One ticket per ``rial_per_ticket`` spent, a bonus per participating shop visited
    (one where something was left after refunds), at most ``max_per_shopper``."""
    tickets = spent_rial // r.rial_per_ticket + r.bonus_per_shop * shops
    return tickets if r.max_per_shopper is None else min(tickets, r.max_per_shopper)


_NET = LotteryEntry.amount_rial - LotteryEntry.refunded_rial


async def standings(
    session: AsyncSession, lottery: Lottery, pseudonym: str | None = None
) -> list[tuple[str, int]]:
    """Every shopper (or just ``pseudonym``) and her tickets now, by pseudonym: the hub's
    own view, never published."""
    entries = select(
        LotteryEntry.pseudonym.label("who"), LotteryEntry.shop, func.sum(_NET).label("spent")
    ).where(LotteryEntry.lottery_id == lottery.id)
    if pseudonym is not None:
        entries = entries.where(LotteryEntry.pseudonym == pseudonym)
    return await _tally(
        session, lottery, entries.group_by(LotteryEntry.pseudonym, LotteryEntry.shop)
    )


async def entrant_standings(session: AsyncSession, lottery: Lottery) -> list[tuple[str, int]]:
    """Every entrant's id and tickets now, in canonical order: the list a draw freezes and
    publishes, which names no pseudonym."""
    entries = (
        select(
            LotteryEntrant.entrant_id.label("who"), LotteryEntry.shop, func.sum(_NET).label("spent")
        )
        .join(
            LotteryEntrant,
            and_(
                LotteryEntrant.lottery_id == LotteryEntry.lottery_id,
                LotteryEntrant.pseudonym == LotteryEntry.pseudonym,
            ),
        )
        .where(LotteryEntry.lottery_id == lottery.id)
        .group_by(LotteryEntrant.entrant_id, LotteryEntry.shop)
    )
    return await _tally(session, lottery, entries)


async def _tally(
    session: AsyncSession, lottery: Lottery, per_shop_spent: Select[str, str, int]
) -> list[tuple[str, int]]:
    """Tickets by the lottery's rules from each one's spending per shop (``who``, ``shop``,
    ``spent``), in ascending ``who``; those with none left out."""
    per_shop = per_shop_spent.subquery()
    rows = await session.execute(
        select(
            per_shop.c.who,
            func.sum(per_shop.c.spent),
            func.count().filter(per_shop.c.spent > 0),
        ).group_by(per_shop.c.who)
    )
    rules, out = TicketRules.model_validate(lottery.rules), []
    for who, spent, shops in rows.all():
        tickets = tickets_for(rules, int(spent or 0), int(shops or 0))
        if tickets > 0:
            out.append((who, tickets))
    # Canonical order in byte order, here rather than by the database's text collation.
    out.sort()
    return out


@dataclass(frozen=True)
class Entered:
    """A lottery a shopper entered: her tickets and her entrant id (hers to see only)."""

    lottery: Lottery
    tickets: int
    entrant_id: str


async def tickets_of(session: AsyncSession, pseudonym: str) -> list[Entered]:
    """A shopper's tickets and entrant id in every lottery they entered (once frozen: as
    drawn), the latest draw first."""
    entered = await session.execute(
        select(Lottery, LotteryEntrant.entrant_id)
        .join(LotteryEntrant, LotteryEntrant.lottery_id == Lottery.id)
        .where(LotteryEntrant.pseudonym == pseudonym)
        .order_by(Lottery.draw_at.desc())
    )
    out = []
    for lottery, entrant_id in entered.all():
        # Entries do not change once a lottery is frozen: the same count as drawn.
        mine = [t for _p, t in await standings(session, lottery, pseudonym)]
        out.append(Entered(lottery, mine[0] if mine else 0, entrant_id))
    return out
