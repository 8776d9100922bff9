"""The hub's delivery log over GraphQL, for the mall console: the messages the hub sends
itself (sign-in and redemption codes, lottery wins), newest first, paged by cursor,
filtered by status and kind, with the counts per status and what the selection cost.

Mall admins only (``mall:admin``, as the console's shops and users pages): the log speaks
of shoppers, and shows each phone masked, each code masked, never whole.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.common import read
from hub.services import message_log
from mallnet.authz import guard_fields, requires
from mallnet.gql import Rial
from mallnet.gql_limits import page_cursor, page_size
from mallnet.messaging.gql import MESSAGE_CURSOR, MessageStatus
from mallnet.scopes import Scope

READERS = (Scope.MALL_ADMIN,)


@strawberry.enum(description="What the hub sends itself.")
class HubMessageKind(Enum):
    OTP = "otp"
    REDEMPTION = "redemption"
    LOTTERY_WIN = "lottery_win"


@strawberry.type(description="One message of the hub's delivery log.")
class HubMessage:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="otp, redemption or lottery_win (a kind added later reads as itself)."
    )
    medium: str = strawberry.field(description="sms or telegram.")
    line: str = strawberry.field(description="service or promotional.")
    to: str = strawberry.field(description="The recipient, masked: 0912***4567, or Telegram.")
    text: str = strawberry.field(description="What was sent, its codes masked.")
    parts: int = strawberry.field(description="SMS parts the text takes.")
    cost_rial: Rial | None = strawberry.field(
        description="The estimate when sent; the provider's price once it says."
    )
    status: MessageStatus
    reason: str | None = strawberry.field(description="Why it failed, in the provider's words.")
    attempts: int
    provider: str | None = strawberry.field(description="file or kavenegar.")
    created_at: dt.datetime
    sent_at: dt.datetime | None
    settled_at: dt.datetime | None = strawberry.field(
        description="When it reached its final state (delivered, failed, unknown, skipped)."
    )

    @classmethod
    def of(cls, m: message_log.LoggedMessage) -> HubMessage:
        return cls(
            id=strawberry.ID(str(m.id)),
            kind=m.kind,
            medium=m.medium,
            line=m.line,
            to=m.to,
            text=m.text,
            parts=m.parts,
            cost_rial=None if m.cost_rial is None else Rial(m.cost_rial),
            status=MessageStatus(m.status),
            reason=m.reason,
            attempts=m.attempts,
            provider=m.provider,
            created_at=m.created_at,
            sent_at=m.sent_at,
            settled_at=m.settled_at,
        )


@strawberry.type
class MessageStatusCount:
    status: MessageStatus
    count: int


@strawberry.type(description="A page of the hub's delivery log, newest first.")
class HubMessageLog:
    items: list[HubMessage]
    end_cursor: str | None = strawberry.field(
        description="Pass as 'after' for the next, older page; null when there is none."
    )
    has_next_page: bool
    filter: strawberry.Private[message_log.LogFilter]

    @strawberry.field(
        description="Messages in each status (every status, zeros too) of the kind filter; "
        "the status filter is left out, so each status keeps its number."
    )
    async def counts(self, info: strawberry.Info) -> list[MessageStatusCount]:
        async def work(session: AsyncSession) -> list[MessageStatusCount]:
            found = await message_log.status_counts(session, self.filter)
            return [MessageStatusCount(status=MessageStatus(s), count=n) for s, n in found.items()]

        counted: list[MessageStatusCount] = await read(info, work)
        return counted

    @strawberry.field(
        description="What every message of the filter (status and kind, all pages) cost: "
        "the provider's price where it said, else the estimate."
    )
    async def total_cost_rial(self, info: strawberry.Info) -> Rial:
        async def work(session: AsyncSession) -> Rial:
            return Rial(await message_log.total_cost_rial(session, self.filter))

        total: Rial = await read(info, work)
        return total


for _type in (HubMessage, MessageStatusCount, HubMessageLog):
    guard_fields(_type, *READERS)


@strawberry.type
class HubMessageQuery:
    @strawberry.field(
        extensions=requires(*READERS),
        description="The hub's own messages (sign-in and redemption codes, lottery wins), "
        "newest first, paged by endCursor; phones and codes masked.",
    )
    async def hub_messages(
        self,
        info: strawberry.Info,
        first: int = 50,
        after: str | None = None,
        status: MessageStatus | None = None,
        kind: HubMessageKind | None = None,
    ) -> HubMessageLog:
        size = page_size(first, message_log.MAX_PAGE)
        cursor = page_cursor(after, MESSAGE_CURSOR)
        wanted = message_log.LogFilter(
            status=None if status is None else status.value,
            kind=None if kind is None else kind.value,
        )

        async def work(session: AsyncSession) -> message_log.LogPage:
            return await message_log.log_page(
                session, wanted, first=size, after=None if cursor is None else int(cursor)
            )

        page: message_log.LogPage = await read(info, work)
        return HubMessageLog(
            items=[HubMessage.of(m) for m in page.messages],
            end_cursor=None if page.end_cursor is None else str(page.end_cursor),
            has_next_page=page.has_next_page,
            filter=wanted,
        )
