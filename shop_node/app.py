"""A shop node's ASGI app: ``/healthz`` and ``/graphql`` (more routes arrive later)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from celery import Celery
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mallnet.auth import SessionCookieBackend, session_auth_error
from mallnet.config import Settings, check_shop_slug, get_settings
from mallnet.db import create_engine
from mallnet.hubtokens import node_verifier
from mallnet.serving import serve_or_exit
from mallnet.web import check_database, graphql_routes, health_response
from mallnet.webapps import webapp_route
from shop_node.api import dashboard, hooks, members, sessions, settlement
from shop_node.api.schema import schema
from shop_node.services import identity
from shop_node.services.runtime import NodeRuntime

log = logging.getLogger(__name__)


def task_sender(settings: Settings) -> Callable[..., Awaitable[None]]:
    """Send a task to the workers, after the transaction that asked for it committed (as
    the hub's ``task_sender``): ``app.state.enqueue(name, *args)`` from a resolver, e.g.
    ``sendToMembers`` sending ``node.send_broadcast``. A broker that is away only delays
    the work, which is said in the log; the row that asked for it stays as it was."""
    celery: list[Celery] = []  # made on first use: most requests never send one

    def send(name: str, args: list[object]) -> None:
        if not celery:
            from mallnet.celery_app import create_celery

            celery.append(create_celery(settings))
        celery[0].send_task(name, args=args, queue=settings.celery_queue, retry=False)

    async def enqueue(name: str, *args: object) -> None:
        try:
            await run_in_threadpool(send, name, list(args))
        except Exception:  # noqa: BLE001 - said, and the work can be asked for again
            log.warning("could not queue %s%s", name, args)

    return enqueue


async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    database = await check_database(state.engine, "node")
    return health_response(
        {"role": "node", "shop": state.shop, "database": database.as_dict()}, database.ok
    )


def create_app(shop: str, settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    check_shop_slug(shop)
    verifier = sessions.NodeVerifier(node_verifier(settings, shop), shop)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.shop = shop
        app.state.verifier = verifier
        app.state.enqueue = task_sender(settings)
        app.state.engine = create_engine(settings.node_db_url(shop), echo=settings.database_echo)
        try:
            if (await check_database(app.state.engine, "node")).ok:
                # Refuse to start on another shop's database (a mistyped URL).
                await identity.claim(app.state.engine, shop)
                app.state.runtime = await NodeRuntime.start(shop, app.state.engine, settings)
                verifier.runtime = app.state.runtime
            else:
                app.state.runtime = None
            yield
        finally:
            await app.state.engine.dispose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            *settlement.routes,
            *members.routes,
            *sessions.routes,
            *hooks.routes,
            *graphql_routes(schema, graphiql=not settings.is_production),
            # The dashboard's sign-in routes before its files, which answer any path below.
            *dashboard.routes,
            webapp_route("dashboard"),
        ],
        middleware=[
            Middleware(
                AuthenticationMiddleware,
                backend=SessionCookieBackend(verifier, dashboard.cookie_name(shop, settings)),
                on_error=session_auth_error,
            )
        ],
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """Factory for multi-process serving (``uvicorn --factory``): the shop comes from
    ``MALLNET_SHOP``, the rest of the settings from the environment, checked as ``mallnet
    node`` checks them (``mallnet.serving``)."""
    import os

    return create_app(os.environ["MALLNET_SHOP"], serve_or_exit("node"))
