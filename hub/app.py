"""The hub's ASGI app: ``/healthz`` and ``/graphql`` (more routes arrive with later issues)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub import heartbeat
from hub.api.schema import schema
from mallnet.config import Settings, get_settings
from mallnet.db import create_engine
from mallnet.web import check_database, common_middleware, graphql_routes, health_response


async def healthz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    database = await check_database(engine, "hub")
    beat = await heartbeat.latest(engine) if database.ok else None
    worker = None if beat is None else {"name": beat.worker, "last_beat_s": beat.age_s()}
    return health_response(
        {"role": "hub", "database": database.as_dict(), "worker": worker}, database.ok
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = create_engine(settings.hub_db_url, echo=settings.database_echo)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            *graphql_routes(schema, graphiql=not settings.is_production),
        ],
        middleware=common_middleware(verifier=None),
        lifespan=lifespan,
    )
