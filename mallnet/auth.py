"""Turns a bearer token into Starlette ``AuthCredentials`` (the scopes every field checks).

The token verifier is pluggable: the hub's OAuth server issues JWTs that nodes verify
offline against its JWKS. With no verifier configured, requests without a token are
anonymous and a request that does present one is refused rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    UnauthenticatedUser,
)
from starlette.requests import HTTPConnection


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
