"""What the mall console reads of the hub's own messages (sign-in and redemption codes,
lottery wins): the delivery log a page at a time, how many are in each status, and what
the messages a filter selects cost together.

Mall management reads about shoppers here, so the log carries no more of them than it
needs: the recipient is masked (``0912***4567``; a Telegram chat is just "Telegram") and
the text is the one ``hub.services.hub_messages`` wrote, its codes masked already. The raw
address never leaves this module.

Each answer is one statement: the page (newest first, by id), the counts (grouped by
status), the cost (one ``SUM``), so a page costs the same however long the log grows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Message
from mallnet.messaging.log import STATUSES
from mallnet.messaging.log_reads import counts_by_status, masked_recipient, newest_first

MAX_PAGE: Final = 100
# What the hub sends itself (``hub.services.hub_messages``): the console's kind filter.
KINDS: Final = ("otp", "redemption", "lottery_win")


@dataclass(frozen=True)
class LogFilter:
    """Which messages to read; each field optional (None: no condition). The API has
    checked both against ``STATUSES`` and ``KINDS`` (they arrive as enums)."""

    status: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        # A programming error, not a user's: the GraphQL enums allow nothing else.
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"no message status {self.status!r}")
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"the hub sends no message of kind {self.kind!r}")


@dataclass(frozen=True)
class LoggedMessage:
    """One row of the log as the console shows it: the recipient masked."""

    id: int
    kind: str
    medium: str
    line: str
    to: str
    text: str
    parts: int
    cost_rial: int | None
    status: str
    reason: str | None
    attempts: int
    provider: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    settled_at: dt.datetime | None


@dataclass(frozen=True)
class LogPage:
    messages: list[LoggedMessage]
    end_cursor: int | None
    has_next_page: bool


def _conditions(f: LogFilter, *, with_status: bool = True) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if with_status and f.status is not None:
        conditions.append(Message.status == f.status)
    if f.kind is not None:
        conditions.append(Message.kind == f.kind)
    return conditions


def _logged(row: Message) -> LoggedMessage:
    return LoggedMessage(
        id=row.id,
        kind=row.kind,
        medium=row.medium,
        line=row.line,
        to=masked_recipient(row.medium, row.recipient),
        text=row.text,
        parts=row.parts,
        cost_rial=row.cost_rial,
        status=row.status,
        reason=row.reason,
        attempts=row.attempts,
        provider=row.provider,
        created_at=row.created_at,
        sent_at=row.sent_at,
        settled_at=row.settled_at,
    )


async def log_page(
    session: AsyncSession, f: LogFilter, *, first: int, after: int | None
) -> LogPage:
    """A page of the messages ``f`` selects, newest first (by id: the hub numbers its
    messages in the order it sends them), after the message ``after``. One row more than
    the page is read, to know whether another page follows without counting them all."""
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"a page is 1 to {MAX_PAGE} messages, not {first}")
    page, end, more = await newest_first(session, Message, _conditions(f), first=first, after=after)
    return LogPage([_logged(r) for r in page], end, more)


async def status_counts(session: AsyncSession, f: LogFilter) -> dict[str, int]:
    """How many messages of ``f``'s kind are in each status (every status, zeros too).
    ``f.status`` is left out on purpose: the console's status choices keep showing their
    own numbers while one of them is open."""
    return await counts_by_status(session, Message, _conditions(f, with_status=False))


async def total_cost_rial(session: AsyncSession, f: LogFilter) -> int:
    """What every message ``f`` selects (status and kind) cost, in Rial: the provider's
    price where it said, the estimate made when sending elsewhere; a message with no cost
    at all adds nothing. Summed by the database, so the whole log is never read."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Message.cost_rial), 0)).where(*_conditions(f))
    )
    return int(total or 0)
