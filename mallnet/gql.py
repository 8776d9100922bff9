"""Strawberry plumbing shared by the hub and node GraphQL endpoints."""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from mallnet.authz import public


def build_schema(query: type, mutation: type | None = None) -> strawberry.Schema:
    # The parser and validation caches made a trivial mutation 4x faster on this stack
    # (FACTS.md): every POS request repeats the same few documents. Strawberry builds the
    # extensions per request from these factories; the caches themselves are module-level.
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )


class GraphQLApp(GraphQL[dict[str, Any], None]):
    """Strawberry's ASGI app with our per-request context (request, app state)."""

    def __init__(self, schema: strawberry.Schema, *, graphiql: bool) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, Any]:
        return {"request": request, "response": response, "state": request.app.state}


@strawberry.type(description="Which server answered: for health checks and client setup.")
class ServerInfo:
    role: str = strawberry.field(extensions=public(), description="'hub' or 'node'.")
    version: str = strawberry.field(extensions=public(), description="mallnet version.")
    shop: str | None = strawberry.field(
        extensions=public(), description="The shop slug a node serves; null on the hub."
    )
