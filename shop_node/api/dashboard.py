"""The shop dashboard's sign-in at its node, as a backend-for-frontend (RFC 10017): the
node runs the authorization code + PKCE flow with the hub as the confidential client
``dashboard-<shop>`` (registered by the hub, authenticating with the node's own secret),
then starts a node session (``shop_node.services.sessions``: it outlives a hub outage for a
working day) and gives the browser only that session's token in an HttpOnly, SameSite=Strict
cookie, which GraphQL accepts only with the CSRF header (``mallnet.auth``).

The state and PKCE verifier of a sign-in under way travel sealed (AES-GCM under a key of
this network) in a short-lived HttpOnly cookie: unreadable by the page, bound to the
browser that started the sign-in. The hub's refresh token is revoked as soon as the node
session starts: the node session is the dashboard's only credential."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.authentication import AuthenticationError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mallnet.auth import CSRF_HEADER, CSRF_VALUE, session_cookie_name
from mallnet.config import Settings
from mallnet.secrets_store import network_key
from mallnet.web import refusal
from mallnet.webapps import return_path
from shop_node.db.models import HubCredentials
from shop_node.services import sessions

FACE = "dashboard"
LOGIN_LIFETIME_S = 900
NO_STORE = {"Cache-Control": "no-store"}
HUB_TIMEOUT_S = 10.0


def dashboard_client_id(shop: str) -> str:
    return f"dashboard-{shop}"


def cookie_name(shop: str, settings: Settings) -> str:
    """The shop's in the name: in development every node and the hub share one host (a
    browser's cookies ignore ports), and one shop's sign-in must not replace another's."""
    return session_cookie_name(f"{FACE}-{shop}", secure=settings.is_production)


def _names(request: Request) -> tuple[str, str]:
    session = cookie_name(request.app.state.shop, request.app.state.settings)
    return session, f"{session}-login"


def _login_key(settings: Settings) -> bytes:
    return hmac.new(network_key(settings), b"mallnet dashboard login v1", hashlib.sha256).digest()


