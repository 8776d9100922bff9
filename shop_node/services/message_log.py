"""What the dashboard reads of the shop's messages: the delivery log, a page at a time,
with how many messages are in each status; and the preview of a text before the shop
saves it.

The log is staff reading about members, so it carries no more of them than staff need:
the recipient is masked (``0912***4567``; a Telegram chat is just "Telegram"), and the
member is named by card code and name. The raw address never leaves this module.

A page costs the same few statements however long it is: the messages, then their
members in one more statement (a member filter is a subquery of the first, so an unknown
card code costs nothing extra and simply matches nothing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import ColumnElement, String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import EVENT_ID
from mallnet.messaging import optout_link
from mallnet.messaging.dispatch import estimate_rial
from mallnet.messaging.log import STATUSES
from mallnet.messaging.log_reads import counts_by_status, masked_recipient, newest_first
from mallnet.messaging.segments import Segments, count, split
from mallnet.messaging.templates import (
    MAX_TEMPLATE_CHARS,
    SAMPLES,
    SPECS,
    Kind,
    Lang,
    Problem,
    check_template,
    render,
)
from shop_node.db.models import Member, Message
from shop_node.domain.errors import FieldProblem, InvalidInput
from shop_node.services.members import valid_card_code
from shop_node.services.notify import shop_name
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

MAX_PAGE: Final = 100
# A batch id as the log stores it (String(26)): anything longer or with control
# characters matches no message, and PostgreSQL would refuse a NUL outright.
# Kinds a shop sends (the hub's own, the sign-in code, names no shop and is not one).
SHOP_KINDS: Final = tuple(kind.value for kind in Kind if SPECS[kind].names_shop)


@dataclass(frozen=True)
class LogFilter:
    """Which messages to list; every field optional (None: no condition)."""

    status: str | None = None
    member_card_code: str | None = None
    batch_id: str | None = None


@dataclass(frozen=True)
class Addressee:
    """The member a message was to, as staff may see her in the log."""

    card_code: str
    name: str | None


@dataclass(frozen=True)
class LoggedMessage:
    """One row of the log as it is shown: the recipient masked, the member by card."""

    id: int
    kind: str
    medium: str
    line: str
    to: str
    member: Addressee | None
    text: str
    parts: int
    cost_rial: int | None
    status: str
    reason: str | None
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    settled_at: dt.datetime | None


@dataclass(frozen=True)
class LogPage:
    messages: list[LoggedMessage]
    end_cursor: int | None
    has_next_page: bool


def _matchable(f: LogFilter) -> bool:
    """Whether any message could match: a card code the node never gives out, or a batch
    id longer than the column holds, matches none, and is not worth a query."""
    if f.member_card_code is not None and not valid_card_code(f.member_card_code.strip()):
        return False
    batch = f.batch_id
    # A batch is a send to a list, named by a ULID like every id the node makes.
    return batch is None or EVENT_ID.fullmatch(batch) is not None


def _conditions(f: LogFilter, *, with_status: bool = True) -> list[ColumnElement[bool]]:
    if f.status is not None and f.status not in STATUSES:
        raise InvalidInput.one("status", "one of " + ", ".join(STATUSES))
    conditions: list[ColumnElement[bool]] = []
    if with_status and f.status is not None:
        conditions.append(Message.status == f.status)
    if f.member_card_code is not None:
        # A node's message names its member by id, as text (``notify.tell``): the member
        # of that card, as text, in the same statement; none for an unknown card.
        member = (
            select(cast(Member.id, String))
            .where(Member.card_code == f.member_card_code.strip())
            .scalar_subquery()
        )
        conditions.append(Message.subject == member)
    if f.batch_id is not None:
        conditions.append(Message.batch_id == f.batch_id)
    return conditions


async def _addressees(session: AsyncSession, rows: list[Message]) -> dict[str, Addressee]:
    """The members of a page's messages, by subject, in one statement."""
    ids = {
        int(r.subject) for r in rows if r.subject and r.subject.isascii() and r.subject.isdigit()
    }
    if not ids:
        return {}
    found = await session.execute(
        select(Member.id, Member.card_code, Member.name).where(Member.id.in_(ids))
    )
    return {str(id_): Addressee(card_code, name) for id_, card_code, name in found.all()}


