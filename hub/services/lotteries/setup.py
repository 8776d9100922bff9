"""Setting a lottery up: management creates it (rules, prizes, the shops invited), the
shops answer, and management enters the public value the draw will mix in."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from hub.db.models import (
    Campaign,
    CampaignShop,
    Lottery,
)
from hub.domain import draw as fair
from hub.domain.problems import HubError, ProblemCode
from hub.services import registry
from mallnet.db import utcnow


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
    return (await shops_of_many(session, [event_id]))[event_id]


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
