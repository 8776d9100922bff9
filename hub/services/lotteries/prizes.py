"""Prizes handed over by the participating shops (the sponsor, when a prize has one)."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    CampaignShop,
    PrizeClaim,
)
from hub.domain.problems import ProblemCode
from hub.services.lotteries.drawing import prize_of
from hub.services.lotteries.setup import LotteryError, get
from mallnet.db import utcnow


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
    return (await claims_of_many(session, [lottery_id]))[lottery_id]


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
