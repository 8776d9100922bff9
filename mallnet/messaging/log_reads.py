"""Reading a delivery log, the same way at the hub and at a node: a page newest first, the
counts per status, and the recipient as staff may see it. The page and the recipient also
serve the hub's log of what it relayed for shops (``relayed_messages``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from mallnet.messaging.log import STATUSES, MessageColumns
from mallnet.phone import InvalidPhone, mask


class NumberedRows(Protocol):
    """A table of messages numbered in the order they were queued (or relayed)."""

    # A class-level column (what ``select`` orders by), whichever table declares it.
    id: ClassVar[Mapped[int]]


def masked_recipient(medium: str, recipient: str) -> str:
    """The address as a log shows it: a phone masked, a Telegram chat only named."""
    if medium == "telegram":
        return "Telegram"
    try:
        return mask(recipient)
    except InvalidPhone:
        # Not a phone we would have written (an old or foreign row): show none of it.
        return "***"


async def newest_first(
    session: AsyncSession,
    model: type[NumberedRows],
    conditions: Sequence[ColumnElement[bool]],
    *,
    first: int,
    after: int | None,
) -> tuple[list[Any], int | None, bool]:
    """A page of the rows ``conditions`` select, newest first (ids are given in the order
    messages are queued), after the message ``after``: (rows, end cursor, whether more
    follow). One row more than the page is read, to know without counting them all."""
    query = select(model).where(*conditions).order_by(model.id.desc())
    if after is not None:
        query = query.where(model.id < after)
    rows = list(await session.scalars(query.limit(first + 1)))
    page = rows[:first]
    return page, page[-1].id if page else None, len(rows) > first


async def counts_by_status(
    session: AsyncSession,
    model: type[MessageColumns],
    conditions: Sequence[ColumnElement[bool]],
) -> dict[str, int]:
    """How many of the rows ``conditions`` select are in each status (zeros too), in one
    statement."""
    counts = dict.fromkeys(STATUSES, 0)
    found = await session.execute(
        select(model.status, func.count()).where(*conditions).group_by(model.status)
    )
    for status, n in found.all():
        counts[status] = n
    return counts
