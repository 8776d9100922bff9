"""Finding members for the dashboard: a Persian-aware search (phone, name, card code)
with filters (tier, membership type, joined and last-visit dates, tag), paged on the
server by id; the same search feeds the CSV and XLSX exports. Tags are added and removed
one at a time under a row lock, so two managers tagging at once both keep their tag."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.db import UTCDateTime
from mallnet.digits import normalize_digits
from shop_node.db.models import Member, Purchase, Refund
from shop_node.domain.errors import FieldProblem, InvalidInput
from shop_node.domain.policy import ClubPolicy
from shop_node.services.members import MAX_TAGS, MemberRef, get_member
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

MAX_PAGE = 200
MAX_TAG_LENGTH = 40
# What the export reads per statement: bounded memory, whatever the list's length.
EXPORT_BATCH = 1000
MEMBERSHIP_TYPES = ("individual", "company", "employee")

# Letters Persian keyboards and Arabic ones type differently for the same name: the Arabic
# yeh and kaf (ي ك, U+064A U+0643) and the Persian ones (ی ک, U+06CC U+06A9), the Arabic
# alef maksura (ى) and teh marbuta/heh-with-yeh (ة ۀ). Both sides of the comparison fold
# them, so «علي» finds «علی» and the other way round.
_FOLD = {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "\u200c": " "}


def fold(text: str) -> str:
    """The form names are compared in: letters folded, digits ASCII, case and spaces
    ignored."""
    folded = normalize_digits(text)
    for variant, standard in _FOLD.items():
        folded = folded.replace(variant, standard)
    return " ".join(folded.lower().split())


def _folded_column(column: Any) -> ColumnElement[str]:
    expression: ColumnElement[str] = func.lower(func.coalesce(column, ""))
    for variant, standard in _FOLD.items():
        expression = func.replace(expression, variant, standard)
    return expression


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class MemberFilter:
    """What the dashboard's list asks for; every field optional (None: no condition)."""

    search: str | None = None
    tier: str | None = None
    membership_type: str | None = None
    joined_from: dt.date | None = None
    joined_to: dt.date | None = None
    last_visit_from: dt.date | None = None
    last_visit_to: dt.date | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Found:
    member: Member
    last_visit_at: dt.datetime | None


@dataclass(frozen=True)
class SearchPage:
    members: list[Found]
    end_cursor: int | None
    has_next_page: bool
    total_count: int


def check_filter(f: MemberFilter, policy: ClubPolicy) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if f.search is not None and len(f.search) > 120:
        problems.append(FieldProblem("search", "at most 120 characters"))
    if f.tier is not None and f.tier not in {t.code for t in policy.tiers}:
        problems.append(FieldProblem("tier", "not a tier of this club's policy"))
    if f.membership_type is not None and f.membership_type not in MEMBERSHIP_TYPES:
        problems.append(FieldProblem("membershipType", "individual, company or employee"))
    if f.tag is not None and not 1 <= len(f.tag.strip()) <= MAX_TAG_LENGTH:
        problems.append(FieldProblem("tag", f"1-{MAX_TAG_LENGTH} characters"))
    for name, start, end in (
        ("joinedTo", f.joined_from, f.joined_to),
        ("lastVisitTo", f.last_visit_from, f.last_visit_to),
    ):
        if start is not None and end is not None and end < start:
            problems.append(FieldProblem(name, "must not be before the start date"))
    return problems


# Tehran has kept UTC+03:30 all year since 2022: a Tehran day is [day 00:00, next 00:00)
# at that offset (the same rule as shopActivity's days).
_TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), _TEHRAN).astimezone(dt.UTC)


def _in_days(column: Any, start: dt.date | None, end: dt.date | None) -> list[Any]:
    conditions = []
    if start is not None:
        conditions.append(column >= _day_start(start))
    if end is not None:
        conditions.append(column < _day_start(end + dt.timedelta(days=1)))
    return conditions


def _search_conditions(term: str) -> ColumnElement[bool]:
    folded = fold(term)
    conditions: list[ColumnElement[bool]] = [
        _folded_column(Member.name).like(f"%{_like_escape(folded)}%", escape="\\")
    ]
    digits = "".join(c for c in folded if c.isdigit())
    if digits and len(digits) == len(folded.replace(" ", "").replace("+", "").replace("-", "")):
        conditions.append(Member.card_code.like(f"{digits}%"))
        # Phones are stored as +989…: a local 0912… or an international 98912… both
        # search the digits after the country code.
        national = digits[1:] if digits.startswith("0") else digits
        national = national[2:] if national.startswith("98") and len(national) > 10 else national
        if len(national) >= 4:
            conditions.append(Member.phone.like(f"%{national}%"))
    return or_(*conditions)


def _tag_condition(session: AsyncSession, tag: str) -> ColumnElement[bool]:
    """The tag is one of the member's (an element of the JSON list, matched exactly)."""
    if session.get_bind().dialect.name == "postgresql":
        elements = func.json_array_elements_text(Member.tags).table_valued("value")
    else:
        elements = func.json_each(Member.tags).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(elements.c.value == tag))


