"""The dashboard's members: a filtered, paged search (STAFF), tags (MANAGE), and the
filtered list as a CSV or XLSX download (MANAGE: the file holds every phone number)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mallnet.auth import Principal
from mallnet.authz import guard_fields, requires
from mallnet.gql_limits import page_size
from mallnet.jalali import tehran_date, to_jalali_str
from mallnet.web import attachment, refusal
from shop_node.api import types as t
from shop_node.api.access import MANAGE, STAFF, runtime
from shop_node.api.problems import InvalidInput, NotFound, attempt
from shop_node.api.settlement import _staff as staff_of_request
from shop_node.domain import errors
from shop_node.services import member_export, member_search
from shop_node.services.members import MemberRef

MemberTagResult = Annotated[t.Member | InvalidInput | NotFound, strawberry.union("MemberTagResult")]


@strawberry.input(description="Which members to list; every field optional.")
class MemberFilterInput:
    search: str | None = strawberry.field(
        default=None,
        description="Phone (any digits), name (ي/ی and ك/ک alike) or card code.",
    )
    tier: str | None = strawberry.field(default=None, description="A tier code of the policy.")
    membership_type: t.MembershipType | None = None
    joined_from: dt.date | None = strawberry.field(default=None, description="Tehran day.")
    joined_to: dt.date | None = None
    last_visit_from: dt.date | None = None
    last_visit_to: dt.date | None = None
    tag: str | None = None

    def to_domain(self) -> member_search.MemberFilter:
        return member_search.MemberFilter(
            search=self.search,
            tier=self.tier,
            membership_type=None if self.membership_type is None else self.membership_type.value,
            joined_from=self.joined_from,
            joined_to=self.joined_to,
            last_visit_from=self.last_visit_from,
            last_visit_to=self.last_visit_to,
            tag=self.tag,
        )


@strawberry.type
class MemberListing:
    member: t.Member
    last_visit_at: dt.datetime | None
    last_visit_jalali: str | None


@strawberry.type
class MemberSearchPage:
    items: list[MemberListing]
    end_cursor: str | None
    has_next_page: bool
    total_count: int


MemberSearchResult = Annotated[
    MemberSearchPage | InvalidInput, strawberry.union("MemberSearchResult")
]

for _type in (MemberListing, MemberSearchPage):
    guard_fields(_type, *STAFF)


def _listing(found: member_search.Found) -> MemberListing:
    last = found.last_visit_at
    return MemberListing(
        member=t.Member(row=found.member),
        last_visit_at=last,
        last_visit_jalali=None if last is None else to_jalali_str(tehran_date(last)),
    )


def _member_id(value: strawberry.ID) -> MemberRef:
    text = str(value)
    return MemberRef(member_id=int(text) if text.isascii() and text.isdigit() else -1)


@strawberry.type
class MemberQuery:
    @strawberry.field(
        extensions=requires(*STAFF),
        description="Members the filter selects, newest first, paged by endCursor.",
    )
    async def member_search(
        self,
        info: strawberry.Info,
        filter: MemberFilterInput | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> MemberSearchResult:
        first = page_size(first, member_search.MAX_PAGE)
        cursor = int(after) if after and after.isascii() and after.isdigit() else None
        wanted = (filter or MemberFilterInput()).to_domain()

        async def search() -> MemberSearchPage:
            page = await member_search.search_members(
                runtime(info), wanted, first=first, after=cursor
            )
            return MemberSearchPage(
                items=[_listing(found) for found in page.members],
                end_cursor=None if page.end_cursor is None else str(page.end_cursor),
                has_next_page=page.has_next_page,
                total_count=page.total_count,
            )

        return await attempt(search)


@strawberry.type
class MemberMutation:
    @strawberry.mutation(extensions=requires(*MANAGE), description="Tag a member.")
    async def add_member_tag(
        self, info: strawberry.Info, member_id: strawberry.ID, tag: str
    ) -> MemberTagResult:
        async def add() -> t.Member:
            row = await member_search.change_tag(
                runtime(info), _member_id(member_id), tag, add=True
            )
            return t.Member(row=row)

        return await attempt(add)

    @strawberry.mutation(extensions=requires(*MANAGE), description="Take a tag off a member.")
    async def remove_member_tag(
        self, info: strawberry.Info, member_id: strawberry.ID, tag: str
    ) -> MemberTagResult:
        async def remove() -> t.Member:
            row = await member_search.change_tag(
                runtime(info), _member_id(member_id), tag, add=False
            )
            return t.Member(row=row)

        return await attempt(remove)


def _filter_of(request: Request) -> member_search.MemberFilter:
    """The list's filter from the download's query string (the page's own filter)."""
    params = request.query_params
    problems: list[errors.FieldProblem] = []

    def day(name: str) -> dt.date | None:
        raw = params.get(name)
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            problems.append(errors.FieldProblem(name, "a date as YYYY-MM-DD"))
            return None

    kind = params.get("membershipType")
    wanted = member_search.MemberFilter(
        search=params.get("search") or None,
        tier=params.get("tier") or None,
        membership_type=kind.lower() if kind else None,
        joined_from=day("joinedFrom"),
        joined_to=day("joinedTo"),
        last_visit_from=day("lastVisitFrom"),
        last_visit_to=day("lastVisitTo"),
        tag=params.get("tag") or None,
    )
    if problems:
        raise errors.InvalidInput(problems)
    return wanted


async def export(request: Request) -> Response:
    """``GET /members/export.csv`` (or ``.xlsx``) with the list page's filter as query
    parameters: a manager's bearer token, or the dashboard's session with the CSRF header
    (the same check as a settlement statement's download)."""
    user = await staff_of_request(request)
    if not isinstance(user, Principal):
        return user
    # Every phone number of the list leaves in the file: managers only, not the till or
    # an auditor (who read members one at a time on the page).
    if not set(user.scopes) & set(MANAGE):
        return refusal(403, "FORBIDDEN", "exporting members needs shop:manage")
    kind = request.path_params["kind"]
    if kind not in member_export.KINDS:
        return refusal(404, "NOT_FOUND", "the list comes as .csv or .xlsx")
    node = request.app.state.runtime
    if node is None:
        return refusal(503, "NOT_MIGRATED", "run 'mallnet migrate' for this shop")
    try:
        wanted = _filter_of(request)
        await member_search.check_export(node, wanted)
    except errors.InvalidInput as exc:
        return refusal(400, exc.code, exc.message)
    body, media_type = await member_export.render(node, wanted, kind)
    stamp = tehran_date(node.clock()).isoformat()
    return attachment(body, media_type, f"members-{request.app.state.shop}-{stamp}.{kind}")


routes = [Route("/members/export.{kind:str}", export, methods=["GET"])]
