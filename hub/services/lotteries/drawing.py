"""The draw, stage by stage: the ticket list frozen and published, the seed revealed and
mixed with the public value (``hub.domain.draw``), the winners told; its progress shown."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import NotifyMember
from hub.db.models import (
    Lottery,
    LotteryEntrant,
    LotteryEntry,
    LotteryTicketList,
    Shopper,
)
from hub.domain import draw as fair
from hub.domain.problems import ProblemCode
from hub.services import inbox
from hub.services.lotteries.setup import LotteryError, get
from hub.services.lotteries.tickets import entrant_standings
from mallnet.db import utcnow
from mallnet.messaging import Sender


def winners_wanted(lottery: Lottery) -> int:
    return sum(int(p["count"]) for p in lottery.prizes)


def prize_of(lottery: Lottery, place: int) -> dict[str, Any]:
    """Places are numbered from 1 in drawn order: the first prize's places come first."""
    remaining = place
    for prize in lottery.prizes:
        if remaining <= int(prize["count"]):
            return prize
        remaining -= int(prize["count"])
    raise LotteryError(ProblemCode.NOT_FOUND, f"no place {place}", "place")


async def begin_draw(session: AsyncSession, lottery_id: str, now: dt.datetime) -> Lottery:
    """Freeze the ticket list (published with its digest: entrant ids, never pseudonyms)
    and mark the lottery as drawing; its own transaction, so the console sees the
    progress."""
    row = await session.get(Lottery, lottery_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise LotteryError(ProblemCode.NOT_FOUND, f"no lottery {lottery_id!r}", "lotteryId")
    if row.status != "open":
        return row
    if row.public_value is None:
        raise LotteryError(
            ProblemCode.NO_PUBLIC_VALUE, "enter the public value before the draw", "lotteryId"
        )
    if now < row.draw_at:
        raise LotteryError(
            ProblemCode.TOO_EARLY, f"the draw is at {row.draw_at.isoformat()}", "lotteryId"
        )
    tickets = fair.TicketList.from_pairs(await entrant_standings(session, row))
    row.list_digest = fair.list_digest(tickets)
    row.entrants, row.total_tickets = len(tickets), tickets.total
    session.add(
        LotteryTicketList(lottery_id=row.id, entrants=len(tickets), data=fair.encode(tickets))
    )
    row.status, row.stage, row.progress_pct = "drawing", "frozen", 40
    await session.flush()
    return row


async def frozen_list(
    session: AsyncSession, lottery_id: str, start: int = 0, stop: int | None = None
) -> fair.TicketList:
    """The published frozen list (or entrants ``start`` to ``stop`` of it)."""
    data = await session.scalar(
        select(LotteryTicketList.data).where(LotteryTicketList.lottery_id == lottery_id)
    )
    return fair.decode(data or b"", start, stop)


async def finish_draw(session: AsyncSession, lottery_id: str, now: dt.datetime) -> Lottery:
    """Reveal the seed, draw from the frozen list and publish the record."""
    row = await session.get(Lottery, lottery_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise LotteryError(ProblemCode.NOT_FOUND, f"no lottery {lottery_id!r}", "lotteryId")
    if row.status != "drawing" or row.public_value is None:
        return row
    seed, tickets = bytes.fromhex(row.seed_hex), await frozen_list(session, row.id)
    # Only the seed committed to at the start, and only the list frozen and published.
    if fair.commit(seed) != row.commitment or fair.list_digest(tickets) != row.list_digest:
        raise LotteryError(
            ProblemCode.TAMPERED, "the seed or the frozen list changed: no draw", "lotteryId"
        )
    result = fair.draw(seed, row.public_value, tickets, winners_wanted(row))
    row.record = fair.published_record(result)
    row.status, row.stage, row.progress_pct, row.drawn_at = "drawn", "drawn", 80, now
    await session.flush()
    return row


@dataclass(frozen=True)
class Message:
    phone: str
    text: str


async def notify_winners(session: AsyncSession, lottery_id: str) -> list[Message]:
    """The messages for the winners whose phone the hub holds (they signed in to the app,
    or consented to sharing) — the caller sends them once this has committed, so a retry
    never sends them twice — and, for the others, a command to a shop where they bought,
    which holds their phone. The record names entrant ids: the hub alone maps them back to
    shoppers. Everyone sees the results in the app. Marks the draw done."""
    row = await session.get(Lottery, lottery_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != "drawn" or row.stage == "done" or row.record is None:
        return []
    messages = []
    for place, winner in enumerate(row.record["winners"], start=1):
        prize = prize_of(row, place)
        text = f"تبریک! در قرعه‌کشی «{row.name_fa}» برنده شدید: {prize['description_fa']}"
        who = await session.scalar(
            select(LotteryEntrant.pseudonym).where(
                LotteryEntrant.lottery_id == row.id,
                LotteryEntrant.entrant_id == winner["entrant_id"],
            )
        )
        if who is None:  # cannot be: every entrant of the frozen list has its row
            raise LotteryError(
                ProblemCode.TAMPERED, f"winner {place} is no entrant of this lottery", "lotteryId"
            )
        shopper = await session.get(Shopper, who)
        if shopper is not None and shopper.phone:
            messages.append(Message(shopper.phone, text))
            continue
        # The hub has no phone for them: a shop where they bought in this lottery tells
        # them through its inbox — once, as every command is applied once. That shop holds
        # the member (her purchase came from it), so the pseudonym tells it nothing new.
        shop = await session.scalar(
            select(LotteryEntry.shop)
            .where(LotteryEntry.lottery_id == row.id, LotteryEntry.pseudonym == who)
            .order_by(LotteryEntry.created_at.desc())
            .limit(1)
        )
        if shop is not None:
            notice = NotifyMember(pseudonym=who, kind="lottery_win", text=text)
            await inbox.enqueue(session, shop, notice)
    row.stage, row.progress_pct = "done", 100
    await session.flush()
    return messages


# One entrant of the canonical encoding: its id, then its tickets (a 64-bit integer).
ENTRANT_BYTES = fair.ENTRANT_ID_BYTES + 8
MAX_TICKET_PAGE = 10_000  # entrants a page: 400 kB read, whatever the list's size
MAX_LIST_BYTES = 1 << 30  # PostgreSQL's largest value: no frozen list is longer


async def ticket_page(
    session: AsyncSession, lottery_id: str, after: int, first: int
) -> list[tuple[int, str, int]]:
    """Entrants ``after`` to ``after + first`` of the frozen list: (position, entrant id,
    tickets). Only those bytes are read from storage (``substr`` of the stored encoding),
    never the whole list: a list of a million entrants is 40 MB. Paging through it gives
    the whole published list, byte for byte, to re-run the draw."""
    after, first = max(0, after), min(max(1, first), MAX_TICKET_PAGE)
    if after * ENTRANT_BYTES >= MAX_LIST_BYTES:
        return []  # past the end of any list (and of the database's integer offsets)
    piece = func.substr(LotteryTicketList.data, after * ENTRANT_BYTES + 1, first * ENTRANT_BYTES)
    data = await session.scalar(
        select(type_coerce(piece, LargeBinary)).where(LotteryTicketList.lottery_id == lottery_id)
    )
    page = fair.decode(bytes(data or b""))
    return [(after + i, p, t) for i, (p, t) in enumerate(page.pairs())]


async def listed_by_pseudonym(session: AsyncSession, lottery_ids: Sequence[str]) -> set[str]:
    """The lotteries among ``lottery_ids`` whose frozen list and record name entrants by
    pseudonym: frozen before entrant ids existed (migration hub_0014 kept their pseudonyms
    as their ids, so their draws still re-run). One entrant tells: in such a lottery every
    entrant's id is her pseudonym, in any other none's is — one index look-up a lottery."""
    if not lottery_ids:
        return set()
    first = (
        select(LotteryEntrant.entrant_id == LotteryEntrant.pseudonym)
        .where(LotteryEntrant.lottery_id == Lottery.id)
        .limit(1)
        .correlate(Lottery)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Lottery.id, first).where(Lottery.id.in_(lottery_ids), Lottery.status != "open")
    )
    return {lottery_id for lottery_id, named in rows if named}


async def progress(session: AsyncSession, lottery_id: str, stage: str, pct: int) -> None:
    """Show a stage of a draw not begun yet (a finished one keeps its own)."""
    row = await get(session, lottery_id)
    if row.public_value is None:
        raise LotteryError(
            ProblemCode.NO_PUBLIC_VALUE, "enter the public value before the draw", "lotteryId"
        )
    if row.status == "open" and utcnow() < row.draw_at:
        raise LotteryError(
            ProblemCode.TOO_EARLY, f"the draw is at {row.draw_at.isoformat()}", "lotteryId"
        )
    await session.execute(
        update(Lottery)
        .where(Lottery.id == lottery_id, Lottery.status == "open")
        .values(stage=stage, progress_pct=pct)
    )


async def run_draw(sessions: Any, lottery_id: str, sender: Sender) -> Lottery:
    """The draw, stage by stage, each in its own transaction so its progress shows: freeze
    and publish the list, reveal and draw, tell the winners. A repeat (a worker that died
    and ran it again) resumes where it stopped and changes nothing already done."""
    from mallnet.db import transaction

    await transaction(sessions, lambda s: progress(s, lottery_id, "freezing", 10))
    await transaction(sessions, lambda s: begin_draw(s, lottery_id, utcnow()))
    await transaction(sessions, lambda s: finish_draw(s, lottery_id, utcnow()))
    messages = await transaction(sessions, lambda s: notify_winners(s, lottery_id))
    for message in messages:  # after the commit: at most once each
        await sender.send_sms(message.phone, message.text, kind="lottery_win")
    row: Lottery = await transaction(sessions, lambda s: get(s, lottery_id))
    return row
