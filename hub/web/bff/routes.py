"""The faces' sign-in routes: ``/<face>/login``, ``/<face>/callback``, ``/<face>/logout``
and ``/<face>/session`` (who is signed in, never a token). Mounted before the face's
static files (``mallnet.webapps``), which would otherwise answer them with the page."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.authentication import AuthenticationError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub.web.bff import store
from hub.web.bff.auth import cookie_names, session_principal
from hub.web.bff.faces import FACES
from hub.web.bff.people import display_name
from hub.web.bff.tokens import TokenRefused, revoke, token_call
from mallnet.auth import CSRF_HEADER, CSRF_VALUE, Principal
from mallnet.keywrap import Keyring
from mallnet.web import refusal
from mallnet.webapps import return_path

NO_STORE = {"Cache-Control": "no-store"}


def _state(request: Request) -> tuple[store.Sessions, Keyring, str, bool]:
    state = request.app.state
    return state.sessions, state.keyring, state.issuer, not state.settings.is_production


def _cookie(response: Response, name: str, value: str, secure: bool, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict"
    )


def _forget(response: Response, name: str, secure: bool) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")


async def login(request: Request, face: str) -> Response:
    sessions, _keyring, issuer, dev = _state(request)
    verifier = secrets.token_urlsafe(64)
    state = await store.start_login(sessions, face, verifier)
    spec = FACES[face]
    # No scope asked for: the token carries what the person's role allows within the
    # face's client (a mall finance officer gets settlement, not campaigns).
    query = urlencode(
        {
            "response_type": "code",
            "client_id": spec.client_id,
            "redirect_uri": spec.redirect_uri(issuer),
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    response = RedirectResponse(f"/oauth/authorize?{query}", status_code=302, headers=NO_STORE)
    # The state is also bound to this browser: a code another browser obtained cannot be
    # fed to this one's callback (login CSRF).
    names = cookie_names(face, secure=not dev)
    lifetime = int(store.LOGIN_LIFETIME.total_seconds())
    _cookie(response, names.login, state, not dev, lifetime)
    # The page to come back to (checked again when used: only this face's pages).
    back = return_path(face, request.query_params.get("next"))
    _cookie(response, f"{names.login}-next", back, not dev, lifetime)
    return response


async def callback(request: Request, face: str) -> Response:
    sessions, keyring, issuer, dev = _state(request)
    names = cookie_names(face, secure=not dev)
    state, code = request.query_params.get("state"), request.query_params.get("code")
    bound = request.cookies.get(names.login)
    if not state or not code or not bound or not secrets.compare_digest(state, bound):
        return refusal(
            400, "login_state_mismatch", "this sign-in did not start here: sign in again"
        )
    verifier = await store.claim_login(sessions, face, state)
    if verifier is None:
        return refusal(400, "login_expired", "this sign-in expired: sign in again")
    spec = FACES[face]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": spec.redirect_uri(issuer),
        "code_verifier": verifier,
    }
    try:
        body = await token_call(request.app.state.oauth, issuer, keyring, face, form)
    except TokenRefused:
        return refusal(400, "login_refused", "the hub refused this sign-in: sign in again")
    tokens = store.Tokens.from_response(body)
    principal: Principal = await request.app.state.verifier.verify(tokens.access_token)
    subject = principal.subject
    session_id = await store.create(sessions, keyring, face, spec.client_id, subject, tokens)
    back = return_path(face, request.cookies.get(f"{names.login}-next"))
    response = RedirectResponse(back, status_code=303, headers=NO_STORE)
    _cookie(response, names.session, session_id, not dev, None)
    _forget(response, names.login, not dev)
    _forget(response, f"{names.login}-next", not dev)
    return response


async def logout(request: Request, face: str) -> Response:
    """Ends the session and revokes its refresh token. POST with the CSRF header only: a
    cross-site page must not sign people out either."""
    sessions, keyring, _issuer, dev = _state(request)
    if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        return refusal(403, "csrf_header_required", f"send the header {CSRF_HEADER}: {CSRF_VALUE}")
    names = cookie_names(face, secure=not dev)
    if session_id := request.cookies.get(names.session):
        held = await store.load(sessions, keyring, session_id)
        if held is not None and held.face == face:
            await revoke(sessions, held)
            await store.end(sessions, held.id_hash)
    response = JSONResponse({"signedIn": False}, headers=NO_STORE)
    response.delete_cookie(
        names.session, path="/", secure=not dev, httponly=True, samesite="strict"
    )
    return response


async def session_info(request: Request, face: str) -> Response:
    """Who is signed in to this face: a kind of person, a name to show and the scopes they
    have now; never a token."""
    _sessions, _keyring, _issuer, dev = _state(request)
    signed_out = JSONResponse({"signedIn": False, "loginUrl": f"/{face}/login"}, headers=NO_STORE)
    session_id = request.cookies.get(cookie_names(face, secure=not dev).session)
    if not session_id:
        return signed_out
    try:
        held, principal = await session_principal(request.app.state, face, session_id)
    except AuthenticationError:
        return signed_out
    body: dict[str, Any] = {
        "signedIn": True,
        "who": held.subject.split(":", 1)[0],
        "name": await display_name(request.app.state.sessions, held.subject),
        "scopes": sorted(principal.scopes),
    }
    return JSONResponse(body, headers=NO_STORE)


def face_routes(face: str) -> list[BaseRoute]:
    async def do_login(request: Request) -> Response:
        return await login(request, face)

    async def do_callback(request: Request) -> Response:
        return await callback(request, face)

    async def do_logout(request: Request) -> Response:
        return await logout(request, face)

    async def do_session(request: Request) -> Response:
        return await session_info(request, face)

    return [
        Route(f"/{face}/login", do_login, methods=["GET"]),
        Route(f"/{face}/callback", do_callback, methods=["GET"]),
        Route(f"/{face}/logout", do_logout, methods=["POST"]),
        Route(f"/{face}/session", do_session, methods=["GET"]),
    ]
