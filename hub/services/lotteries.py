"""Lotteries run by mall management among the shoppers of the shops that accept them.

Tickets come from the purchase events the shops relay (once per purchase; a refund before
the draw takes them back): one ticket per ``rial_per_ticket`` spent at participating shops,
``bonus_per_shop`` more for every participating shop visited, at most ``max_per_shopper``.
The draw is provably fair (``hub.domain.draw``): the seed's SHA-256 is published when the lottery
is created; at the draw the ticket list is frozen and published with its digest, the seed
is revealed and mixed with the public value management entered beforehand, and anyone can
re-run it (``mallnet lottery verify``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import NotifyMember
from federation.ids import new_event_id
from hub.db.models import (
    Campaign,
    CampaignShop,
    Lottery,
    LotteryEntry,
    LotteryTicketList,
    PrizeClaim,
    Shopper,
)
from hub.domain import draw as fair
from hub.domain.problems import HubError, ProblemCode
from hub.services import inbox, registry
from mallnet.db import utcnow
from mallnet.messaging import Sender


class LotteryError(HubError):
    """An expected failure of a lottery use case (nothing was written)."""


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TicketRules(_Doc):
    rial_per_ticket: int = Field(ge=1, le=10**12, strict=True)
    bonus_per_shop: int = Field(default=0, ge=0, le=1000, strict=True)
    max_per_shopper: int | None = Field(default=None, ge=1, le=10**9, strict=True)


class Prize(_Doc):
    count: int = Field(ge=1, le=10_000, strict=True)
    description_fa: str = Field(min_length=1, max_length=200)
    description_en: str = Field(default="", max_length=200)
    sponsor: str | None = None  # the shop that gives it (and hands it over)


@dataclass(frozen=True)
class LotteryInput:
    name_fa: str
    name_en: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    draw_at: dt.datetime
    shops: Sequence[str]
    rules: dict[str, Any]
    prizes: list[dict[str, Any]]


def _parse(model: type[_Doc], document: object, field: str) -> Any:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or field
        raise LotteryError(ProblemCode.INVALID_INPUT, f"{where}: {first['msg']}", field) from None


async def create(session: AsyncSession, data: LotteryInput, actor: str) -> Lottery:
    """A new lottery, open from ``starts_at``: its shops are invited (each accepts from its
    node) and its seed's commitment is public at once."""
    rules = _parse(TicketRules, data.rules, "rules")
    if not data.prizes:
        raise LotteryError(ProblemCode.INVALID_INPUT, "at least one prize", "prizes")
    prizes = [_parse(Prize, p, "prizes") for p in data.prizes]
    if not (data.starts_at < data.ends_at <= data.draw_at):
        raise LotteryError(
            ProblemCode.INVALID_INPUT, "starts before it ends; drawn after it ends", "drawAt"
        )
    if not 1 <= len(data.name_fa) <= 120 or len(data.name_en) > 120:
        raise LotteryError(
            ProblemCode.INVALID_INPUT, "a Persian name of 1-120 characters", "nameFa"
        )
    unknown = await registry.unknown_shops(session, data.shops)
    if not data.shops or unknown:
        raise LotteryError(
            ProblemCode.INVALID_INPUT, f"name known shops (unknown: {unknown})", "shops"
        )
    sponsors = {p.sponsor for p in prizes if p.sponsor}
    if sponsors - set(data.shops):
        raise LotteryError(ProblemCode.INVALID_INPUT, "a prize's sponsor must take part", "prizes")
    seed = fair.new_seed()
    row = Lottery(
        id=new_event_id(),
        name_fa=data.name_fa,
        name_en=data.name_en,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        draw_at=data.draw_at,
        rules=rules.model_dump(),
        prizes=[p.model_dump() for p in prizes],
        seed_hex=seed.hex(),
        commitment=fair.commit(seed),
        status="open",
        stage="waiting",
        progress_pct=0,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    for shop in sorted(set(data.shops)):
        session.add(CampaignShop(event_id=row.id, shop=shop, status="invited"))
    await session.flush()
    return row


async def get(session: AsyncSession, lottery_id: str) -> Lottery:
    row = await session.get(Lottery, lottery_id)
    if row is None:
        raise LotteryError(ProblemCode.NOT_FOUND, f"no lottery {lottery_id!r}", "lotteryId")
    return row


async def listing(session: AsyncSession) -> list[Lottery]:
    return list((await session.scalars(select(Lottery).order_by(Lottery.created_at.desc()))).all())


async def respond(session: AsyncSession, event_id: str, shop: str, accept: bool) -> CampaignShop:
    """A shop accepts or declines a campaign or lottery it was invited to (from its node)."""
    row = await session.get(CampaignShop, (event_id, shop), with_for_update=True)
    if row is None:
        raise LotteryError(ProblemCode.NOT_INVITED, "this shop was not invited", "id")
    now = utcnow()
    window = await session.execute(
        select(Campaign.starts_at, Campaign.ends_at)
        .where(Campaign.id == event_id)
        .union_all(select(Lottery.starts_at, Lottery.ends_at).where(Lottery.id == event_id))
    )
    starts, ends = window.one()
    # Once it has begun, a shop that accepted stays in (its shoppers were rewarded on the
    # shops' account); an invitation still unanswered may be answered until it ends.
    if (row.status == "accepted" and now >= starts) or now >= ends:
        raise LotteryError(ProblemCode.ANSWER_FINAL, "this answer can no longer change", "id")
    row.status, row.responded_at = ("accepted" if accept else "declined"), now
    await session.flush()
    return row


async def shops_of(session: AsyncSession, event_id: str) -> list[CampaignShop]:
    rows = await session.scalars(
        select(CampaignShop).where(CampaignShop.event_id == event_id).order_by(CampaignShop.shop)
    )
    return list(rows.all())


async def shops_of_many(
    session: AsyncSession, event_ids: Sequence[str]
) -> dict[str, list[CampaignShop]]:
    """``shops_of`` for many campaigns and lotteries in one statement (a listing)."""
    found: dict[str, list[CampaignShop]] = {event_id: [] for event_id in event_ids}
    rows = await session.scalars(
        select(CampaignShop)
        .where(CampaignShop.event_id.in_(found))
        .order_by(CampaignShop.event_id, CampaignShop.shop)
    )
    for row in rows:
        found[row.event_id].append(row)
    return found


async def set_public_value(session: AsyncSession, lottery_id: str, value: str) -> Lottery:
    """The value nobody controls (e.g. a number announced in public), entered before the
    draw; it cannot change once the draw has begun."""
    row = await session.get(Lottery, lottery_id, with_for_update=True)
    if row is None:
        raise LotteryError(ProblemCode.NOT_FOUND, f"no lottery {lottery_id!r}", "lotteryId")
    if row.status != "open":
        raise LotteryError(ProblemCode.ALREADY_DRAWN, "the draw has begun", "publicValue")
    if row.public_value is not None:
        # Entered once: a value that could be replaced could be chosen.
        raise LotteryError(
            ProblemCode.ALREADY_SET, "the public value was entered already", "publicValue"
        )
    if not 1 <= len(value.strip()) <= 200:
        raise LotteryError(ProblemCode.INVALID_INPUT, "1 to 200 characters", "publicValue")
    row.public_value = value.strip()
    await session.flush()
    return row


# --- Tickets from purchase events ---------------------------------------------------------------


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


# --- The draw --------------------------------------------------------------------------------


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
    """Freeze the ticket list (published with its digest) and mark the lottery as drawing;
    its own transaction, so the console sees the progress."""
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
    entrants = await standings(session, row)
    tickets = fair.TicketList.from_pairs(entrants)
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
    which holds their phone. Everyone sees the results in the app. Marks the draw done."""
    row = await session.get(Lottery, lottery_id, with_for_update=True, populate_existing=True)
    if row is None or row.status != "drawn" or row.stage == "done" or row.record is None:
        return []
    messages = []
    for place, winner in enumerate(row.record["winners"], start=1):
        prize = prize_of(row, place)
        text = f"تبریک! در قرعه‌کشی «{row.name_fa}» برنده شدید: {prize['description_fa']}"
        shopper = await session.get(Shopper, winner["pseudonym"])
        if shopper is not None and shopper.phone:
            messages.append(Message(shopper.phone, text))
            continue
        # The hub has no phone for them: a shop where they bought (it has) tells them,
        # through its inbox — once, as every command is applied once.
        shop = await session.scalar(
            select(LotteryEntry.shop)
            .where(LotteryEntry.lottery_id == row.id, LotteryEntry.pseudonym == winner["pseudonym"])
            .order_by(LotteryEntry.created_at.desc())
            .limit(1)
        )
        if shop is not None:
            notice = NotifyMember(pseudonym=winner["pseudonym"], kind="lottery_win", text=text)
            await inbox.enqueue(session, shop, notice)
    row.stage, row.progress_pct = "done", 100
    await session.flush()
    return messages


async def ticket_page(
    session: AsyncSession, lottery_id: str, after: int, first: int
) -> list[tuple[int, str, int]]:
    """Entrants ``after`` to ``after + first`` of the frozen list: (position, pseudonym,
    tickets)."""
    page = await frozen_list(session, lottery_id, after, after + first)
    return [(after + i, p, t) for i, (p, t) in enumerate(page.pairs())]


async def claim_prize(
    session: AsyncSession, lottery_id: str, place: int, shop: str, actor: str
) -> PrizeClaim:
    """A participating shop (the prize's sponsor, when it has one) hands a prize over."""
    row = await get(session, lottery_id)
    if row.status != "drawn" or row.record is None:
        raise LotteryError(ProblemCode.NOT_DRAWN, "the lottery has not been drawn", "lotteryId")
    if not 1 <= place <= len(row.record["winners"]):
        raise LotteryError(ProblemCode.NOT_FOUND, f"no winner in place {place}", "place")
    sponsor = prize_of(row, place).get("sponsor")
    taking_part = await session.get(CampaignShop, (lottery_id, shop))
    if (sponsor and sponsor != shop) or taking_part is None or taking_part.status != "accepted":
        raise LotteryError(ProblemCode.FORBIDDEN, "another shop hands this prize over", "place")
    seen = await session.get(PrizeClaim, (lottery_id, place))
    if seen is not None:
        return seen
    claim = PrizeClaim(
        lottery_id=lottery_id, place=place, shop=shop, claimed_by=actor, claimed_at=utcnow()
    )
    session.add(claim)
    await session.flush()
    return claim


async def claims(session: AsyncSession, lottery_id: str) -> list[PrizeClaim]:
    rows = await session.scalars(
        select(PrizeClaim).where(PrizeClaim.lottery_id == lottery_id).order_by(PrizeClaim.place)
    )
    return list(rows.all())


async def claims_of_many(
    session: AsyncSession, lottery_ids: Sequence[str]
) -> dict[str, list[PrizeClaim]]:
    """``claims`` of many lotteries in one statement (a listing)."""
    found: dict[str, list[PrizeClaim]] = {lottery_id: [] for lottery_id in lottery_ids}
    rows = await session.scalars(
        select(PrizeClaim)
        .where(PrizeClaim.lottery_id.in_(found))
        .order_by(PrizeClaim.lottery_id, PrizeClaim.place)
    )
    for row in rows:
        found[row.lottery_id].append(row)
    return found


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
        sender.send_sms(message.phone, message.text, kind="lottery_win")
    row: Lottery = await transaction(sessions, lambda s: get(s, lottery_id))
    return row
