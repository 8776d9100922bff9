"""Campaigns and lotteries for the mall console, a page at a time (newest first, with the
total, for a page-numbered table), and a drawn lottery re-run on the hub from what it
published (the same check as ``mallnet lottery verify``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Campaign, Lottery
from hub.domain import draw as fair
from hub.domain.problems import ProblemCode
from hub.services.console_lists import MAX_PAGE, ListError, Page
from hub.services.console_lists import _page as page_of
from hub.services.lotteries import frozen_list, get

__all__ = ["MAX_PAGE", "Verification", "campaigns", "lotteries", "verify"]


async def campaigns(session: AsyncSession, first: int, offset: int) -> Page[Campaign]:
    # The id breaks ties: two campaigns made in the same instant keep their order.
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    page: Page[Campaign] = await page_of(session, query, first, offset)
    return page


async def lotteries(session: AsyncSession, first: int, offset: int) -> Page[Lottery]:
    query = select(Lottery).order_by(Lottery.created_at.desc(), Lottery.id.desc())
    page: Page[Lottery] = await page_of(session, query, first, offset)
    return page


@dataclass(frozen=True)
class Verification:
    lottery_id: str
    entrants: int
    differences: list[str]  # empty: the published draw re-runs to the same winners


async def verify(session: AsyncSession, lottery_id: str) -> Verification:
    """Re-run a drawn lottery from its published record and frozen list only (never the
    hub's own copy of the seed): what anyone could do with ``mallnet lottery verify``."""
    row = await get(session, lottery_id)
    if row.record is None:
        raise ListError(ProblemCode.NOT_DRAWN, "the lottery is not drawn yet", "lotteryId")
    tickets = await frozen_list(session, lottery_id)
    differences = fair.verify({**row.record, "tickets": tickets})
    return Verification(lottery_id, len(tickets), differences)
