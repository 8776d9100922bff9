"""The shop's settlement statements, read from its own dashboard: the node asks the hub
(the system of record) for this shop's statement, a page of its lines at a time, and
renders CSV and PDF itself from every line (asked page by page)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from starlette.authentication import AuthenticationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from federation.client import HubRefused, HubUnavailable
from federation.problems import HubProblemCode
from graphql import GraphQLError
from mallnet.auth import CSRF_HEADER, CSRF_VALUE, Principal
from mallnet.authz import guard_fields, requires
from mallnet.gql_limits import page_offset, page_size
from mallnet.gql_statements import SettlementStatement, requested_window, statement_from_json
from mallnet.scopes import Scope
from mallnet.web import attachment, refusal
from settlement.render import statement_file
from settlement.statements import StatementLine
from shop_node.api.dashboard import cookie_name
from shop_node.api.partnerships import HubAnswer, ask
from shop_node.services.relay import hub_connection

# Money the shop owes or is owed: its managers and auditors, not the till.
FINANCE = (Scope.SHOP_MANAGE, Scope.SHOP_READ)


@strawberry.type(description="A settlement period of the network (Tehran calendar).")
class SettlementPeriodInfo:
    id: int
    label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str = strawberry.field(description="open or closed.")
    closed_at: dt.datetime | None
    csv_path: str | None = strawberry.field(description="This shop's statement as CSV.")
    pdf_path: str | None = strawberry.field(description="This shop's statement as PDF.")

    @classmethod
    def of(cls, data: dict[str, Any]) -> SettlementPeriodInfo:
        closed = data["status"] == "closed"
        base = f"/settlement/statements/{data['id']}"
        return cls(
            id=int(data["id"]),
            label=data["label"],
            starts_at=dt.datetime.fromisoformat(data["startsAt"]),
            ends_at=dt.datetime.fromisoformat(data["endsAt"]),
            status=data["status"],
            closed_at=dt.datetime.fromisoformat(data["closedAt"]) if data["closedAt"] else None,
            csv_path=f"{base}.csv" if closed else None,
            pdf_path=f"{base}.pdf" if closed else None,
        )


guard_fields(SettlementPeriodInfo, *FINANCE)

StatementResult = Annotated[
    SettlementStatement | HubAnswer, strawberry.union("SettlementStatementResult")
]


@strawberry.type
class SettlementQuery:
    @strawberry.field(
        extensions=requires(*FINANCE),
        description="The network's settlement periods, newest first (asks the hub).",
    )
    async def settlement_periods(
        self, info: strawberry.Info, first: int = 30, offset: int = 0
    ) -> list[SettlementPeriodInfo]:
        size, skip = page_size(first, 200), page_offset(offset)
        answer = await ask(info, lambda hub: hub.settlement_periods(size, skip))
        return [] if isinstance(answer, HubAnswer) else [SettlementPeriodInfo.of(p) for p in answer]

    @strawberry.field(
        extensions=requires(*FINANCE),
        description="This shop's statement for a closed period: every line traceable to the "
        "capture and the receipt, a page at a time (asks the hub for that page).",
    )
    async def settlement_statement(self, info: strawberry.Info, period_id: int) -> StatementResult:
        window = requested_window(info)
        answer = await ask(info, lambda hub: hub.settlement_statement(period_id, *window))
        if isinstance(answer, HubAnswer):
            return answer

        async def more(first: int, offset: int) -> list[StatementLine]:
            # Another window of the same statement (an alias): its own question to the hub.
            other = await ask(info, lambda hub: hub.settlement_statement(period_id, first, offset))
            if isinstance(other, HubAnswer):
                raise GraphQLError(other.message, extensions={"code": other.code})
            return statement_from_json(other).lines

        return SettlementStatement.of(statement_from_json(answer), window, more)


async def _staff(request: Request) -> Principal | Response:
    """Who asks: a bearer token, or the dashboard's session cookie with the CSRF header (the
    dashboard fetches the file with the header; a bare link, a cross-site one too, cannot)."""
    if isinstance(request.user, Principal):
        return request.user
    state = request.app.state
    token = request.cookies.get(cookie_name(state.shop, state.settings), "")
    if not token:
        return refusal(401, "UNAUTHENTICATED", "send 'Authorization: Bearer <access token>'")
    if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        return refusal(403, "csrf_header_required", f"send the header {CSRF_HEADER}: {CSRF_VALUE}")
    try:
        principal: Principal = await state.verifier.verify(token)
    except AuthenticationError as exc:
        return refusal(401, "invalid_token", str(exc))
    return principal


async def download(request: Request) -> Response:
    """``GET /settlement/statements/{period}.csv`` (or ``.pdf``) with a staff token or the
    dashboard's session."""
    user = await _staff(request)
    if not isinstance(user, Principal):
        return user
    if not set(user.scopes) & set(FINANCE):
        return refusal(403, "FORBIDDEN", "shop:manage or shop:read")
    kind = request.path_params["kind"]
    if kind not in ("csv", "pdf"):
        return refusal(404, "NOT_FOUND", "statements come as .csv or .pdf")
    state = request.app.state
    hub = (
        None
        if state.runtime is None
        else await hub_connection(state.runtime, state.settings.public_hub_url)
    )
    if hub is None:
        return refusal(503, "NOT_CONNECTED", "run 'mallnet node-connect' for this shop")
    try:
        data = await hub.whole_settlement_statement(request.path_params["period"])
    except HubUnavailable as exc:
        return refusal(503, "HUB_UNAVAILABLE", f"the hub is not reachable now: {exc}")
    except HubRefused as exc:
        status = 404 if exc.code is HubProblemCode.NOT_FOUND else 409
        return refusal(status, exc.code, exc.message)
    return attachment(*statement_file(statement_from_json(data), kind))


routes = [Route("/settlement/statements/{period:int}.{kind:str}", download, methods=["GET"])]
