"""Tickets from the purchase events the shops relay: once per purchase, taken back by a
refund before the draw; a shopper's standing in each lottery."""

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    CampaignShop,
    Lottery,
    LotteryEntry,
)
from hub.services.lotteries.setup import TicketRules
from mallnet.db import utcnow


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
    the entry's key is the event). Returns how many lotteries it entered."""
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


async def standings(
    session: AsyncSession, lottery: Lottery, pseudonym: str | None = None
) -> list[tuple[str, int]]:
    """Every entrant (or just ``pseudonym``) and its tickets now, in canonical order."""
    net = LotteryEntry.amount_rial - LotteryEntry.refunded_rial
    entries = select(LotteryEntry.pseudonym, LotteryEntry.shop, func.sum(net).label("spent")).where(
        LotteryEntry.lottery_id == lottery.id
    )
    if pseudonym is not None:
        entries = entries.where(LotteryEntry.pseudonym == pseudonym)
    per_shop = entries.group_by(LotteryEntry.pseudonym, LotteryEntry.shop).subquery()
    rows = await session.execute(
        select(
            per_shop.c.pseudonym,
            func.sum(per_shop.c.spent),
            func.count().filter(per_shop.c.spent > 0),
        ).group_by(per_shop.c.pseudonym)
    )
    rules, out = TicketRules.model_validate(lottery.rules), []
    for who, spent, shops in rows.all():
        tickets = tickets_for(rules, int(spent or 0), int(shops or 0))
        if tickets > 0:
            out.append((who, tickets))
    # Canonical order in byte order, here rather than by the database's text collation.
    out.sort()
    return out


async def tickets_of(session: AsyncSession, pseudonym: str) -> list[tuple[Lottery, int]]:
    """A shopper's tickets in every lottery they entered (once frozen: as drawn)."""
    lotteries = (
        await session.scalars(
            select(Lottery)
            .where(
                Lottery.id.in_(
                    select(LotteryEntry.lottery_id).where(LotteryEntry.pseudonym == pseudonym)
                )
            )
            .order_by(Lottery.draw_at.desc())
        )
    ).all()
    out = []
    for lottery in lotteries:
        # Entries do not change once a lottery is frozen: the same count as drawn.
        mine = [t for _p, t in await standings(session, lottery, pseudonym)]
        out.append((lottery, mine[0] if mine else 0))
    return out
