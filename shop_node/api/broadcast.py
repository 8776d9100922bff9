"""Send to a list over GraphQL: from any filtered members list of the dashboard, a preview
of a promotional message to its members, the send (run by a worker, after the commit) and
its progress. The list is given with the members list's own filter input, so the send
reaches exactly whom the list shows. Managers only: it speaks to the club's members in
the shop's name (the scope that changes the club's rules and offers)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from federation.ids import EVENT_ID
from mallnet.authz import guard_fields, requires
from mallnet.gql import JSONDocument, Rial
from mallnet.gql_limits import page_cursor, page_size
from mallnet.jalali import TEHRAN
from shop_node.api.access import MANAGE, actor, runtime
from shop_node.api.members import MemberFilterInput
from shop_node.api.messages import MessageSegments, MessageStatus, MessageStatusCount
from shop_node.api.problems import IdempotencyConflict, InvalidInput, SendLimit, attempt
from shop_node.services import broadcast

MAX_PAGE = 50
SEND_TASK = "node.send_broadcast"


@strawberry.type(description="What is wrong with a broadcast's text, in English and Persian.")
class BroadcastTextProblem:
    field: str = strawberry.field(description="The argument it is about: text.")
    code: str = strawberry.field(
        description="empty, too_long, braces or control_characters; clients branch on these."
    )
    message_en: str
    message_fa: str


@strawberry.type(description="What sending a text to a list would do now; nothing is sent.")
class BroadcastPreview:
    matched: int = strawberry.field(description="Members the filter selects.")
    recipients: int = strawberry.field(
        description="Members who would get it: promotional consent, and SMS consent or a "
        "linked Telegram chat."
    )
    by_sms: int
    by_telegram: int
    lacking_consent: int = strawberry.field(
        description="Members who would get nothing: no promotional consent, or no channel."
    )
    campaigns_off: bool = strawberry.field(
        description="The club policy turned campaign messages off: nobody would get it."
    )
    quiet_now: bool = strawberry.field(description="Inside the quiet hours (Tehran time).")
    sends_at: dt.datetime = strawberry.field(
        description="When the messages go out: now, or when the quiet hours end."
    )
    sends_at_tehran: str = strawberry.field(description="sendsAt on Tehran's clock, HH:MM.")
    text: str | None = strawberry.field(
        description="The message as a member gets it (the shop's name, the opt-out line); "
        "null while the text has problems."
    )
    sample_member_id: strawberry.ID | None = strawberry.field(
        description="The member the text was shown for (the list's first)."
    )
    segments: MessageSegments | None
    part_price_rial: Rial
    cost_rial: Rial = strawberry.field(description="Recipients by SMS × parts × part price.")
    problems: list[BroadcastTextProblem]


@strawberry.type(description="A promotional message to a list, and how far it has gone.")
class Broadcast:
    id: strawberry.ID
    status: str = strawberry.field(description="queued, sending, done or failed.")
    text: str
    lang: str
    filter: JSONDocument = strawberry.field(description="The list's filter, as sent.")
    created_by: str
    created_at: dt.datetime
    total: int = strawberry.field(description="Members the list held when sending began.")
    queued: int = strawberry.field(description="Members a message was queued for.")
    skipped_no_consent: int = strawberry.field(
        description="Members who got none: no promotional consent, or no channel."
    )
    held: int = strawberry.field(
        description="Members whose message was queued in the quiet hours (it waits)."
    )
    reason: str | None = strawberry.field(description="Why it failed.")
    finished_at: dt.datetime | None
    deliveries: list[MessageStatusCount] = strawberry.field(
        description="Its messages per delivery state (the log filtered by this batch)."
    )

    @classmethod
    def of(cls, p: broadcast.Progress) -> Broadcast:
        row = p.broadcast
        return cls(
            id=strawberry.ID(row.id),
            status=row.status,
            text=row.text,
            lang=row.lang,
            filter=JSONDocument(row.filter),
            created_by=row.created_by,
            created_at=row.created_at,
            total=row.total,
            queued=row.queued,
            skipped_no_consent=row.skipped_no_consent,
            held=row.held,
            reason=row.reason,
            finished_at=row.finished_at,
            deliveries=[
                MessageStatusCount(status=MessageStatus(s), count=n)
                for s, n in sorted(p.deliveries.items())
            ],
        )


@strawberry.type
class BroadcastPage:
    items: list[Broadcast]
    next_after: strawberry.ID | None = strawberry.field(
        description="Pass as 'after' for the next, older page; null on the last page."
    )


for _type in (BroadcastTextProblem, BroadcastPreview, Broadcast, BroadcastPage):
    guard_fields(_type, *MANAGE)

BroadcastPreviewResult = Annotated[
    BroadcastPreview | InvalidInput, strawberry.union("BroadcastPreviewResult")
]
SendToMembersResult = Annotated[
    Broadcast | InvalidInput | IdempotencyConflict | SendLimit,
    strawberry.union("SendToMembersResult"),
]


def _preview(p: broadcast.Preview) -> BroadcastPreview:
    c = p.counted
    return BroadcastPreview(
        matched=p.audience.matched,
        recipients=p.audience.recipients,
        by_sms=p.audience.by_sms,
        by_telegram=p.audience.by_telegram,
        lacking_consent=p.audience.lacking_consent,
        campaigns_off=p.campaigns_off,
        quiet_now=p.quiet_now,
        sends_at=p.sends_at,
        sends_at_tehran=f"{p.sends_at.astimezone(TEHRAN):%H:%M}",
        text=p.text,
        sample_member_id=None
        if p.sample_member_id is None
        else strawberry.ID(str(p.sample_member_id)),
        segments=None
        if c is None
        else MessageSegments(
            encoding=c.encoding, units=c.units, parts=c.parts, per_part=c.per_part
        ),
        part_price_rial=Rial(p.part_price_rial),
        cost_rial=Rial(p.cost_rial),
        problems=[
            BroadcastTextProblem(field="text", code=x.code, message_en=x.en, message_fa=x.fa)
            for x in p.problems
        ],
    )


@strawberry.type
class BroadcastQuery:
    @strawberry.field(
        extensions=requires(*MANAGE),
        description="What sending text to the members list would do now: how many it "
        "reaches, the message as sent, its SMS parts and cost, the quiet hours. Sends nothing.",
    )
    async def broadcast_preview(
        self, info: strawberry.Info, filter: MemberFilterInput, text: str, lang: str
    ) -> BroadcastPreviewResult:
        async def work() -> BroadcastPreview:
            return _preview(await broadcast.preview(runtime(info), filter.to_domain(), text, lang))

        return await attempt(work)

    @strawberry.field(extensions=requires(*MANAGE), description="One broadcast (null: none such).")
    async def broadcast(self, info: strawberry.Info, id: strawberry.ID) -> Broadcast | None:
        if not EVENT_ID.fullmatch(str(id)):
            return None
        found = await broadcast.progress(runtime(info), str(id))
        return None if found is None else Broadcast.of(found)

    @strawberry.field(extensions=requires(*MANAGE), description="Broadcasts, newest first.")
    async def broadcasts(
        self, info: strawberry.Info, first: int = 20, after: strawberry.ID | None = None
    ) -> BroadcastPage:
        size = page_size(first, MAX_PAGE)
        cursor = page_cursor(None if after is None else str(after), EVENT_ID)
        found = await broadcast.listing(runtime(info), size + 1, cursor)
        items = [Broadcast.of(p) for p in found[:size]]
        return BroadcastPage(items=items, next_after=items[-1].id if len(found) > size else None)


@strawberry.type
class BroadcastMutation:
    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Send a promotional text to the members list (those with consent), on "
        "a worker; follow it with broadcast(id). The same idempotencyKey again returns the "
        "same broadcast and sends nothing more.",
    )
    async def send_to_members(
        self,
        info: strawberry.Info,
        filter: MemberFilterInput,
        text: str,
        lang: str,
        idempotency_key: str,
    ) -> SendToMembersResult:
        node = runtime(info)

        async def work() -> Broadcast:
            made = await broadcast.create(
                node, filter.to_domain(), text, lang, idempotency_key, actor(info)
            )
            if not made.replayed:
                # After the commit, so the worker finds the row.
                await info.context["state"].enqueue(
                    SEND_TASK, node.shop, made.progress.broadcast.id
                )
            return Broadcast.of(made.progress)

        return await attempt(work)
