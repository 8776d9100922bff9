"""The hub's ASGI app: health, the OAuth authorisation server, GraphQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from celery import Celery
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from federation.envelope import MAX_BATCH_BYTES
from hub.api.schema import schema
from hub.services import code_digests, heartbeat
from hub.services.people import HUB_AUDIENCE
from hub.web import hooks, optout, signin, telegram
from hub.web import statements as statement_routes
from hub.web.auth import HubVerifier, local_jwks
from hub.web.bff import ensure_face_clients, face_middleware, face_routes
from hub.web.oauth.access_tokens import KeyCache
from hub.web.oauth.endpoints import (
    jwks_endpoint,
    metadata_endpoint,
    revocation_endpoint,
    token_endpoint,
)
from hub.web.oauth.server import Bridge, HubAuthorizationServer
from mallnet.config import Settings
from mallnet.db import create_engine, session_factory
from mallnet.hubtokens import HubTokenVerifier
from mallnet.keywrap import keyring_for
from mallnet.messaging.setup import send_rate
from mallnet.ratelimit import Limiter
from mallnet.serving import serve_or_exit
from mallnet.web import check_database, graphql_routes, health_response
from mallnet.webapps import webapp_route

log = logging.getLogger(__name__)


def task_sender(settings: Settings) -> Callable[..., Awaitable[None]]:
    """Send a task to the workers (after the transaction that asked for it committed). A
    broker that is away only delays the work: beat closes every ended settlement period,
    and a draw can be asked for again (it resumes where it stopped)."""
    celery: list[Celery] = []  # made on first use: most hub processes never send one

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
    engine = request.app.state.engine
    database = await check_database(engine, "hub")
    beat = await heartbeat.latest(engine) if database.ok else None
    # The beat's age only: its worker's name is the Celery host name, not for the public.
    worker = None if beat is None else {"last_beat_s": beat.age_s()}
    return health_response(
        {"role": "hub", "database": database.as_dict(), "worker": worker}, database.ok
    )


def create_app(settings: Settings | None = None) -> Starlette:
    # Without settings this is a server's factory (uvicorn hub.app:create_app --factory):
    # the environment is checked as 'mallnet hub' checks it.
    settings = settings or serve_or_exit("hub")
    issuer = settings.public_hub_url.rstrip("/")
    engine = create_engine(settings.hub_db_url, echo=settings.database_echo)
    sessions = session_factory(engine)
    keyring = keyring_for(settings)
    code_digests.configure(keyring.current.key)  # one-time codes stored under a hub key
    key_cache = KeyCache(sessions, keyring)
    oauth = HubAuthorizationServer(sessions, issuer, key_cache)
    tokens = HubTokenVerifier(local_jwks(sessions), issuer=issuer, audience=HUB_AUDIENCE)
    verifier = HubVerifier(tokens, sessions)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = sessions
        app.state.issuer = issuer
        app.state.oauth = oauth
        app.state.key_cache = key_cache
        app.state.keyring = keyring
        app.state.verifier = verifier
        app.state.enqueue = task_sender(settings)
        # Abuse counters (memory, or Redis shared by every hub instance), in this loop.
        app.state.limiter = Limiter.from_settings(settings, keyring.current.key)
        # The providers' send rates, shared with the workers (nodes' relayed messages).
        app.state.send_rate = send_rate(settings)
        # Authlib's hooks run in worker threads and reach the database through this loop.
        oauth.bridge = Bridge(asyncio.get_running_loop())
        if (await check_database(engine, "hub")).ok:
            await key_cache.get()  # the first signing key exists before the first request
            await ensure_face_clients(sessions, issuer, keyring)
        try:
            yield
        finally:
            await app.state.limiter.aclose()
            await app.state.send_rate.aclose()
            await engine.dispose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/oauth/token", token_endpoint, methods=["POST"]),
            Route("/oauth/authorize", signin.authorize, methods=["GET", "POST"]),
            Route("/oauth/otp", signin.send_code, methods=["POST"]),
            Route("/oauth/revoke", revocation_endpoint, methods=["POST"]),
            Route("/.well-known/oauth-authorization-server", metadata_endpoint),
            Route("/.well-known/jwks.json", jwks_endpoint),
            *statement_routes.routes,
            *hooks.routes,
            *telegram.routes,
            *optout.routes,
            # A node's event batch (up to MAX_BATCH_BYTES) is the largest body it takes.
            *graphql_routes(
                schema,
                graphiql=not settings.is_production,
                max_body_bytes=MAX_BATCH_BYTES + 64 * 1024,
            ),
            # The faces' sign-in routes before their files, which answer any path below.
            *face_routes("app"),
            *face_routes("console"),
            webapp_route("app"),
            webapp_route("console"),
        ],
        middleware=face_middleware(verifier, ("app", "console")),
        lifespan=lifespan,
    )
