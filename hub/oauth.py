"""The hub's OAuth 2 authorisation server: Authlib's protocol core behind Starlette.

Authlib ships server integrations only for Flask and Django, and its core is synchronous.
This adapter hands it an already-built request, runs it in a worker thread, and lets its
synchronous hooks (``query_client``, the signing key) reach the async database through
``Bridge``: the hook schedules the coroutine on the app's event loop and waits for it.
The protocol itself — grant validation, client authentication, error responses — is
Authlib's, not ours.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from hub import keys
from hub.models import OAuthClient, Shop
from hub.registry import secret_matches
from mallnet.scopes import Scope

T = TypeVar("T")
MACHINE_TOKEN_LIFETIME_S = 600
HUB_AUDIENCE = "mallnet-hub"


class Bridge:
    """Lets synchronous code in a worker thread await a coroutine on the app's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, make: Callable[[], Awaitable[T]], timeout_s: float = 10.0) -> T:
        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout_s)


@dataclass(frozen=True)
class HubClient(ClientMixin):
    """An OAuth client as Authlib sees it."""

    client_id: str
    secret_hash: str | None
    kind: str
    allowed_scopes: frozenset[str]
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    shop_slug: str | None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return " ".join(sorted(self.allowed_scopes))
        requested = set(scope.split())
        if not requested <= self.allowed_scopes:
            # Refuse rather than quietly narrow: a client asking for more than it may
            # have is misconfigured, and should hear so.
            refused = " ".join(sorted(requested - self.allowed_scopes))
            raise InvalidScopeError(description=f"not allowed for this client: {refused}")
        return " ".join(sorted(requested))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.secret_hash is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


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


class TokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens signed with the hub's current key."""

    def __init__(self, issuer: str, signing_key: Callable[[], keys.ActiveKey]) -> None:
        super().__init__(issuer=issuer, alg=keys.ALGORITHM)
        self.signing_key = signing_key

    def get_jwks(self) -> KeySet:
        active = self.signing_key()
        private = {**active.key.as_dict(private=True), "kid": active.kid}
        return KeySet([RSAKey.import_key(private)])

    def get_audiences(self, client: HubClient, user: Any, scope: str) -> str:
        return HUB_AUDIENCE

    def get_extra_claims(
        self, client: HubClient, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        return {"shop": client.shop_slug} if client.shop_slug else {}

    def _get_expires_in(self, client: HubClient, grant_type: str) -> int:
        return MACHINE_TOKEN_LIFETIME_S


@dataclass
class KeyCache:
    """The active signing key, read from the database at most once a minute."""

    sessions: async_sessionmaker[AsyncSession]
    ttl_s: float = 60.0
    _value: tuple[float, keys.ActiveKey] | None = field(default=None, init=False)

    async def get(self) -> keys.ActiveKey:
        if self._value is not None and time.monotonic() - self._value[0] < self.ttl_s:
            return self._value[1]
        async with self.sessions() as session, session.begin():
            active = await keys.active_key(session)
        self._value = (time.monotonic(), active)
        return active

    def forget(self) -> None:
        self._value = None


class HubAuthorizationServer(AuthorizationServer):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], issuer: str, key_cache: KeyCache
    ) -> None:
        super().__init__(scopes_supported=[s.value for s in Scope])
        self.sessions = sessions
        self.key_cache = key_cache
        self.bridge: Bridge | None = None
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator(
            "default", TokenGenerator(issuer, lambda: self._bridge().run(self.key_cache.get))
        )

    def _bridge(self) -> Bridge:
        if self.bridge is None:
            raise RuntimeError("the OAuth server runs only inside the hub app")
        return self.bridge

    def query_client(self, client_id: str) -> HubClient | None:
        return self._bridge().run(lambda: load_client(self.sessions, client_id))

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs: nothing to store.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers


async def load_client(
    sessions: async_sessionmaker[AsyncSession], client_id: str
) -> HubClient | None:
    """The client, unless it is disabled or belongs to a suspended shop."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(OAuthClient, Shop.slug, Shop.status)
                .outerjoin(Shop, Shop.id == OAuthClient.shop_id)
                .where(OAuthClient.client_id == client_id)
            )
        ).first()
    if row is None:
        return None
    client, slug, status = row
    if client.disabled_at is not None or status == "suspended":
        return None
    return HubClient(
        client_id=client.client_id,
        secret_hash=client.secret_hash,
        kind=client.kind,
        allowed_scopes=frozenset(client.allowed_scopes.split()),
        grant_types=tuple(client.grant_types),
        redirect_uris=tuple(client.redirect_uris),
        shop_slug=slug,
    )


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


async def metadata_endpoint(request: Request) -> JSONResponse:
    """RFC 8414 authorisation server metadata."""
    issuer: str = request.app.state.issuer
    return JSONResponse(
        {
            "issuer": issuer,
            "token_endpoint": f"{issuer}/oauth/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": [s.value for s in Scope],
            "response_types_supported": [],
        }
    )


async def jwks_endpoint(request: Request) -> JSONResponse:
    async with request.app.state.sessions() as session:
        body = await keys.jwks(session)
    # Nodes cache this; they refetch when they meet a key id they do not know.
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})
