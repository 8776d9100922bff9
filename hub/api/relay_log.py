"""What each shop sent on the mall's account, over GraphQL, for the mall console: the
messages the hub relayed for shops' nodes (``relayMessage``), newest first, paged by
cursor, by shop and status, and each shop's messages, SMS parts and cost over its last
Tehran days (``hub.services.relay_log``).

Mall admins only (``mall:admin``, as the hub's own log): the log speaks of shoppers, and
shows each phone masked, never whole, and no pseudonym.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.common import read
from hub.api.problems import InvalidInput
from hub.services import relay_log
from mallnet.authz import guard_fields, requires
from mallnet.gql import Rial
from mallnet.gql_limits import page_cursor, page_size
from mallnet.messaging.gql import MESSAGE_CURSOR
from mallnet.scopes import Scope

READERS = (Scope.MALL_ADMIN,)


@strawberry.enum(
    description="Where a relayed message is: the hub is sending it, the provider took it "
    "(or said at once it arrived), refused it, or an attempt was cut off mid-send."
)
class RelayedMessageStatus(Enum):
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"


@strawberry.type(
    name="RelayedMessage", description="One message the hub sent for a shop on the mall's account."
)
class RelayedMessageEntry:
    id: strawberry.ID
    shop: str = strawberry.field(description="The shop's slug.")
    kind: str = strawberry.field(description="The node's kind of message (welcome, purchase...).")
    medium: str = strawberry.field(description="sms or telegram.")
    line: str = strawberry.field(description="service or promotional.")
    to: str = strawberry.field(description="The recipient, masked: 0912***4567, or Telegram.")
    parts: int = strawberry.field(description="SMS parts (0 for Telegram).")
    cost_rial: Rial | None = strawberry.field(description="The provider's price, if it said.")
    status: RelayedMessageStatus
    reason: str | None = strawberry.field(description="Why it failed, in the provider's words.")
    provider: str | None = strawberry.field(description="kavenegar, telegram or file.")
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, m: relay_log.RelayedRow) -> RelayedMessageEntry:
        return cls(
            id=strawberry.ID(str(m.id)),
            shop=m.shop,
            kind=m.kind,
            medium=m.medium,
            line=m.line,
            to=m.to,
            parts=m.parts,
            cost_rial=None if m.cost_rial is None else Rial(m.cost_rial),
            status=RelayedMessageStatus(m.status),
            reason=m.reason,
            provider=m.provider,
            created_at=m.created_at,
            sent_at=m.sent_at,
        )


@strawberry.type(description="A page of the messages relayed for shops, newest first.")
class RelayedMessageLog:
    items: list[RelayedMessageEntry]
    end_cursor: str | None = strawberry.field(
        description="Pass as 'after' for the next, older page; null when there is none."
    )
    has_next_page: bool


@strawberry.type(description="What the hub relayed for one shop over the days asked.")
class ShopRelayTotals:
    shop: str = strawberry.field(description="The shop's slug.")
    messages: int = strawberry.field(
        description="Messages the provider took, or may have (they count against the "
        "shop's budget)."
    )
    failed: int = strawberry.field(description="Messages the provider refused.")
    sms_parts: int = strawberry.field(description="SMS parts of the messages counted.")
    cost_rial: Rial = strawberry.field(description="What the provider said they cost.")


@strawberry.type(description="Each shop's relayed messages over its last Tehran days.")
class RelayedMessageTotals:
    days: int
    first_day: dt.date
    last_day: dt.date = strawberry.field(description="Today, in Tehran.")
    shops: list[ShopRelayTotals] = strawberry.field(
        description="The most costly first; a shop that sent nothing is left out."
    )


for _type in (RelayedMessageEntry, RelayedMessageLog, ShopRelayTotals, RelayedMessageTotals):
    guard_fields(_type, *READERS)

RelayedMessageTotalsResult = Annotated[
    RelayedMessageTotals | InvalidInput, strawberry.union("RelayedMessageTotalsResult")
]


@strawberry.type
class RelayLogQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description="The messages the hub sent for shops on the mall's SMS lines and "
        "Telegram bot, newest first, paged by endCursor; phones masked.",
    )
    async def relayed_messages(
        self,
        info: strawberry.Info,
        shop: str | None = None,
        status: RelayedMessageStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> RelayedMessageLog:
        size = page_size(first, relay_log.MAX_PAGE)
        cursor = page_cursor(after, MESSAGE_CURSOR)
        wanted = relay_log.RelayFilter(shop=shop, status=None if status is None else status.value)

        async def work(session: AsyncSession) -> relay_log.RelayPage:
            return await relay_log.log_page(
                session, wanted, first=size, after=None if cursor is None else int(cursor)
            )

        page: relay_log.RelayPage = await read(info, work)
        return RelayedMessageLog(
            items=[RelayedMessageEntry.of(m) for m in page.messages],
            end_cursor=None if page.end_cursor is None else str(page.end_cursor),
            has_next_page=page.has_next_page,
        )

    @strawberry.field(
        extensions=requires(*READERS),
        description="Each shop's messages on the mall's account, SMS parts and cost over "
        f"the last 1-{relay_log.MAX_DAYS} Tehran days (today included).",
    )
    async def relayed_message_totals(
        self, info: strawberry.Info, days: int = 1
    ) -> RelayedMessageTotalsResult:
        async def work(session: AsyncSession) -> RelayedMessageTotals:
            found = await relay_log.totals(session, days)
            return RelayedMessageTotals(
                days=found.days,
                first_day=found.first_day,
                last_day=found.last_day,
                shops=[
                    ShopRelayTotals(
                        shop=s.shop,
                        messages=s.messages,
                        failed=s.failed,
                        sms_parts=s.sms_parts,
                        cost_rial=Rial(s.cost_rial),
                    )
                    for s in found.shops
                ],
            )

        return await read(info, work)
