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


# One refresh at a time per session in this process: two requests refreshing with the same
# refresh token would look like a replay, which revokes the whole family.
_refreshing: dict[str, asyncio.Lock] = {}


async def fresh(
    sessions: store.Sessions,
    keyring: Keyring,
    server: HubAuthorizationServer,
    issuer: str,
    held: store.Held,
) -> store.Held:
    """The session with an access token good for a while: refreshed if it is about to end."""
    if held.fresh:
        return held
    lock = _refreshing.setdefault(held.id_hash, asyncio.Lock())
    try:
        async with lock:
            again = await store.load_by_hash(sessions, keyring, held.id_hash)
            if again is None or again.fresh:
                if again is None:
                    raise TokenRefused("session ended")
                return again
            form = {"grant_type": "refresh_token", "refresh_token": again.tokens.refresh_token}
            try:
                body = await token_call(server, issuer, keyring, again.face, form)
            except TokenRefused:
                await store.end(sessions, again.id_hash)
                raise
            tokens = store.Tokens.from_response(body)
            await store.replace_tokens(sessions, keyring, again, tokens)
            return store.Held(again.id_hash, again.face, again.client_id, again.subject, tokens)
    finally:
        if not lock.locked():
            _refreshing.pop(held.id_hash, None)


async def revoke(sessions: store.Sessions, held: store.Held) -> None:
    """RFC 7009 at the hub, for the session's client: the refresh token's whole family."""
    await revoke_refresh(sessions, held.tokens.refresh_token, held.client_id)
