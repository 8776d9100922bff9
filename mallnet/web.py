"""What the hub and node Starlette apps share: routes for health and GraphQL, middleware."""

from __future__ import annotations

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
from mallnet.migrations import Component, current_revision, head_revision

STARTED_AT = time.monotonic()


@dataclass(frozen=True)
class DatabaseHealth:
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
    except Exception as exc:  # noqa: BLE001 - health reports any failure, it never raises
        return DatabaseHealth(False, None, expected, f"{type(exc).__name__}: {exc}")
    if revision != expected:
        return DatabaseHealth(
            False, revision, expected, "schema is not at head: run 'mallnet migrate'"
        )
    return DatabaseHealth(True, revision, expected)


def health_response(body: dict[str, Any], ok: bool) -> JSONResponse:
    body = {"status": "ok" if ok else "unavailable", **body}
    body["uptime_s"] = int(time.monotonic() - STARTED_AT)
    return JSONResponse(body, status_code=200 if ok else 503)


def graphql_routes(schema: strawberry.Schema, *, graphiql: bool) -> list[BaseRoute]:
    # Route, not Mount: a Mount answers POST /graphql with a redirect to /graphql/.
    return [Route("/graphql", GraphQLApp(schema, graphiql=graphiql), methods=["GET", "POST"])]


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
