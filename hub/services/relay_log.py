"""What the mall console reads of the messages the hub sent for shops on the mall's own
accounts (``relayed_messages``, written by ``hub.services.message_relay``): the log a page
at a time, newest first, by shop and status, and each shop's messages, SMS parts and cost
over its last Tehran days. Mall management pays for these, so it sees what each shop sent.

The console reads no more of a shopper than it needs: the recipient is masked
(``0912***4567``; a Telegram chat is just "Telegram"), and the pseudonym, the text and the
key never leave this module (the hub keeps no text: only its digest).

A row's status is the relay's (sending, sent, failed, unknown), with ``delivered`` where
the provider said it arrived (at once for Telegram and the file channel; for an SMS when
the shop's node asks for its delivery report): the console reads that as its own status,
as the delivery log does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import RelayedMessage
from hub.domain.problems import HubError, ProblemCode
from hub.services.message_relay import COUNTED
from mallnet.db import utcnow
from mallnet.jalali import tehran_date
from mallnet.messaging.log_reads import masked_recipient, newest_first

MAX_PAGE: Final = 100
MAX_DAYS: Final = 90
# The statuses as the console reads them, in the order a message moves through them.
STATUSES: Final = ("sending", "sent", "delivered", "failed", "unknown")


class RelayLogError(HubError):
    """The log or its totals asked for with bad input (too many days)."""


@dataclass(frozen=True)
class RelayFilter:
    """Which messages to read; each field optional (None: no condition). The API has
    checked ``status`` against ``STATUSES`` (it arrives as an enum)."""

    shop: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        # A programming error, not a user's: the GraphQL enum allows nothing else.
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"no relayed message status {self.status!r}")


@dataclass(frozen=True)
class RelayedRow:
    """One relayed message as the console shows it: the recipient masked, no pseudonym."""

    id: int
    shop: str
    kind: str
    medium: str
    line: str
    to: str
    parts: int
    cost_rial: int | None
    status: str
    reason: str | None
    provider: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class RelayPage:
    messages: list[RelayedRow]
    end_cursor: int | None
    has_next_page: bool


@dataclass(frozen=True)
class ShopTotals:
    """A shop's relayed messages over the days: those the provider took (or may have:
    they count against its budget), those it refused, their SMS parts and their cost."""

    shop: str
    messages: int
    failed: int
    sms_parts: int
    cost_rial: int


@dataclass(frozen=True)
class Totals:
    days: int
    first_day: dt.date
    last_day: dt.date
    shops: list[ShopTotals]


def _status(row: RelayedMessage) -> str:
    return "delivered" if row.status == "sent" and row.delivered else row.status


def _conditions(f: RelayFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.shop is not None:
        conditions.append(RelayedMessage.shop == f.shop)
    if f.status == "delivered":
        conditions += [RelayedMessage.status == "sent", RelayedMessage.delivered.is_(True)]
    elif f.status == "sent":
        conditions += [RelayedMessage.status == "sent", RelayedMessage.delivered.is_(False)]
    elif f.status is not None:
        conditions.append(RelayedMessage.status == f.status)
    return conditions


def _shown(row: RelayedMessage) -> RelayedRow:
    return RelayedRow(
        id=row.id,
        shop=row.shop,
        kind=row.kind,
        medium=row.medium,
        line=row.line,
        to=masked_recipient(row.medium, row.recipient),
        parts=row.parts,
        cost_rial=row.cost_rial,
        status=_status(row),
        reason=row.reason,
        provider=row.provider,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


async def log_page(
    session: AsyncSession, f: RelayFilter, *, first: int, after: int | None
) -> RelayPage:
    """A page of the relayed messages ``f`` selects, newest first (by id: the hub numbers
    them as it takes them), after the message ``after``."""
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"a page is 1 to {MAX_PAGE} messages, not {first}")
    page, end, more = await newest_first(
        session, RelayedMessage, _conditions(f), first=first, after=after
    )
    return RelayPage([_shown(r) for r in page], end, more)


async def totals(session: AsyncSession, days: int, now: dt.datetime | None = None) -> Totals:
    """Each shop's relayed messages over its last ``days`` Tehran days (today included),
    the most costly first; a shop that sent nothing is left out. One grouped statement,
    on the Tehran day each message was counted against (the budgets' index)."""
    if not 1 <= days <= MAX_DAYS:
        raise RelayLogError(ProblemCode.INVALID_INPUT, f"between 1 and {MAX_DAYS} days", "days")
    last = tehran_date(now or utcnow())
    first = last - dt.timedelta(days=days - 1)
    went = RelayedMessage.status.in_(COUNTED)  # as the relay's budgets count a day
    found = await session.execute(
        select(
            RelayedMessage.shop,
            func.count(case((went, 1))),
            func.count(case((RelayedMessage.status == "failed", 1))),
            func.coalesce(func.sum(case((went, RelayedMessage.parts), else_=0)), 0),
            func.coalesce(func.sum(RelayedMessage.cost_rial), 0),
        )
        .where(and_(RelayedMessage.tehran_day >= first, RelayedMessage.tehran_day <= last))
        .group_by(RelayedMessage.shop)
    )
    shops = [
        ShopTotals(shop, int(n), int(failed), int(parts), int(cost))
        for shop, n, failed, parts, cost in found.all()
    ]
    shops.sort(key=lambda s: (-s.cost_rial, -s.sms_parts, s.shop))
    return Totals(days, first, last, shops)
