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
import datetime as dt
import hashlib
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from hub.db.models import AuthorizationCode, OAuthClient, RefreshToken, Shop
from hub.services import keys
from hub.services.people import HUB_AUDIENCE, Person, current_person
from hub.services.registry import secret_matches
from mallnet.db import utcnow
from mallnet.scopes import Scope

T = TypeVar("T")
MACHINE_TOKEN_LIFETIME_S = 600
USER_TOKEN_LIFETIME_S = 900
CODE_LIFETIME = dt.timedelta(minutes=2)
REFRESH_LIFETIME = dt.timedelta(days=30)


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
        super().__init__(
            issuer=issuer,
            alg=keys.ALGORITHM,
            refresh_token_generator=lambda *args, **kwargs: secrets.token_urlsafe(32),
        )
        self.signing_key = signing_key
        self._keyset: tuple[str, KeySet] | None = None

    def get_jwks(self) -> KeySet:
        # Built once per signing key: importing an RSA private key costs ~40 ms of CPU.
        active = self.signing_key()
        if self._keyset is None or self._keyset[0] != active.kid:
            private = {**active.key.as_dict(private=True), "kid": active.kid}
            self._keyset = (active.kid, KeySet([RSAKey.import_key(private)]))
        return self._keyset[1]

    def get_audiences(self, client: HubClient, user: Person | None, scope: str) -> str:
        # Staff tokens are for their shop's node; everything else is for the hub.
        return user.audience if user is not None else HUB_AUDIENCE

    def get_extra_claims(
        self, client: HubClient, grant_type: str, user: Person | None, scope: str
    ) -> dict[str, Any]:
        shop = user.shop if user is not None else client.shop_slug
        return {"shop": shop} if shop else {}

    def _get_expires_in(self, client: HubClient, grant_type: str) -> int:
        if grant_type == "client_credentials":
            return MACHINE_TOKEN_LIFETIME_S
        return USER_TOKEN_LIFETIME_S


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class S256Only(CodeChallenge):
    """PKCE with S256 only (``plain`` protects nothing against a leaked request)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's class attribute
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


@dataclass(frozen=True)
class IssuedCode:
    """An authorization code as Authlib reads it back at the token endpoint."""

    code_hash: str
    client_id: str
    person: Person
    scope: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class IssuedRefresh:
    token_hash: str
    family_id: str
    client_id: str
    person: Person
    scope: str
    expires_at: dt.datetime
    origin_code_hash: str | None

    def check_client(self, client: HubClient) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - utcnow()).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return False  # used or revoked tokens are never loaded


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    @property
    def hub(self) -> HubAuthorizationServer:
        server: HubAuthorizationServer = self.server
        return server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        person: Person = request.user
        data = request.payload.data
        row = AuthorizationCode(
            code_hash=digest(code),
            client_id=request.client.client_id,
            subject=person.subject,
            audience=person.audience,
            shop=person.shop,
            scope=request.payload.scope or "",
            redirect_uri=data.get("redirect_uri") or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", "S256"),
            created_at=utcnow(),
            expires_at=utcnow() + CODE_LIFETIME,
        )
        self.hub.bridge_run(lambda: _insert(self.hub.sessions, row))

    def query_authorization_code(self, code: str, client: HubClient) -> IssuedCode | None:
        # PKCE and the redirect URI are checked *before* the code is claimed: a wrong
        # verifier from someone who intercepted the code must not burn it.
        form = self.request.form
        challenge = create_s256_code_challenge(form.get("code_verifier") or "")
        redirect_uri = form.get("redirect_uri") or ""
        return self.hub.bridge_run(
            lambda: _claim_code(self.hub.sessions, digest(code), client, challenge, redirect_uri)
        )

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        return None  # claimed (marked used) when it was read: single use even under races

    def authenticate_user(self, authorization_code: IssuedCode) -> Person:
        return authorization_code.person


class RefreshGrant(RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    @property
    def hub(self) -> HubAuthorizationServer:
        server: HubAuthorizationServer = self.server
        return server

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedRefresh | None:
        client: HubClient = self.request.client
        requested = self.request.payload.scope
        return self.hub.bridge_run(
            lambda: _use_refresh(self.hub.sessions, digest(refresh_token), client, requested)
        )

    def authenticate_user(self, refresh_token: IssuedRefresh) -> Person:
        return refresh_token.person

    def revoke_old_credential(self, refresh_token: IssuedRefresh) -> None:
        return None  # marked used when it was read


async def _insert(sessions: async_sessionmaker[AsyncSession], row: Any) -> None:
    async with sessions() as session, session.begin():
        session.add(row)


async def _revoke_families(session: AsyncSession, *conditions: Any) -> None:
    families = select(RefreshToken.family_id).where(*conditions).scalar_subquery()
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(families), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def _claim_code(
    sessions: async_sessionmaker[AsyncSession],
    code_hash: str,
    client: HubClient,
    challenge: str,
    redirect_uri: str,
) -> IssuedCode | None:
    now = utcnow()
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == code_hash)
            .with_for_update()
        )
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            # A replayed code: revoke what it already issued (RFC 6749 section 4.1.2).
            await _revoke_families(session, RefreshToken.origin_code_hash == code_hash)
            return None
        valid = (
            row.expires_at > now
            and secrets.compare_digest(row.code_challenge, challenge)
            and row.redirect_uri == redirect_uri
        )
        if not valid:
            return None
        person = await current_person(
            session, _person(row.subject, row.audience, row.shop, row.scope)
        )
        if person is None:
            return None
        row.used_at = now
        scope = " ".join(sorted(set(row.scope.split()) & person.scopes))
    return IssuedCode(
        code_hash=code_hash,
        client_id=row.client_id,
        person=person,
        scope=scope,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method,
    )


def _person(subject: str, audience: str, shop: str | None, scope: str) -> Person:
    return Person(subject, audience, frozenset(scope.split()), shop)


async def _use_refresh(
    sessions: async_sessionmaker[AsyncSession],
    token_hash: str,
    client: HubClient,
    requested: str | None,
) -> IssuedRefresh | None:
    """Claim a refresh token for rotation. Checks that cost nothing to retry (the client,
    the scope asked for) come first; a token presented again after its use revokes its
    whole family; what the token grants is re-read from the account as it is now."""
    now = utcnow()
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        if row is None or row.client_id != client.client_id:
            return None
        if requested and not set(requested.split()) <= set(row.scope.split()):
            return None
        if row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.used_at is not None:
            await _revoke_families(session, RefreshToken.family_id == row.family_id)
            return None
        person = await current_person(
            session, _person(row.subject, row.audience, row.shop, row.scope)
        )
        scope = "" if person is None else " ".join(sorted(set(row.scope.split()) & person.scopes))
        if person is None or not scope:
            # A disabled account, a suspended shop, or a role that no longer allows what
            # was granted: the family ends here.
            await _revoke_families(session, RefreshToken.family_id == row.family_id)
            return None
        row.used_at = now
        return IssuedRefresh(
            token_hash=row.token_hash,
            family_id=row.family_id,
            client_id=row.client_id,
            person=person,
            scope=scope,
            expires_at=row.expires_at,
            origin_code_hash=row.origin_code_hash,
        )


async def _save_refresh(
    sessions: async_sessionmaker[AsyncSession],
    token: dict[str, Any],
    client_id: str,
    person: Person,
    previous: IssuedRefresh | None,
    code_hash: str | None,
) -> None:
    """Store a new refresh token. A rotated one keeps its family's end date (a session
    does not slide forever) and is born revoked if the family was revoked meanwhile."""
    now = utcnow()
    family = previous.family_id if previous is not None else secrets.token_hex(16)
    async with sessions() as session, session.begin():
        revoked = None
        if previous is not None:
            # Lock the family: a concurrent replay that revokes it waits for us, or we see it.
            states = await session.scalars(
                select(RefreshToken.revoked_at)
                .where(RefreshToken.family_id == family)
                .with_for_update()
            )
            revoked = now if any(state is not None for state in states) else None
        session.add(
            RefreshToken(
                token_hash=digest(token["refresh_token"]),
                family_id=family,
                client_id=client_id,
                subject=person.subject,
                audience=person.audience,
                shop=person.shop,
                scope=token.get("scope") or "",
                created_at=now,
                expires_at=previous.expires_at if previous is not None else now + REFRESH_LIFETIME,
                revoked_at=revoked,
                origin_code_hash=previous.origin_code_hash if previous is not None else code_hash,
            )
        )


async def revoke_refresh(
    sessions: async_sessionmaker[AsyncSession], token: str, client_id: str
) -> None:
    """RFC 7009: revoke the token's family if the token is the client's; say nothing either
    way (the answer must not reveal whether a token exists)."""
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == digest(token))
        )
        if row is None or row.client_id != client_id:
            return
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


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
        if "refresh_token" not in token or request.user is None:
            return
        previous: IssuedRefresh | None = request.refresh_token
        code: IssuedCode | None = request.authorization_code
        client_id = request.client.client_id
        code_hash = code.code_hash if code is not None else None
        self.bridge_run(
            lambda: _save_refresh(
                self.sessions, token, client_id, request.user, previous, code_hash
            )
        )

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
