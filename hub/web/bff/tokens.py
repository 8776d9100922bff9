"""The faces' calls to the token endpoint, in process but through the same Authlib server
(and so the same client authentication, PKCE check, rotation and replay rules) as any
client's, and the revocation of a session's refresh token."""

from __future__ import annotations

import asyncio
import base64
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hub.web.bff import store
from hub.web.bff.faces import FACES, client_secret
from hub.web.oauth.server import HubAuthorizationServer, StarletteOAuthRequest
from hub.web.oauth.token_store import revoke_refresh
from mallnet.db import is_sqlite
from mallnet.keywrap import Keyring


class TokenRefused(Exception):
    """The token endpoint said no (the code or refresh token is spent, revoked or wrong)."""


def _token_request(issuer: str, client_id: str, secret: str, form: dict[str, str]) -> Request:
    basic = base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()
    scheme, _, rest = issuer.partition("://")
    host = rest.split("/", 1)[0]
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": scheme,
        "server": (host.rsplit(":", 1)[0], int(host.rsplit(":", 1)[1]) if ":" in host else None),
        "path": "/oauth/token",
        "query_string": b"",
        "headers": [(b"host", host.encode()), (b"authorization", f"Basic {basic}".encode())],
    }
    return Request(scope)


async def token_call(
    server: HubAuthorizationServer, issuer: str, keyring: Keyring, face: str, form: dict[str, str]
) -> dict[str, Any]:
    spec = FACES[face]
    request = _token_request(issuer, spec.client_id, client_secret(keyring, spec), form)
    status, body, _headers = await run_in_threadpool(
        server.create_token_response, StarletteOAuthRequest(request, form)
    )
    if status != 200 or not isinstance(body, dict) or "access_token" not in body:
        error = body.get("error") if isinstance(body, dict) else None
        raise TokenRefused(str(error or status))
    return body


async def fresh(state: Any, held: store.Held) -> store.Held:
    """The session with an access token good for a while: refreshed if it is about to end,
    once. Two requests refreshing with the same refresh token would look like a replay,
    which revokes the whole family: in this app one refresh per session at a time (a lock
    per session in ``state``), across hub instances a row lock (``store.renew``)."""
    if held.fresh:
        return held
    locks: dict[str, asyncio.Lock] | None = getattr(state, "face_refreshing", None)
    if locks is None:
        locks = state.face_refreshing = {}
    lock = locks.setdefault(held.id_hash, asyncio.Lock())

    async def refresh(stale: store.Held) -> store.Tokens:
        form = {"grant_type": "refresh_token", "refresh_token": stale.tokens.refresh_token}
        body = await token_call(state.oauth, state.issuer, state.keyring, stale.face, form)
        return store.Tokens.from_response(body)

    lock_row = not is_sqlite(str(state.engine.url))
    try:
        async with lock:
            renewed = await store.renew(
                state.sessions, state.keyring, held.id_hash, refresh, lock_row=lock_row
            )
    except TokenRefused:
        await store.end(state.sessions, held.id_hash)
        raise
    finally:
        if not lock.locked():
            locks.pop(held.id_hash, None)
    if renewed is None:
        raise TokenRefused("session ended")
    return renewed


async def revoke(sessions: store.Sessions, held: store.Held) -> None:
    """RFC 7009 at the hub, for the session's client: the refresh token's whole family."""
    await revoke_refresh(sessions, held.tokens.refresh_token, held.client_id)