def _tier_metric(policy: ClubPolicy, now: dt.datetime) -> ColumnElement[int]:
    """The tier metric of each member as SQL (``tiers.metric_of``): earned points less
    those refunds reversed, or the rolling 12-month spend less its refunds."""
    mine = Purchase.member_id == Member.id
    if policy.tier_basis == "earned_points":
        earned = select(
            func.coalesce(func.sum(Purchase.earned_points + Purchase.frequency_points), 0)
        ).where(mine)
        taken = (
            select(func.coalesce(func.sum(Refund.reversed_points), 0))
            .join(Purchase, Purchase.id == Refund.purchase_id)
            .where(mine)
        )
    else:
        since = literal(now - dt.timedelta(days=365), UTCDateTime())
        earned = select(func.coalesce(func.sum(Purchase.total_rial), 0)).where(
            mine, Purchase.occurred_at > since
        )
        taken = (
            select(func.coalesce(func.sum(Refund.amount_rial), 0))
            .join(Purchase, Purchase.id == Refund.purchase_id)
            .where(mine, Purchase.occurred_at > since)
        )
    return earned.scalar_subquery() - taken.scalar_subquery()


def _tier_condition(policy: ClubPolicy, code: str, now: dt.datetime) -> ColumnElement[bool]:
    """In tier ``code``: at least its threshold (the first tier: anything) and below the
    next tier's, as ``ClubPolicy.tier_for`` decides."""
    index = [t.code for t in policy.tiers].index(code)
    metric = _tier_metric(policy, now)
    conditions = []
    if index > 0:
        conditions.append(metric >= policy.tiers[index].threshold)
    if index + 1 < len(policy.tiers):
        conditions.append(metric < policy.tiers[index + 1].threshold)
    return and_(literal(True), *conditions)


LAST_VISIT = (
    select(func.max(Purchase.occurred_at))
    .where(Purchase.member_id == Member.id)
    .correlate(Member)
    .scalar_subquery()
)


def _filtered(
    session: AsyncSession, f: MemberFilter, policy: ClubPolicy, now: dt.datetime
) -> Select[Member, dt.datetime]:
    query = select(Member, LAST_VISIT.label("last_visit_at"))
    if f.search and f.search.strip():
        query = query.where(_search_conditions(f.search.strip()))
    if f.membership_type is not None:
        query = query.where(Member.membership_type == f.membership_type)
    if f.tier is not None:
        query = query.where(_tier_condition(policy, f.tier, now))
    if f.tag is not None:
        query = query.where(_tag_condition(session, f.tag.strip()))
    query = query.where(*_in_days(Member.joined_at, f.joined_from, f.joined_to))
    query = query.where(*_in_days(LAST_VISIT, f.last_visit_from, f.last_visit_to))
    return query


async def _policy_and_checks(
    session: AsyncSession, runtime: NodeRuntime, f: MemberFilter
) -> ClubPolicy:
    _version, policy = await current_policy(session, runtime)
    problems = check_filter(f, policy)
    if problems:
        raise InvalidInput(problems)
    return policy


async def _page(
    runtime: NodeRuntime, f: MemberFilter, first: int, after: int | None, *, count: bool
) -> SearchPage:
    async def work(session: AsyncSession) -> SearchPage:
        policy = await _policy_and_checks(session, runtime, f)
        base = _filtered(session, f, policy, runtime.clock())
        query = base.order_by(Member.id.desc())
        if after is not None:
            query = query.where(Member.id < after)
        rows = (await session.execute(query.limit(first + 1))).all()
        total = -1
        if count:
            total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
        page = [Found(m, last) for m, last in rows[:first]]
        end = page[-1].member.id if page else None
        return SearchPage(page, end, len(rows) > first, total)

    return await runtime.read(work)


async def search_members(
    runtime: NodeRuntime, f: MemberFilter, *, first: int, after: int | None
) -> SearchPage:
    """A page of the members ``f`` selects, newest first, and how many it selects."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput.one("first", f"between 1 and {MAX_PAGE}")
    return await _page(runtime, f, first, after, count=True)


async def export_members(runtime: NodeRuntime, f: MemberFilter) -> AsyncIterator[list[Found]]:
    """Every member ``f`` selects, newest first, in batches (one short read each, so a long
    export holds no transaction open)."""
    after: int | None = None
    while True:
        page = await _page(runtime, f, EXPORT_BATCH, after, count=False)
        if page.members:
            yield page.members
        if not page.has_next_page:
            return
        after = page.end_cursor


async def check_export(runtime: NodeRuntime, f: MemberFilter) -> None:
    """Refuse a bad filter before the download starts (its problems as a 400)."""
    await runtime.read(lambda session: _policy_and_checks(session, runtime, f))


def _clean_tag(tag: str) -> str:
    cleaned = " ".join(tag.split())
    if not 1 <= len(cleaned) <= MAX_TAG_LENGTH:
        raise InvalidInput.one("tag", f"1-{MAX_TAG_LENGTH} characters")
    return cleaned


async def change_tag(runtime: NodeRuntime, ref: MemberRef, tag: str, *, add: bool) -> Member:
    """Add ``tag`` to a member (or remove it); adding one already there, or removing one
    that is not, changes nothing."""
    cleaned = _clean_tag(tag)

    async def work(session: AsyncSession) -> Member:
        member = await get_member(session, ref)
        # Locked and re-read: another manager's tag added a moment ago stays.
        await session.refresh(member, with_for_update=True)
        tags = set(member.tags)
        if add and cleaned not in tags and len(tags) >= MAX_TAGS:
            raise InvalidInput.one("tag", f"at most {MAX_TAGS} tags")
        changed = tags | {cleaned} if add else tags - {cleaned}
        if changed != tags:
            member.tags = sorted(changed)
            await session.flush()
        return member

    return await runtime.transaction(work)
