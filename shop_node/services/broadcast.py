"""Send to a list: a manager's promotional text to the members a dashboard list shows.

The list is the members page's own query (``member_search``), so "send to this list"
reaches exactly whom the list shows, and nobody who joined after the click. First a
preview, counted in SQL however long the list: how many it matches, how many would
receive the message (promotional consent, and SMS consent or a linked Telegram chat, as
``notify.tell`` decides), the text as a member gets it (the shop's name, the opt-out hint)
with its SMS parts and cost, and whether the quiet hours would hold it.

The send itself is a :class:`Broadcast` row, keyed by the click (a double click makes
one), walked by a worker in member-id order, a chunk per transaction. Each member's
message is keyed by the broadcast and the member, and each chunk moves the row's cursor
and counts in the transaction that queues its messages: a worker killed halfway and run
again resumes after the last chunk it committed, and queues nobody twice even if it
walked the whole list again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from mallnet.jalali import tehran_date
from mallnet.messaging import optout_link, segments
from mallnet.messaging.dispatch import estimate_rial
from mallnet.messaging.templates import (
    Kind,
    Lang,
    Values,
)
from mallnet.sql_days import start_of_tehran_day
from mallnet.values import KEY_HELP, is_idempotency_key
from shop_node.db.models import Broadcast, Member, Message, TelegramChat
from shop_node.domain.errors import (
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    SendLimitReached,
)
from shop_node.domain.policy import ClubPolicy
from shop_node.services import member_search, notify
from shop_node.services.broadcast_text import TextProblem, render_text, text_problems
from shop_node.services.member_search import MemberFilter, check_filter
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

# Members per transaction: short enough not to hold the write lock long, long enough that
# a list of ten thousand is twenty transactions.
CHUNK = 500
# The language of a broadcast's frame (the shop's name, the opt-out line); the manager
# writes the text itself in whichever language the members read.
LANGS: tuple[Lang, ...] = ("fa", "en")
_DATES = frozenset(
    f.name for f in dataclasses.fields(MemberFilter) if f.name.endswith(("_from", "_to"))
)


@dataclass(frozen=True)
class Audience:
    """The members a filter matches, and how the message would reach them."""

    matched: int
    recipients: int  # at least one message: promotional consent and a channel she accepts
    by_sms: int
    by_telegram: int

    @property
    def lacking_consent(self) -> int:
        """Matched but receiving nothing: no promotional consent, or no channel."""
        return self.matched - self.recipients


@dataclass(frozen=True)
class Preview:
    audience: Audience
    campaigns_off: bool  # the policy turned campaign messages off: nobody would get one
    quiet_now: bool
    sends_at: dt.datetime  # now, or when the quiet hours end (Tehran time)
    text: str | None  # as a sample member gets it; None when the text has problems
    sample_member_id: int | None
    counted: segments.Segments | None
    part_price_rial: int
    cost_rial: int  # recipients by SMS x parts x part price
    problems: list[TextProblem]


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    deliveries: Mapping[str, int]  # message status -> how many of its messages


@dataclass(frozen=True)
class Created:
    progress: Progress
    replayed: bool  # the click's key was used already: the original, nothing new to run


def filter_to_json(f: MemberFilter) -> dict[str, Any]:
    """The filter as stored on the row: its set fields, dates as ISO days."""
    return {
        name: value.isoformat() if isinstance(value, dt.date) else value
        for name, value in dataclasses.asdict(f).items()
        if value is not None
    }


def filter_from_json(data: Mapping[str, Any]) -> MemberFilter:
    fields: dict[str, Any] = {
        name: dt.date.fromisoformat(value) if name in _DATES else value
        for name, value in data.items()
    }
    return MemberFilter(**fields)


def _lang(lang: str) -> Lang:
    for known in LANGS:
        if lang == known:
            return known
    raise InvalidInput.one("lang", f"one of {', '.join(LANGS)}")


async def _checked_policy(
    session: AsyncSession, runtime: NodeRuntime, f: MemberFilter
) -> ClubPolicy:
    _version, policy = await current_policy(session, runtime)
    problems = check_filter(f, policy)
    if problems:
        raise InvalidInput(problems)
    return policy


def _members(
    session: AsyncSession, runtime: NodeRuntime, f: MemberFilter, policy: ClubPolicy
) -> Select[Member, dt.datetime]:
    # The members page's own query, so the send reaches exactly whom the list shows.
    return member_search._filtered(session, f, policy, runtime.clock())


def _campaigns_off(policy: ClubPolicy) -> bool:
    return Kind.CAMPAIGN.value in policy.messaging.off


async def _audience(session: AsyncSession, members: Select[Member, dt.datetime]) -> Audience:
    """Counted in one statement over the filter, whatever the list's length."""
    listed = members.subquery()
    # A chat counts for offers only with her yes in it.
    chat = exists(
        select(TelegramChat.member_id).where(
            TelegramChat.member_id == listed.c.id, TelegramChat.promotional.is_(True)
        )
    )
    promotional = listed.c.consent_promotional.is_(True)
    sms = listed.c.consent_sms.is_(True)

    def how_many(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    matched, recipients, by_sms, by_telegram = (
        await session.execute(
            select(
                func.count(),
                how_many(and_(promotional, or_(sms, chat))),
                how_many(and_(promotional, sms)),
                how_many(and_(promotional, chat)),
            ).select_from(listed)
        )
    ).one()
    return Audience(int(matched), int(recipients), int(by_sms), int(by_telegram))


async def preview(runtime: NodeRuntime, f: MemberFilter, text: str, lang: str) -> Preview:
    """What sending ``text`` to the list ``f`` would do now; writes nothing."""
    chosen = _lang(lang)

    async def work(session: AsyncSession) -> Preview:
        policy = await _checked_policy(session, runtime, f)
        members = _members(session, runtime, f, policy)
        audience = await _audience(session, members)
        off = _campaigns_off(policy)
        if off:
            audience = Audience(audience.matched, 0, 0, 0)
        shop = notify.shop_name(policy, runtime.shop, chosen)
        link = optout_link.sample_url(runtime.hub_url, runtime.shop)
        problems = text_problems(text, chosen, shop, link)
        sample = (await session.execute(members.order_by(Member.id).limit(1))).first()
        sample_member = None if sample is None else sample[0]
        now = runtime.clock()
        shown = counted = None
        cost = 0
        if not problems:
            name = None if sample_member is None else sample_member.name
            shown = render_text(text, chosen, shop, name, link)
            counted = segments.count(shown)
            cost = audience.by_sms * estimate_rial(shown, runtime.sms_part_price_rial)[1]
        return Preview(
            audience=audience,
            campaigns_off=off,
            quiet_now=runtime.quiet.is_quiet(now),
            sends_at=runtime.quiet.next_open(now),
            text=shown,
            sample_member_id=None if sample_member is None else sample_member.id,
            counted=counted,
            part_price_rial=runtime.sms_part_price_rial,
            cost_rial=cost,
            problems=problems,
        )

    return await runtime.read(work)


async def create(
    runtime: NodeRuntime, f: MemberFilter, text: str, lang: str, key: str, actor: str
) -> Created:
    """A broadcast of ``text`` to the list ``f``, to be run by a worker; bad input writes
    nothing. The click's ``key`` again returns the broadcast it made (another request
    under the same key is a conflict)."""
    if not is_idempotency_key(key):
        raise InvalidInput.one("idempotencyKey", KEY_HELP)
    chosen = _lang(lang)
    stored = filter_to_json(f)

    async def work(session: AsyncSession) -> Created:
        same = await session.scalar(select(Broadcast).where(Broadcast.idempotency_key == key))
        if same is not None:
            if (same.filter, same.text, same.lang) != (stored, text, chosen):
                raise IdempotencyConflict(
                    f"the key {key!r} already sent another message or list: make a new key"
                )
            return Created(Progress(same, (await _deliveries(session, [same.id]))[same.id]), True)
        policy = await _checked_policy(session, runtime, f)
        shop = notify.shop_name(policy, runtime.shop, chosen)
        link = optout_link.sample_url(runtime.hub_url, runtime.shop)
        problems = text_problems(text, chosen, shop, link)
        if problems:
            raise InvalidInput([FieldProblem("text", p.en) for p in problems])
        if _campaigns_off(policy):
            raise InvalidInput.one(
                "text", "campaign messages are turned off in the club policy (messaging.off)"
            )
        now = runtime.clock()
        await _within_limits(session, now)
        row = Broadcast(
            id=new_event_id(int(now.timestamp() * 1000)),
            idempotency_key=key,
            created_by=actor,
            created_at=now,
            filter=stored,
            text=text,
            lang=chosen,
            status="queued",
            total=0,
            queued=0,
            skipped_no_consent=0,
            held=0,
            max_member_id=await session.scalar(select(func.max(Member.id))) or 0,
        )
        session.add(row)
        await session.flush()
        return Created(Progress(row, {}), replayed=False)

    # Two clicks racing: the loser's insert breaks the key's uniqueness, and the retry
    # finds the winner's broadcast.
    return await runtime.transaction(work)


# Sends to a list a shop may start in one Tehran day: each goes to every consenting member
# and costs whoever pays for its SMS, so a stolen session (or a stuck button) must not be
# able to send the list a hundred times.
PER_DAY: Final = 3


async def _within_limits(session: AsyncSession, now: dt.datetime) -> None:
    """One send at a time, and at most :data:`PER_DAY` a Tehran day."""
    running = await session.scalar(
        select(func.count())
        .select_from(Broadcast)
        .where(Broadcast.status.in_(("queued", "sending")))
    )
    if running:
        raise SendLimitReached("a send to a list is still running: wait until it is done")
    day_start = start_of_tehran_day(tehran_date(now))
    today = await session.scalar(
        select(func.count()).select_from(Broadcast).where(Broadcast.created_at >= day_start)
    )
    if (today or 0) >= PER_DAY:
        raise SendLimitReached(f"this shop has sent its lists {PER_DAY} messages today, the most")


async def _locked(session: AsyncSession, broadcast_id: str) -> Broadcast:
    row = await session.scalar(
        select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update()
    )
    if row is None:
        raise LookupError(f"no broadcast {broadcast_id!r} at this shop")
    return row


def _fail(row: Broadcast, reason: str, now: dt.datetime) -> Broadcast:
    row.status, row.reason, row.finished_at = "failed", reason[:300], now
    return row


async def _policy_for_sending(
    session: AsyncSession, runtime: NodeRuntime, row: Broadcast
) -> ClubPolicy | None:
    """The policy, or None after failing ``row``: the list's filter no longer fits the
    policy (a tier removed since the click), or campaigns were turned off."""
    _version, policy = await current_policy(session, runtime)
    problems = check_filter(filter_from_json(row.filter), policy)
    if problems:
        wrong = "; ".join(f"{p.field}: {p.message}" for p in problems)
        _fail(row, f"the list's filter no longer fits the club policy ({wrong})", runtime.clock())
        return None
    if _campaigns_off(policy):
        _fail(row, "campaign messages were turned off in the club policy", runtime.clock())
        return None
    return policy


async def start(runtime: NodeRuntime, broadcast_id: str) -> Broadcast:
    """Begin sending: count the list (its members up to the click's newest). A broadcast
    begun, done or failed already is left as it is."""

    async def work(session: AsyncSession) -> Broadcast:
        row = await _locked(session, broadcast_id)
        if row.status != "queued":
            return row
        policy = await _policy_for_sending(session, runtime, row)
        if policy is None:
            return row
        members = _members(session, runtime, filter_from_json(row.filter), policy)
        row.total = (
            await _audience(session, members.where(Member.id <= row.max_member_id))
        ).matched
        row.status = "sending"
        return row

    return await runtime.transaction(work)


async def send_chunk(runtime: NodeRuntime, broadcast_id: str, size: int = CHUNK) -> Broadcast:
    """Queue the message to the next ``size`` members of the list after the cursor, and
    move the cursor and counts in the same transaction; done after the last member."""

    async def work(session: AsyncSession) -> Broadcast:
        # Locked: two workers given the same broadcast take its chunks in turn.
        row = await _locked(session, broadcast_id)
        if row.status != "sending":
            return row
        policy = await _policy_for_sending(session, runtime, row)
        if policy is None:
            return row
        after = row.cursor_member_id or 0
        members = _members(session, runtime, filter_from_json(row.filter), policy)
        chunk = [
            member
            for member, _last_visit in (
                await session.execute(
                    members.where(Member.id > after, Member.id <= row.max_member_id)
                    .order_by(Member.id)
                    .limit(size)
                )
            ).all()
        ]
        quiet = runtime.quiet.is_quiet(runtime.clock())
        values = Values(text=row.text)
        for member in chunk:
            queued = await notify.tell(
                session,
                runtime,
                policy,
                member,
                Kind.CAMPAIGN,
                values,
                key=f"broadcast:{row.id}:{member.id}",
                batch_id=row.id,
                lang=_lang(row.lang),
            )
            if queued:
                row.queued += 1
                row.held += 1 if quiet else 0
            else:
                row.skipped_no_consent += 1
        if chunk:
            row.cursor_member_id = chunk[-1].id
        if len(chunk) < size:
            row.status, row.finished_at = "done", runtime.clock()
        return row

    return await runtime.transaction(work)


async def send(runtime: NodeRuntime, broadcast_id: str, size: int = CHUNK) -> Broadcast:
    """Run a broadcast to its end (what the worker's task does); safe to run again."""
    row = await start(runtime, broadcast_id)
    while row.status == "sending":
        row = await send_chunk(runtime, broadcast_id, size)
    return row


async def _deliveries(session: AsyncSession, ids: list[str]) -> dict[str, dict[str, int]]:
    """How many of each broadcast's messages are in each delivery state."""
    found: dict[str, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return found
    counted = await session.execute(
        select(Message.batch_id, Message.status, func.count())
        .where(Message.batch_id.in_(ids))
        .group_by(Message.batch_id, Message.status)
    )
    for batch_id, status, n in counted.all():
        found[str(batch_id)][status] = int(n)
    return found


async def progress(runtime: NodeRuntime, broadcast_id: str) -> Progress | None:
    async def work(session: AsyncSession) -> Progress | None:
        row = await session.get(Broadcast, broadcast_id)
        if row is None:
            return None
        return Progress(row, (await _deliveries(session, [row.id]))[row.id])

    return await runtime.read(work)


async def listing(runtime: NodeRuntime, first: int, after: str | None) -> list[Progress]:
    """Broadcasts newest first, ``first`` of them after the id ``after``."""

    async def work(session: AsyncSession) -> list[Progress]:
        query = select(Broadcast).order_by(Broadcast.id.desc()).limit(first)
        if after is not None:
            query = query.where(Broadcast.id < after)
        rows = list(await session.scalars(query))
        states = await _deliveries(session, [r.id for r in rows])
        return [Progress(r, states[r.id]) for r in rows]

    return await runtime.read(work)


async def unfinished(runtime: NodeRuntime, older_than_s: int = 300) -> list[str]:
    """Broadcasts queued or sending for longer than ``older_than_s``: their task never
    reached a worker (the broker was away at the click) or its worker died for good. For
    a periodic task to run again (``send`` is safe to run twice at once)."""
    since = runtime.clock() - dt.timedelta(seconds=older_than_s)

    async def work(session: AsyncSession) -> list[str]:
        return list(
            await session.scalars(
                select(Broadcast.id)
                .where(Broadcast.status.in_(("queued", "sending")), Broadcast.created_at < since)
                .order_by(Broadcast.id)
            )
        )

    return await runtime.read(work)