def _logged(row: Message, member: Addressee | None) -> LoggedMessage:
    return LoggedMessage(
        id=row.id,
        kind=row.kind,
        medium=row.medium,
        line=row.line,
        to=masked_recipient(row.medium, row.recipient),
        member=member,
        text=row.text,
        parts=row.parts,
        cost_rial=row.cost_rial,
        status=row.status,
        reason=row.reason,
        attempts=row.attempts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        settled_at=row.settled_at,
    )


async def log_page(runtime: NodeRuntime, f: LogFilter, *, first: int, after: int | None) -> LogPage:
    """A page of the messages ``f`` selects, newest first (by id: ids are given in the
    order messages are queued), after the message ``after``."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput.one("first", f"between 1 and {MAX_PAGE}")
    conditions = _conditions(f)
    if not _matchable(f):
        return LogPage([], None, False)

    async def work(session: AsyncSession) -> LogPage:
        page, end, more = await newest_first(session, Message, conditions, first=first, after=after)
        members = await _addressees(session, page)
        return LogPage([_logged(r, members.get(r.subject or "")) for r in page], end, more)

    return await runtime.read(work)


async def status_counts(runtime: NodeRuntime, f: LogFilter) -> dict[str, int]:
    """How many messages of the member and batch ``f`` names are in each status (every
    status, zeros too), in one statement. ``f.status`` is left out on purpose: the log's
    status tabs keep showing their own numbers while one of them is open."""
    conditions = _conditions(f, with_status=False)
    if not _matchable(f):
        return dict.fromkeys(STATUSES, 0)
    return await runtime.read(lambda session: counts_by_status(session, Message, conditions))


# --- the preview of a text ----------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """A message of ``kind`` as a member would get it, with typical values."""

    kind: str
    lang: Lang
    line: str
    text: str
    segments: Segments
    # The parts a phone receives, in order (where the text breaks).
    part_texts: list[str]
    # What one SMS of it is estimated to cost (parts × the node's price of a part).
    cost_rial: int
    # False when the text shown is the default: no template was given, or it has a
    # problem ``render`` will not send (a saved text like it goes out as the default).
    template_used: bool
    problems: list[Problem]


def _checked(kind: str, lang: str) -> tuple[Kind, Lang]:
    problems = []
    if kind not in SHOP_KINDS:
        problems.append(FieldProblem("kind", "one of " + ", ".join(SHOP_KINDS)))
    if lang not in ("fa", "en"):
        problems.append(FieldProblem("lang", "fa or en"))
    if problems:
        raise InvalidInput(problems)
    return Kind(kind), "fa" if lang == "fa" else "en"


def _renders_template(template: str, problems: list[Problem]) -> bool:
    """Whether ``render`` uses ``template`` rather than the default: only the too-many-parts
    problem leaves it in use (it is a judgement of length, not of structure)."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return False
    return all(p.code == "too_long" for p in problems)


async def preview(
    runtime: NodeRuntime, kind: str, lang: str, template: str | None = None
) -> Preview:
    """The text of ``kind`` in ``lang`` (``template``, else the default) rendered with the
    typical values and this shop's name, what it costs, and what is wrong with the
    template. Saves nothing; a bad template is answered with its problems, never raised."""
    checked_kind, checked_lang = _checked(kind, lang)
    _version, policy = await runtime.read(lambda session: current_policy(session, runtime))
    values = replace(
        SAMPLES[checked_lang],
        shop=shop_name(policy, runtime.shop, checked_lang),
        opt_out_url=optout_link.sample_url(runtime.hub_url, runtime.shop),
    )
    problems = [] if template is None else check_template(checked_kind, checked_lang, template)
    text = render(checked_kind, checked_lang, values, template=template)
    _parts, cost_rial = estimate_rial(text, runtime.sms_part_price_rial)
    return Preview(
        kind=checked_kind.value,
        lang=checked_lang,
        line=SPECS[checked_kind].line,
        text=text,
        segments=count(text),
        part_texts=split(text),
        cost_rial=cost_rial,
        template_used=template is not None and _renders_template(template, problems),
        problems=problems,
    )
