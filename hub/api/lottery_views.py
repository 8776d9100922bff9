"""Lotteries as GraphQL shows them: the public view (everything to re-run a draw, entrant
ids never pseudonyms), a shopper's own lotteries, prize hand-overs; a lottery frozen
before entrant ids is withheld from all but mall management (``_withheld``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import MALL
from hub.api.wallet import jalali
from hub.db import models
from hub.services import lotteries
from mallnet.authz import request_scopes
from mallnet.gql import JSONDocument


@strawberry.type(description="A lottery's winner: the place, the entrant, the prize.")
class LotteryWinner:
    place: int
    entrant_id: str = strawberry.field(
        description="The winner's entrant id in this lottery (random; never a pseudonym). "
        "Empty in a lottery drawn before entrant ids, whose ids were pseudonyms (mall "
        "management still reads them)."
    )
    tickets: int
    prize_fa: str
    prize_en: str
    sponsor: str | None
    claimed_by_shop: str | None


@strawberry.type(description="A lottery as everyone may see it: everything to re-run it.")
class LotteryView:
    id: str
    name_fa: str
    name_en: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    draw_at: dt.datetime
    draw_jalali: str
    rules: JSONDocument
    prizes: JSONDocument
    commitment: str = strawberry.field(description="SHA-256 of the secret seed, from the start.")
    public_value: str | None
    status: str = strawberry.field(description="open, drawing or drawn.")
    stage: str = strawberry.field(description="waiting, freezing, frozen, drawn, done.")
    progress_pct: int
    list_digest: str | None = strawberry.field(description="SHA-256 of the frozen list.")
    entrants: int | None
    total_tickets: int | None
    seed_hex: str | None = strawberry.field(description="Revealed at the draw.")
    algorithm: str | None
    winners: list[LotteryWinner]
    record: JSONDocument | None = strawberry.field(
        description="The published draw record (hub.domain.draw): with the frozen list from "
        "lotteryTickets, everything needed to re-run the draw."
    )


@strawberry.type(description="One entrant of a frozen ticket list, in canonical order.")
class TicketEntry:
    position: int
    entrant_id: str = strawberry.field(
        description="A shopper's id in this lottery: random, kept at the hub, shown to her "
        "alone in the app; never her pseudonym."
    )
    tickets: int


@strawberry.type(description="A shopper's tickets in a lottery and, once drawn, the result.")
class ShopperLottery:
    lottery: LotteryView
    entrant_id: str = strawberry.field(
        description="Her entrant id in this lottery: the name its published list and "
        "winners give her."
    )
    tickets: int
    won_place: int | None
    prize_fa: str | None


@strawberry.type(description="A prize handed over.")
class PrizeClaimView:
    lottery_id: str
    place: int
    shop: str
    claimed_at: dt.datetime


def is_operator(info: strawberry.Info) -> bool:
    """Mall management: the hub's operator, trusted with the network key anyway."""
    return not request_scopes(info).isdisjoint(MALL)


async def lottery_view(
    session: AsyncSession, row: models.Lottery, *, operator: bool = False
) -> LotteryView:
    return (await lottery_views(session, [row], operator=operator))[0]


async def lottery_views(
    session: AsyncSession, rows: Sequence[models.Lottery], *, operator: bool = False
) -> list[LotteryView]:
    """Lotteries with their prize claims, read for all of them at once (a listing); a
    lottery drawn under pseudonyms withheld (``_withheld``) unless for the ``operator``."""
    claims = await lotteries.claims_of_many(session, [row.id for row in rows])
    views = [_lottery_view(row, claims[row.id]) for row in rows]
    if operator:
        return views
    named = await lotteries.listed_by_pseudonym(session, [row.id for row in rows])
    return [_withheld(view) if view.id in named else view for view in views]


def _withheld(view: LotteryView) -> LotteryView:
    """A lottery frozen before entrant ids, as anyone but mall management sees it: its
    winners' ids (each a pseudonym, which any node can match to a phone) left empty, the
    rest as published — its commitment, seed, list digest and counts, so that a copy of
    its list kept from before still checks."""
    record = view.record
    if isinstance(record, dict):
        winners = [{**w, "entrant_id": ""} for w in record.get("winners", [])]
        record = JSONDocument({**record, "winners": winners})
    return replace(view, winners=[replace(w, entrant_id="") for w in view.winners], record=record)


def _lottery_view(row: models.Lottery, claims: list[models.PrizeClaim]) -> LotteryView:
    record = row.record or {}
    handed = {c.place: c.shop for c in claims}
    winners = []
    for place, w in enumerate(record.get("winners", []), start=1):  # in drawn order
        prize = lotteries.prize_of(row, place)
        winners.append(
            LotteryWinner(
                place=place,
                entrant_id=w["entrant_id"],
                tickets=int(w["tickets"]),
                prize_fa=prize["description_fa"],
                prize_en=prize.get("description_en", ""),
                sponsor=prize.get("sponsor"),
                claimed_by_shop=handed.get(place),
            )
        )
    return LotteryView(
        id=row.id,
        name_fa=row.name_fa,
        name_en=row.name_en,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        draw_at=row.draw_at,
        draw_jalali=jalali(row.draw_at),
        rules=JSONDocument(row.rules),
        prizes=JSONDocument(row.prizes),
        commitment=row.commitment,
        public_value=row.public_value,
        status=row.status,
        stage=row.stage,
        progress_pct=row.progress_pct,
        list_digest=row.list_digest,
        entrants=row.entrants,
        total_tickets=row.total_tickets,
        seed_hex=record.get("seed_hex"),
        algorithm=record.get("algorithm"),
        winners=winners,
        record=None if row.record is None else JSONDocument(row.record),
    )


async def shopper_lotteries(session: AsyncSession, pseudonym: str) -> list[ShopperLottery]:
    out = []
    entered = await lotteries.tickets_of(session, pseudonym)
    # Her place is found by her id before the others' ids of a lottery drawn under
    # pseudonyms are withheld (her own id there, her pseudonym, is hers to see).
    views = await lottery_views(session, [e.lottery for e in entered], operator=True)
    named = await lotteries.listed_by_pseudonym(session, [view.id for view in views])
    for view, mine_in in zip(views, entered, strict=True):
        mine = next((w for w in view.winners if w.entrant_id == mine_in.entrant_id), None)
        out.append(
            ShopperLottery(
                lottery=_withheld(view) if view.id in named else view,
                entrant_id=mine_in.entrant_id,
                tickets=mine_in.tickets,
                won_place=None if mine is None else mine.place,
                prize_fa=None if mine is None else mine.prize_fa,
            )
        )
    return out
