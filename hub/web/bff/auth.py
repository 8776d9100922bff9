"""The faces' session cookie as a credential, at ``/graphql`` only and only with the CSRF
header: ``SameSite=Strict`` keeps the cookie off cross-site requests, and the custom header
is one a cross-site form cannot send and a cross-origin script cannot send without a CORS
preflight the hub never grants (RFC 10017's recommended pair). A bearer token, when given,
is used as before; the cookie is never read anywhere else (not at ``/oauth/*``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from starlette.authentication import AuthCredentials, AuthenticationError, BaseUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from hub.web.bff import store
from hub.web.bff.tokens import TokenRefused, fresh
from mallnet.auth import (
    BearerAuthBackend,
    Principal,
    TokenVerifier,
    require_csrf_header,
    session_auth_error,
    session_cookie_name,
)

COOKIE_PATHS: Final = frozenset({"/graphql"})


@dataclass(frozen=True)
class CookieNames:
    session: str
    login: str


def cookie_names(face: str, *, secure: bool) -> CookieNames:
    """``__Host-`` cookies (Secure, Path=/, no Domain) outside development; in development
    over plain http a browser refuses a ``__Host-`` cookie, so the same name without it."""
    session = session_cookie_name(face, secure=secure)
    return CookieNames(session, f"{session}-login")


class FaceAuthBackend(BearerAuthBackend):
    def __init__(self, verifier: TokenVerifier, faces: tuple[str, ...]) -> None:
        super().__init__(verifier)
        self.faces = faces

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        if conn.headers.get("authorization") or conn.url.path not in COOKIE_PATHS:
            return await super().authenticate(conn)
        state = conn.app.state
        secure = state.settings.is_production
        found = [
            (face, value)
            for face in self.faces
            if (value := conn.cookies.get(cookie_names(face, secure=secure).session))
        ]
        if not found:
            return await super().authenticate(conn)
        require_csrf_header(conn)
        face, session_id = found[0]
        _held, principal = await session_principal(state, face, session_id)
        return AuthCredentials(sorted(principal.scopes)), principal


async def session_principal(state: Any, face: str, session_id: str) -> tuple[store.Held, Principal]:
    """The face's session and whom it speaks for now: its access token (refreshed when
    about to end) checked as any bearer token is, so a disabled account, a revoked sign-in
    or a suspended shop ends the session at once. Raises ``AuthenticationError``."""
    held = await store.load(state.sessions, state.keyring, session_id)
    if held is None or held.face != face:
        raise AuthenticationError("this session has ended: sign in again")
    try:
        held = await fresh(state, held)
    except TokenRefused:
        raise AuthenticationError("this session has ended: sign in again") from None
    verifier: TokenVerifier = state.verifier
    return held, await verifier.verify(held.tokens.access_token)


def face_middleware(verifier: TokenVerifier, faces: tuple[str, ...]) -> list[Middleware]:
    """``mallnet.web.common_middleware`` for the hub, with the faces' session cookies."""
    backend = FaceAuthBackend(verifier, faces)
    return [Middleware(AuthenticationMiddleware, backend=backend, on_error=session_auth_error)]
