"""What the hub and node Starlette apps share: routes for health and GraphQL, middleware."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mallnet.auth import BearerAuthBackend, TokenVerifier
from mallnet.gql import GraphQLApp
from mallnet.gql_limits import DEFAULT_LIMITS, BodyLimit
from mallnet.migrations import Component, current_revision, head_revision

STARTED_AT = time.monotonic()
log = logging.getLogger("mallnet.health")

UNREACHABLE = "the database does not answer (the details are in the server's log)"
BEHIND = "schema is not at head: run 'mallnet migrate'"


@dataclass(frozen=True)
class DatabaseHealth:
    """A database's state for ``/healthz``: answers or not, schema at head or not. Never
    an exception's text or a host name (both go to the log): the endpoint is public."""

    ok: bool
    revision: str | None
    expected_revision: str
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": self.ok,
            "revision": self.revision,
            "expected_revision": self.expected_revision,
        }
        if self.error:
            data["error"] = self.error
        return data


async def check_database(engine: AsyncEngine, component: Component) -> DatabaseHealth:
    expected = head_revision(component)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            revision = await current_revision(conn)
    except Exception:  # health reports any failure, it never raises
        log.warning("health: the %s database does not answer", component, exc_info=True)
        return DatabaseHealth(False, None, expected, UNREACHABLE)
    if revision != expected:
        log.warning("health: the %s schema is at %s, not %s", component, revision, expected)
        return DatabaseHealth(False, revision, expected, BEHIND)
    return DatabaseHealth(True, revision, expected)


def health_response(body: dict[str, Any], ok: bool) -> JSONResponse:
    body = {"status": "ok" if ok else "unavailable", **body}
    body["uptime_s"] = int(time.monotonic() - STARTED_AT)
    return JSONResponse(body, status_code=200 if ok else 503)


def graphql_routes(
    schema: strawberry.Schema,
    *,
    graphiql: bool,
    max_body_bytes: int = DEFAULT_LIMITS.max_body_bytes,
) -> list[BaseRoute]:
    # Route, not Mount: a Mount answers POST /graphql with a redirect to /graphql/.
    # The body limit wraps the app: it counts the body as it is read, before any parsing.
    endpoint = BodyLimit(GraphQLApp(schema, graphiql=graphiql), max_body_bytes)
    return [Route("/graphql", endpoint, methods=["GET", "POST"])]


def _auth_error(conn: HTTPConnection, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"error": "invalid_token", "error_description": str(exc)},
        status_code=401,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc}"'},
    )


def common_middleware(verifier: TokenVerifier | None) -> list[Middleware]:
    return [
        Middleware(
            AuthenticationMiddleware,
            backend=BearerAuthBackend(verifier),
            on_error=_auth_error,
        )
    ]


def refusal(status: int, code: str, message: str) -> JSONResponse:
    """A plain HTTP route's expected failure: a status, a stable code, what to do."""
    return JSONResponse({"error": code, "message": message}, status_code=status)


def attachment(body: bytes, media_type: str, filename: str) -> Response:
    """A file to download (statements as CSV or PDF)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)