def _seal(settings: Settings, shop: str, data: dict[str, Any]) -> str:
    """Sealed for this shop's node: another node (the key is the network's) cannot open it."""
    nonce = os.urandom(12)
    bound = f"login:{shop}".encode()
    sealed = AESGCM(_login_key(settings)).encrypt(nonce, json.dumps(data).encode(), bound)
    return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def _open(settings: Settings, shop: str, value: str) -> dict[str, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        bound = f"login:{shop}".encode()
        clear = AESGCM(_login_key(settings)).decrypt(raw[:12], raw[12:], bound)
        data: dict[str, Any] = json.loads(clear)
    except (ValueError, InvalidTag):
        return None
    return data if data.get("exp", 0) > time.time() else None


def _cookie(response: Response, settings: Settings, name: str, value: str, age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="strict",
    )


def _forget(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=settings.is_production, httponly=True, samesite="strict"
    )


async def login(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    verifier, state = secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    # No redirect_uri: the hub sends the code to the one registered for this shop's node.
    query = urlencode(
        {
            "response_type": "code",
            "client_id": dashboard_client_id(request.app.state.shop),
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    hub = settings.public_hub_url.rstrip("/")
    response = RedirectResponse(f"{hub}/oauth/authorize?{query}", 302, headers=NO_STORE)
    started = {
        "s": state,
        "v": verifier,
        "exp": time.time() + LOGIN_LIFETIME_S,
        # The page to come back to (checked again when used: only the dashboard's pages).
        "n": return_path(FACE, request.query_params.get("next")),
    }
    sealed = _seal(settings, request.app.state.shop, started)
    _cookie(response, settings, _names(request)[1], sealed, LOGIN_LIFETIME_S)
    return response


async def _exchange(request: Request, code: str, verifier: str) -> dict[str, Any] | None:
    """The hub's tokens for the code (authenticating as the dashboard's client), or None."""

    async def load(session: AsyncSession) -> HubCredentials | None:
        return await session.get(HubCredentials, 1)

    credentials = await request.app.state.verifier.ready().read(load)
    if credentials is None:
        return None
    settings: Settings = request.app.state.settings
    hub = settings.public_hub_url.rstrip("/")
    auth = (dashboard_client_id(request.app.state.shop), credentials.client_secret)
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    async with httpx.AsyncClient(timeout=HUB_TIMEOUT_S) as http:
        answer = await http.post(f"{hub}/oauth/token", data=form, auth=auth)
        if answer.status_code != 200:
            return None
        tokens: dict[str, Any] = answer.json()
        if refresh := tokens.get("refresh_token"):
            # The node session is the dashboard's credential from here on.
            await http.post(f"{hub}/oauth/revoke", data={"token": refresh}, auth=auth)
    return tokens


async def callback(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    session_name, login_name = _names(request)
    state, code = request.query_params.get("state"), request.query_params.get("code")
    started = _open(settings, request.app.state.shop, request.cookies.get(login_name, ""))
    if not state or not code or started is None or not secrets.compare_digest(state, started["s"]):
        message = "this sign-in did not start in this browser, or expired: sign in again"
        return refusal(400, "login_state_mismatch", message)
    try:
        tokens = await _exchange(request, code, started["v"])
    except httpx.HTTPError:
        return refusal(503, "hub_unreachable", "the hub does not answer: try again shortly")
    if tokens is None:
        return refusal(400, "login_refused", "the hub refused this sign-in: sign in again")
    node_verifier = request.app.state.verifier
    try:
        principal = await node_verifier.verify(tokens["access_token"])
        runtime = node_verifier.ready()
        lifetime = dt.timedelta(hours=settings.node_session_hours)
        now = node_verifier.clock()
        begun = await runtime.transaction(
            lambda s: sessions.start(s, principal, now=now, lifetime=lifetime)
        )
    except (AuthenticationError, sessions.SessionRefused) as exc:
        return refusal(403, "SESSION_REFUSED", str(exc))
    response = RedirectResponse(return_path(FACE, started.get("n")), 303, headers=NO_STORE)
    _cookie(response, settings, session_name, begun.token, None)
    _forget(response, settings, login_name)
    return response


async def logout(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        return refusal(403, "csrf_header_required", f"send the header {CSRF_HEADER}: {CSRF_VALUE}")
    session_name, _login = _names(request)
    token = request.cookies.get(session_name, "")
    if sessions.is_session_token(token):
        node_verifier = request.app.state.verifier
        now = node_verifier.clock()
        await node_verifier.ready().transaction(lambda s: sessions.end(s, token, now))
    response = JSONResponse({"signedIn": False}, headers=NO_STORE)
    _forget(response, settings, session_name)
    return response


async def session_info(request: Request) -> Response:
    """Who is signed in to the dashboard: the kind of person, their username as the hub named
    them (null for a session begun without one), and the scopes; never a token."""
    signed_out = JSONResponse({"signedIn": False, "loginUrl": f"/{FACE}/login"}, headers=NO_STORE)
    token = request.cookies.get(_names(request)[0], "")
    if not sessions.is_session_token(token):
        return signed_out
    try:
        principal = await request.app.state.verifier.verify(token)
    except AuthenticationError:
        return signed_out
    body = {
        "signedIn": True,
        "who": principal.subject.split(":", 1)[0],
        "name": principal.name,
        "scopes": sorted(principal.scopes),
    }
    return JSONResponse(body, headers=NO_STORE)


routes = [
    Route(f"/{FACE}/login", login, methods=["GET"]),
    Route(f"/{FACE}/callback", callback, methods=["GET"]),
    Route(f"/{FACE}/logout", logout, methods=["POST"]),
    Route(f"/{FACE}/session", session_info, methods=["GET"]),
]
