"""Turns a bearer token into Starlette ``AuthCredentials`` (the scopes every field checks).

The token verifier is pluggable: the hub's OAuth server issues JWTs that nodes verify
offline against its JWKS. With no verifier configured, requests without a token are
anonymous and a request that does present one is refused rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    UnauthenticatedUser,
)
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse


@dataclass(frozen=True)
class Principal(BaseUser):
    """Who a verified token speaks for."""

    subject: str
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    shop: str | None = None
    # When the credential was issued (a token's ``iat``, a node session's start), as a
    # POSIX timestamp: a revocation voids what was issued before it.
    issued_at: float | None = None
    # The person's username as the hub named it (a token's ``preferred_username``; a node
    # session keeps it), for display only: never an identity to authorize by.
    name: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.subject

    @property
    def identity(self) -> str:
        return self.subject


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """Return the token's principal or raise ``AuthenticationError``."""
        ...


class BearerAuthBackend(AuthenticationBackend):
    def __init__(self, verifier: TokenVerifier | None) -> None:
        self.verifier = verifier

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if not header:
            return AuthCredentials([]), UnauthenticatedUser()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            # Another scheme (HTTP Basic client authentication at /oauth/token) is for the
            # endpoint itself to check; it grants no scopes here.
            return AuthCredentials([]), UnauthenticatedUser()
        if not token.strip():
            raise AuthenticationError("expected 'Authorization: Bearer <access token>'")
        if self.verifier is None:
            raise AuthenticationError("this server does not accept access tokens yet")
        principal = await self.verifier.verify(token.strip())
        return AuthCredentials(sorted(principal.scopes)), principal


CSRF_HEADER: Final = "X-Mallnet-CSRF"
CSRF_VALUE: Final = "1"


class CsrfHeaderRequired(AuthenticationError):
    """A session cookie came without the CSRF header."""


def session_cookie_name(face: str, *, secure: bool) -> str:
    """``__Host-mallnet-<face>`` (Secure, Path=/, no Domain) outside development; over plain
    http in development a browser refuses a ``__Host-`` cookie, so the name without it."""
    return f"{'__Host-' if secure else ''}mallnet-{face}"


def require_csrf_header(conn: HTTPConnection) -> None:
    """A cookie is a credential only with the custom header: a cross-site form cannot send
    it, and a cross-origin script cannot without a CORS preflight these servers never grant
    (with SameSite=Strict, RFC 10017's recommended pair)."""
    if conn.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise CsrfHeaderRequired(
            f"a session cookie is accepted only with the header {CSRF_HEADER}: {CSRF_VALUE}"
        )


class SessionCookieBackend(BearerAuthBackend):
    """A bearer token, or at ``/graphql`` a face's session cookie whose value is itself a
    credential ``verifier`` accepts (a node's session token), with the CSRF header."""

    def __init__(self, verifier: TokenVerifier | None, cookie: str) -> None:
        super().__init__(verifier)
        self.cookie = cookie

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        value = conn.cookies.get(self.cookie)
        if conn.headers.get("authorization") or conn.url.path != "/graphql" or not value:
            return await super().authenticate(conn)
        require_csrf_header(conn)
        if self.verifier is None:
            raise AuthenticationError("this server does not accept sessions yet")
        principal = await self.verifier.verify(value)
        return AuthCredentials(sorted(principal.scopes)), principal


def session_auth_error(conn: HTTPConnection, exc: Exception) -> JSONResponse:
    """The authentication middleware's answer: 403 ``csrf_header_required`` for a cookie
    without the header, else 401 ``invalid_token`` (as ``mallnet.web`` answers)."""
    if isinstance(exc, CsrfHeaderRequired):
        return JSONResponse({"error": "csrf_header_required", "error_description": str(exc)}, 403)
    return JSONResponse(
        {"error": "invalid_token", "error_description": str(exc)},
        status_code=401,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{exc}"'},
    )
