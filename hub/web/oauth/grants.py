"""The grants the hub allows, as Authlib grants: authorization code with PKCE (S256 only)
and refresh token rotation (client credentials is Authlib's own, unchanged). They reach
the database through ``token_store``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge

from hub.db.models import AuthorizationCode
from hub.services.people import Person
from hub.web.oauth import token_store
from hub.web.oauth.clients import HubClient
from hub.web.oauth.token_store import IssuedCode, IssuedRefresh
from mallnet.db import utcnow

if TYPE_CHECKING:
    from hub.web.oauth.server import HubAuthorizationServer


class S256Only(CodeChallenge):
    """PKCE with S256 only (``plain`` protects nothing against a leaked request)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's class attribute
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


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
            code_hash=token_store.digest(code),
            client_id=request.client.client_id,
            subject=person.subject,
            audience=person.audience,
            shop=person.shop,
            scope=request.payload.scope or "",
            redirect_uri=data.get("redirect_uri") or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", "S256"),
            created_at=utcnow(),
            expires_at=utcnow() + token_store.CODE_LIFETIME,
        )
        self.hub.bridge_run(lambda: token_store.save_code(self.hub.sessions, row))

    def query_authorization_code(self, code: str, client: HubClient) -> IssuedCode | None:
        # PKCE and the redirect URI are checked *before* the code is claimed: a wrong
        # verifier from someone who intercepted the code must not burn it.
        form = self.request.form
        challenge = create_s256_code_challenge(form.get("code_verifier") or "")
        redirect_uri = form.get("redirect_uri") or ""
        return self.hub.bridge_run(
            lambda: token_store.claim_code(
                self.hub.sessions, token_store.digest(code), client, challenge, redirect_uri
            )
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
            lambda: token_store.use_refresh(
                self.hub.sessions, token_store.digest(refresh_token), client, requested
            )
        )

    def authenticate_user(self, refresh_token: IssuedRefresh) -> Person:
        return refresh_token.person

    def revoke_old_credential(self, refresh_token: IssuedRefresh) -> None:
        return None  # marked used when it was read
