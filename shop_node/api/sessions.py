"""Staff and till sessions at this node: ``POST /session`` exchanges an access token the hub
issued for a node session token, which this node checks by itself for a working day — a
till keeps selling through a hub outage, while new sign-ins still need the hub.
``DELETE /session`` signs out. Every credential the node accepts is also checked against
the revocations the hub sent (see ``shop_node.services.sessions``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from starlette.authentication import AuthenticationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mallnet.auth import Principal, TokenVerifier
from mallnet.db import utcnow
from mallnet.web import refusal
from shop_node.services import sessions
from shop_node.services.runtime import NodeRuntime

# How stale this process's copy of the hub's revocations may be (another process — the
# worker that pulls the inbox — writes them).
REVOCATIONS_FRESH_S = 2.0


class NodeVerifier:
    """What this node accepts: its own sessions, and what ``inner`` accepts (tokens the hub
    signed for this shop; development tokens in development) — minus what was revoked."""

    def __init__(self, inner: TokenVerifier, shop: str) -> None:
        self.inner = inner
        self.shop = shop
        self.runtime: NodeRuntime | None = None  # set when the app starts
        self.clock: Callable[[], dt.datetime] = utcnow
        self._revocations: tuple[float, dict[str, dt.datetime]] | None = None

    async def verify(self, token: str) -> Principal:
        if sessions.is_session_token(token):
            return await self._session(token)
        principal = await self.inner.verify(token)
        issued = _when(principal.issued_at)
        if sessions.is_revoked(await self.revocations(), principal.subject, issued):
            raise AuthenticationError("invalid access token: revoked; sign in again")
        return principal

    async def _session(self, token: str) -> Principal:
        runtime = self.ready()
        row = await runtime.read(lambda s: sessions.find(s, token))
        if row is None or row.ended_at is not None:
            raise AuthenticationError("invalid session: unknown or ended; sign in again")
        if row.expires_at <= self.clock():
            raise AuthenticationError("invalid session: expired; sign in again")
        principal = sessions.principal_of(row, self.shop)
        issued = _when(principal.issued_at)
        if sessions.is_revoked(await self.revocations(), principal.subject, issued):
            raise AuthenticationError("invalid session: revoked; sign in again")
        return principal

    async def revocations(self) -> dict[str, dt.datetime]:
        cached = self._revocations
        if cached is not None and time.monotonic() - cached[0] < REVOCATIONS_FRESH_S:
            return cached[1]
        runtime = self.ready()
        known = await runtime.read(sessions.revocations)
        self._revocations = (time.monotonic(), known)
        return known

    def forget_revocations(self) -> None:
        self._revocations = None

    def ready(self) -> NodeRuntime:
        if self.runtime is None:
            raise AuthenticationError("this node is not ready (its database is not migrated)")
        return self.runtime


def _when(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.UTC)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def start_session(request: Request) -> Response:
    principal = request.user
    token = _bearer(request)
    if not isinstance(principal, Principal) or not token:
        return refusal(401, "UNAUTHENTICATED", "send the access token the hub issued you")
    if sessions.is_session_token(token):
        return refusal(
            400, "NOT_A_HUB_TOKEN", "a session starts from a hub sign-in, not another session"
        )
    verifier: NodeVerifier = request.app.state.verifier
    runtime = verifier.ready()
    settings = request.app.state.settings
    lifetime = dt.timedelta(hours=settings.node_session_hours)
    now = verifier.clock()
    try:
        started = await runtime.transaction(
            lambda s: sessions.start(s, principal, now=now, lifetime=lifetime)
        )
    except sessions.SessionRefused as exc:
        return refusal(403, "SESSION_REFUSED", str(exc))
    body = {
        "sessionToken": started.token,
        "tokenType": "Bearer",
        "expiresAt": started.expires_at.isoformat(),
        "subject": principal.subject,
        "scopes": sorted(principal.scopes),
    }
    return JSONResponse(body, status_code=201, headers={"Cache-Control": "no-store"})


async def end_session(request: Request) -> Response:
    token = _bearer(request)
    if not sessions.is_session_token(token) or not isinstance(request.user, Principal):
        return refusal(400, "NOT_A_SESSION", "send the session token to end it")
    verifier: NodeVerifier = request.app.state.verifier
    now = verifier.clock()
    await verifier.ready().transaction(lambda s: sessions.end(s, token, now))
    return Response(status_code=204)


routes = [
    Route("/session", start_session, methods=["POST"]),
    Route("/session", end_session, methods=["DELETE"]),
]
