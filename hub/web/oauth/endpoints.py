"""The OAuth HTTP endpoints: token, revocation (RFC 7009), server metadata (RFC 8414) and
the JWKS nodes verify tokens with. The sign-in pages of ``/oauth/authorize`` are in
``hub.web.signin``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.services import keys
from hub.web.oauth.clients import HubClient
from hub.web.oauth.server import HubAuthorizationServer, StarletteOAuthRequest
from hub.web.oauth.token_store import revoke_refresh
from mallnet.scopes import Scope


def _response(status: int, body: Any, headers: list[tuple[str, str]]) -> JSONResponse:
    merged: dict[str, str] = defaultdict(str)
    for name, value in headers:
        merged[name] = value
    merged.pop("Content-Type", None)
    return JSONResponse(body, status_code=status, headers=dict(merged))


async def token_endpoint(request: Request) -> JSONResponse:
    server: HubAuthorizationServer = request.app.state.oauth
    form = {k: str(v) for k, v in (await request.form()).items()}
    status, body, headers = await run_in_threadpool(
        server.create_token_response, StarletteOAuthRequest(request, form)
    )
    return _response(status, body, headers)


async def revocation_endpoint(request: Request) -> JSONResponse:
    """RFC 7009. The client authenticates as at the token endpoint (public clients by
    client_id); the answer is 200 whether or not the token existed."""
    server: HubAuthorizationServer = request.app.state.oauth
    form = {k: str(v) for k, v in (await request.form()).items()}
    oauth_request = StarletteOAuthRequest(request, form)
    try:
        client: HubClient = await run_in_threadpool(
            server.authenticate_client,
            oauth_request,
            ["client_secret_basic", "client_secret_post", "none"],
            "revocation",
        )
    except OAuth2Error as exc:
        return JSONResponse(dict(exc.get_body()), status_code=exc.status_code)
    if token := form.get("token"):
        await revoke_refresh(request.app.state.sessions, token, client.client_id)
    return JSONResponse({})


async def metadata_endpoint(request: Request) -> JSONResponse:
    """RFC 8414 authorisation server metadata."""
    issuer: str = request.app.state.issuer
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "scopes_supported": [s.value for s in Scope],
        }
    )


async def jwks_endpoint(request: Request) -> JSONResponse:
    async with request.app.state.sessions() as session:
        body = await keys.jwks(session)
    # Nodes cache this; they refetch when they meet a key id they do not know.
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})
