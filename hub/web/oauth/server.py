"""Authlib's authorisation server behind Starlette.

Authlib ships server integrations only for Flask and Django, and its core is synchronous.
This adapter hands it an already-built request, runs it in a worker thread, and lets its
synchronous hooks (``query_client``, the signing key) reach the async database through
``Bridge``: the hook schedules the coroutine on the app's event loop and waits for it.
The protocol itself — grant validation, client authentication, error responses — is
Authlib's, not ours."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from hub.web.oauth import token_store
from hub.web.oauth.access_tokens import KeyCache, TokenGenerator
from hub.web.oauth.clients import HubClient, load_client
from hub.web.oauth.grants import CodeGrant, RefreshGrant, S256Only
from hub.web.oauth.token_store import IssuedCode, IssuedRefresh
from mallnet.scopes import Scope

T = TypeVar("T")


class Bridge:
    """Lets synchronous code in a worker thread await a coroutine on the app's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, make: Callable[[], Awaitable[T]], timeout_s: float = 10.0) -> T:
        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout_s)


class StarletteOAuthRequest(OAuth2Request):
    """The request Authlib reads: method, URL, headers and the already-parsed form."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        # Starlette's Headers: case-insensitive, as Authlib's "Authorization" look-ups need.
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._form = form
        self._args = dict(request.query_params)
        self.payload = BasicOAuth2Payload({**self._args, **form})

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return self._args


class HubAuthorizationServer(AuthorizationServer):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], issuer: str, key_cache: KeyCache
    ) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self.sessions = sessions
        self.key_cache = key_cache
        self.bridge: Bridge | None = None
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(CodeGrant, [S256Only(required=True)])
        self.register_grant(RefreshGrant)
        self.register_token_generator(
            "default", TokenGenerator(issuer, lambda: self._bridge().run(self.key_cache.get))
        )

    def _bridge(self) -> Bridge:
        if self.bridge is None:
            raise RuntimeError("the OAuth server runs only inside the hub app")
        return self.bridge

    def bridge_run(self, make: Callable[[], Awaitable[T]]) -> T:
        return self._bridge().run(make)

    def query_client(self, client_id: str) -> HubClient | None:
        return self._bridge().run(lambda: load_client(self.sessions, client_id))

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs: only refresh tokens are stored (hashed).
        person = request.user
        if person is None:
            return  # client credentials: the client's standing was read when it was loaded
        previous: IssuedRefresh | None = request.refresh_token
        code: IssuedCode | None = request.authorization_code
        client_id = request.client.client_id
        code_hash = code.code_hash if code is not None else None
        if "refresh_token" in token:
            holds = self.bridge_run(
                lambda: token_store.save_refresh(
                    self.sessions, token, client_id, person, previous, code_hash
                )
            )
        else:
            holds = self.bridge_run(
                lambda: token_store.sign_in_holds(self.sessions, person, code_hash)
            )
        if not holds:
            # The account's sessions were ended between the claim and now: the access token
            # just signed may postdate that end, so it must never leave (RFC 6749 5.2).
            raise InvalidGrantError("this sign-in was ended meanwhile: sign in again")

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers
