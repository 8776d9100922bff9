"""Statements as files: ``GET /settlement/statements/{period}/{shop}.csv`` (or ``.pdf``)
with a bearer token — mall finance for any shop, a node's client for its own shop."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub import settlement
from hub.settlement_policy import SettlementError
from mallnet.auth import Principal
from mallnet.scopes import Scope
from settlement.render import statement_file

MALL_READERS = {Scope.MALL_SETTLEMENT, Scope.MALL_ADMIN, Scope.MALL_REPORTS}


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def download(request: Request) -> Response:
    user = request.user
    if not isinstance(user, Principal):
        return _refusal(401, "UNAUTHENTICATED", "send 'Authorization: Bearer <access token>'")
    shop = request.path_params["shop"]
    scopes = set(user.scopes)
    own = Scope.NODE_FEDERATE in scopes and user.shop == shop
    if not (own or scopes & MALL_READERS):
        return _refusal(403, "FORBIDDEN", "mall finance, or the shop's own node, only")
    kind = request.path_params["kind"]
    if kind not in ("csv", "pdf"):
        return _refusal(404, "NOT_FOUND", "statements come as .csv or .pdf")
    try:
        async with request.app.state.sessions() as session:
            statement = await settlement.statement(session, request.path_params["period"], shop)
    except SettlementError as exc:
        return _refusal(404 if exc.code == "NOT_FOUND" else 409, exc.code, exc.message)
    body, media_type, name = statement_file(statement, kind)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)


routes = [
    Route("/settlement/statements/{period:int}/{shop}.{kind:str}", download, methods=["GET"]),
]
