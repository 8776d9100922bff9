"""Strawberry plumbing shared by the hub and node GraphQL endpoints."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any, NewType

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.scalar import ScalarDefinition
from strawberry.utils.logging import StrawberryLogger

from graphql import GraphQLError
from mallnet.authz import public
from mallnet.gql_limits import DEFAULT_LIMITS, REFUSAL_CODES, Limits, limit_extensions, unexpected

logger = logging.getLogger("mallnet.graphql")


class Schema(strawberry.Schema):
    """Logs unexpected errors with their traceback and a reference (which the answer
    carries, masked or not), but not refusals: a missing scope or a query over a limit is
    an answer, not an incident."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = (error.extensions or {}).get("code")
            if code == "FORBIDDEN" or code in REFUSAL_CODES:
                logger.info("refused (%s): %s at %s", code, error.message, error.path)
            elif unexpected(error):
                reference = secrets.token_hex(6)
                error.extensions = {**(error.extensions or {}), "reference": reference}
                logger.error(
                    "unexpected error at %s, reference %s: %s",
                    ".".join(str(p) for p in error.path or ()),
                    reference,
                    error.message,
                    exc_info=error.original_error,
                )
            else:
                StrawberryLogger.error(error, execution_context)


def build_schema(
    query: type, mutation: type | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> strawberry.Schema:
    # The parser and validation caches made a trivial mutation 4x faster on this stack
    # (FACTS.md): every POS request repeats the same few documents. Strawberry builds the
    # extensions per request from these factories; the caches themselves are module-level.
    # The limits come first: the token count runs before the parser cache would parse, and
    # their rules (made once) are part of the validation cache's key.
    return Schema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            *limit_extensions(limits),
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
    )


class GraphQLApp(GraphQL[dict[str, Any], None]):
    """Strawberry's ASGI app with our per-request context (request, app state, and whether
    this is production: introspection off, unexpected errors masked)."""

    def __init__(self, schema: strawberry.Schema, *, graphiql: bool) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, Any]:
        state = request.app.state
        settings = getattr(state, "settings", None)
        production = settings is not None and bool(settings.is_production)
        return {"request": request, "response": response, "state": state, "production": production}


@strawberry.type(description="Which server answered: for health checks and client setup.")
class ServerInfo:
    role: str = strawberry.field(extensions=public(), description="'hub' or 'node'.")
    version: str = strawberry.field(extensions=public(), description="mallnet version.")
    shop: str | None = strawberry.field(
        extensions=public(), description="The shop slug a node serves; null on the hub."
    )


MAX_SAFE_INTEGER = 2**53 - 1  # what a JavaScript client reads exactly


def _parse_integer(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.lstrip("-").isdigit() and len(value) <= 17:
        number = int(value)
    else:
        raise ValueError(f"{name} must be a whole number (JSON integer or digit string)")
    if abs(number) > MAX_SAFE_INTEGER:
        raise ValueError(f"{name} is out of range")
    return number


# NewTypes for mypy; the GraphQL side of each is declared once in SCALARS.
Rial = NewType("Rial", int)
Points = NewType("Points", int)
Amount = NewType("Amount", int)
JSONDocument = NewType("JSONDocument", object)

SCALARS: dict[object, ScalarDefinition] = {
    Rial: strawberry.scalar(
        name="Rial",
        description=(
            "An amount of money in Iranian Rial (10 Rial = 1 Toman), as a JSON integer. "
            "Unlike Int (32-bit) it holds any real amount, up to 2^53-1."
        ),
        serialize=int,
        parse_value=lambda v: _parse_integer(v, "Rial"),
    ),
    Points: strawberry.scalar(
        name="Points",
        description="A whole number of loyalty points, as a JSON integer up to 2^53-1.",
        serialize=int,
        parse_value=lambda v: _parse_integer(v, "Points"),
    ),
    Amount: strawberry.scalar(
        name="Amount",
        description=(
            "A whole quantity that may be points or Rial (as the field says), as a JSON "
            "integer up to 2^53-1."
        ),
        serialize=int,
        parse_value=lambda v: _parse_integer(v, "Amount"),
    ),
    JSONDocument: strawberry.scalar(
        name="JSON",
        description="A JSON document (used for the club policy, validated on write).",
        serialize=lambda v: v,
        parse_value=lambda v: json.loads(v) if isinstance(v, str) else v,
    ),
}


def snake_keys(document: Any) -> Any:
    """A JSON document's keys in snake_case: JSON inputs accept GraphQL's camelCase."""
    if isinstance(document, dict):
        return {
            "".join("_" + c.lower() if c.isupper() else c for c in str(k)): snake_keys(v)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [snake_keys(v) for v in document]
    return document
