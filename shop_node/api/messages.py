"""The shop's messages over GraphQL, for the dashboard: the delivery log (newest first,
paged, filtered by status, member and batch, with counts per status) and the preview of a
message's text before the shop saves it. Both are staff reading about members (the scopes
of the members list); the log shows a member's phone masked, never whole."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from mallnet.authz import guard_fields, requires
from mallnet.gql import Rial
from mallnet.gql_limits import page_cursor, page_size
from mallnet.messaging.gql import MESSAGE_CURSOR, MessageStatus
from mallnet.messaging.templates import Problem as TextProblem
from shop_node.api.access import STAFF, runtime
from shop_node.api.problems import InvalidInput, attempt
from shop_node.services import message_log


@strawberry.enum(description="What is wrong with a shop's text; clients branch on these.")
class TemplateProblemCode(Enum):
    EMPTY = "empty"
    UNBALANCED_BRACE = "unbalanced_brace"
    BAD_PLACEHOLDER = "bad_placeholder"
    UNKNOWN_PLACEHOLDER = "unknown_placeholder"
    MISSING_PLACEHOLDER = "missing_placeholder"
    TOO_LONG = "too_long"


@strawberry.type(description="The member a message was to, as the log shows her.")
class MessageMember:
    card_code: str
    name: str | None


@strawberry.type(description="One message of the delivery log.")
class LoggedMessage:
    id: strawberry.ID
    kind: str = strawberry.field(description="welcome, purchase, credit_change, campaign...")
    medium: str = strawberry.field(description="sms or telegram.")
    line: str = strawberry.field(description="service or promotional.")
    to: str = strawberry.field(description="The recipient, masked: 0912***4567, or Telegram.")
    member: MessageMember | None
    text: str
    parts: int = strawberry.field(description="SMS parts the text takes.")
    cost_rial: Rial | None = strawberry.field(
        description="The estimate when queued; the provider's price once it says."
    )
    status: MessageStatus
    reason: str | None = strawberry.field(description="Why it failed or was skipped.")
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    settled_at: dt.datetime | None = strawberry.field(
        description="When it reached its final state (delivered, failed, unknown, skipped)."
    )

    @classmethod
    def of(cls, m: message_log.LoggedMessage) -> LoggedMessage:
        member = (
            None
            if m.member is None
            else MessageMember(card_code=m.member.card_code, name=m.member.name)
        )
        return cls(
            id=strawberry.ID(str(m.id)),
            kind=m.kind,
            medium=m.medium,
            line=m.line,
            to=m.to,
            member=member,
            text=m.text,
            parts=m.parts,
            cost_rial=None if m.cost_rial is None else Rial(m.cost_rial),
            status=MessageStatus(m.status),
            reason=m.reason,
            attempts=m.attempts,
            created_at=m.created_at,
            sent_at=m.sent_at,
            settled_at=m.settled_at,
        )


@strawberry.type
class MessageStatusCount:
    status: MessageStatus
    count: int


@strawberry.type
class MessageLogPage:
    items: list[LoggedMessage]
    end_cursor: str | None = strawberry.field(
        description="Pass as 'after' for the next, older page; null when there is none."
    )
    has_next_page: bool
    filter: strawberry.Private[message_log.LogFilter]

    @strawberry.field(
        description="Messages in each status (every status, zeros too) for the member and "
        "batch filters; the status filter is left out, so each status keeps its number."
    )
    async def counts(self, info: strawberry.Info) -> list[MessageStatusCount]:
        found = await message_log.status_counts(runtime(info), self.filter)
        return [MessageStatusCount(status=MessageStatus(s), count=n) for s, n in found.items()]


@strawberry.type(description="How the network counts a text: its encoding, units and parts.")
class MessageSegments:
    encoding: str = strawberry.field(description="GSM-7 or UCS-2 (nearly every Persian text).")
    units: int = strawberry.field(description="Septets (GSM-7) or UTF-16 units (UCS-2).")
    parts: int
    per_part: int = strawberry.field(
        description="The limit that applied: 160/70 for one part, 153/67 once split."
    )


@strawberry.type(description="What is wrong with a shop's text, in English and Persian.")
class TemplateProblem:
    field: str = strawberry.field(description="The argument it is about: template.")
    code: TemplateProblemCode
    message_en: str
    message_fa: str

    @classmethod
    def of(cls, p: TextProblem) -> TemplateProblem:
        return cls(
            field="template",
            code=TemplateProblemCode(p.code),
            message_en=p.en,
            message_fa=p.fa,
        )


@strawberry.type(description="A message as a member would get it, with typical values.")
class MessagePreview:
    kind: str
    lang: str
    line: str = strawberry.field(description="service or promotional.")
    text: str
    segments: MessageSegments
    part_texts: list[str] = strawberry.field(description="The parts a phone receives, in order.")
    cost_rial: Rial = strawberry.field(description="One SMS of it: parts × the price of a part.")
    template_used: bool = strawberry.field(
        description="False when the text shown is the default: no template was given, or it "
        "has a problem that keeps it from being sent (it would go out as the default)."
    )
    problems: list[TemplateProblem]

    @classmethod
    def of(cls, p: message_log.Preview) -> MessagePreview:
        s = p.segments
        return cls(
            kind=p.kind,
            lang=p.lang,
            line=p.line,
            text=p.text,
            segments=MessageSegments(
                encoding=s.encoding, units=s.units, parts=s.parts, per_part=s.per_part
            ),
            part_texts=p.part_texts,
            cost_rial=Rial(p.cost_rial),
            template_used=p.template_used,
            problems=[TemplateProblem.of(x) for x in p.problems],
        )


for _type in (
    MessageMember,
    LoggedMessage,
    MessageStatusCount,
    MessageLogPage,
    MessageSegments,
    TemplateProblem,
    MessagePreview,
):
    guard_fields(_type, *STAFF)

MessagePreviewResult = Annotated[
    MessagePreview | InvalidInput, strawberry.union("MessagePreviewResult")
]


@strawberry.type
class MessageQuery:
    @strawberry.field(
        extensions=requires(*STAFF),
        description="The delivery log, newest first, paged by endCursor. An unknown card "
        "code or batch id gives an empty page.",
    )
    async def messages(
        self,
        info: strawberry.Info,
        first: int = 50,
        after: str | None = None,
        status: MessageStatus | None = None,
        member_card_code: str | None = None,
        batch_id: str | None = None,
    ) -> MessageLogPage:
        size = page_size(first, message_log.MAX_PAGE)
        cursor = page_cursor(after, MESSAGE_CURSOR)
        wanted = message_log.LogFilter(
            status=None if status is None else status.value,
            member_card_code=member_card_code,
            batch_id=batch_id,
        )
        page = await message_log.log_page(
            runtime(info), wanted, first=size, after=None if cursor is None else int(cursor)
        )
        return MessageLogPage(
            items=[LoggedMessage.of(m) for m in page.messages],
            end_cursor=None if page.end_cursor is None else str(page.end_cursor),
            has_next_page=page.has_next_page,
            filter=wanted,
        )

    @strawberry.field(
        extensions=requires(*STAFF),
        description="A message of this kind as it would go out (the shop's own template, "
        "else the default) with typical values and this shop's name: its SMS parts, cost "
        "and the template's problems. Saves nothing.",
    )
    async def message_preview(
        self, info: strawberry.Info, kind: str, lang: str, template: str | None = None
    ) -> MessagePreviewResult:
        async def work() -> MessagePreview:
            return MessagePreview.of(await message_log.preview(runtime(info), kind, lang, template))

        return await attempt(work)
