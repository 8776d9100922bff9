"""The hub's OAuth clients as Authlib sees them: what each may ask for (scopes, grant
types, redirect URIs) and how it authenticates; a disabled client is not found.

A suspended shop's client may still get ``node:inbox`` by client credentials, so that its
node can pull the command that ends its staff's sessions there; asked for anything else,
it hears (having authenticated, and only then) that its shop is suspended."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidScopeError, UnauthorizedClientError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import OAuthClient, Shop
from hub.services.registry import secret_matches
from mallnet.scopes import ASKED_FOR_BY_NAME, SHOP_SUSPENDED, Scope

# All a suspended shop's client may have.
SUSPENDED_SCOPES = frozenset({Scope.NODE_INBOX.value})


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
    suspended: bool = False  # its shop is: it may have ``SUSPENDED_SCOPES`` only

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        requested = set(scope.split()) if scope else set()
        if self.suspended and not (requested and requested <= SUSPENDED_SCOPES):
            # Called once the client has authenticated: only it learns why.
            raise UnauthorizedClientError(
                description=f"{SHOP_SUSPENDED}: this shop is suspended; its node may ask "
                f"for {' '.join(sorted(SUSPENDED_SCOPES))} only, to pull its inbox"
            )
        if not requested:
            return " ".join(sorted(self.allowed_scopes - ASKED_FOR_BY_NAME))
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


async def load_client(
    sessions: async_sessionmaker[AsyncSession], client_id: str
) -> HubClient | None:
    """The client, unless it is disabled; a suspended shop's, as it may be while suspended
    (client credentials and ``node:inbox`` at most)."""
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
    if client.disabled_at is not None:
        return None
    allowed = frozenset(client.allowed_scopes.split())
    grants = tuple(client.grant_types)
    redirects = tuple(client.redirect_uris)
    suspended = status == "suspended"
    if suspended:
        allowed &= SUSPENDED_SCOPES
        grants = tuple(g for g in grants if g == "client_credentials")
        redirects = ()
    return HubClient(
        client_id=client.client_id,
        secret_hash=client.secret_hash,
        kind=client.kind,
        allowed_scopes=allowed,
        grant_types=grants,
        redirect_uris=redirects,
        shop_slug=slug,
        suspended=suspended,
    )
