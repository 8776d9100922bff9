"""Statements as files: ``GET /settlement/statements/{period}/{shop}.csv`` (or ``.pdf``)
with a bearer token — mall finance for any shop, a node's client for its own shop."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hub.domain.problems import ProblemCode
from hub.services import settlement
from hub.services.settlement_policy import SettlementError
from mallnet.auth import Principal
from mallnet.scopes import Scope
from mallnet.web import attachment, refusal
from settlement.render import statement_file

MALL_READERS = {Scope.MALL_SETTLEMENT, Scope.MALL_ADMIN, Scope.MALL_REPORTS}


async def download(request: Request) -> Response:
    user = request.user
    if not isinstance(user, Principal):
        return refusal(401, "UNAUTHENTICATED", "send 'Authorization: Bearer <access token>'")
    shop = request.path_params["shop"]
    scopes = set(user.scopes)
    own = Scope.NODE_FEDERATE in scopes and user.shop == shop
    if not (own or scopes & MALL_READERS):
        return refusal(403, ProblemCode.FORBIDDEN, "mall finance, or the shop's own node, only")
    kind = request.path_params["kind"]
    if kind not in ("csv", "pdf"):
        return refusal(404, ProblemCode.NOT_FOUND, "statements come as .csv or .pdf")
    try:
        async with request.app.state.sessions() as session:
            statement = await settlement.statement(session, request.path_params["period"], shop)
    except SettlementError as exc:
        status = 404 if exc.code is ProblemCode.NOT_FOUND else 409
        return refusal(status, exc.code, exc.message)
    return attachment(*statement_file(statement, kind))


routes = [
    Route("/settlement/statements/{period:int}/{shop}.{kind:str}", download, methods=["GET"]),
]
