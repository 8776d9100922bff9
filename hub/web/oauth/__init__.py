"""The hub's OAuth 2 authorisation server: Authlib's protocol core behind Starlette.

- ``server``: the adapter that runs Authlib's synchronous server for Starlette requests;
- ``clients``: the OAuth clients and what each may ask for;
- ``grants``: authorization code with PKCE, refresh token rotation;
- ``token_store``: authorization codes and refresh tokens in the database (single use,
  rotation, family revocation);
- ``access_tokens``: the JWT access tokens and the signing key they are signed with;
- ``endpoints``: token, revocation, metadata and JWKS over HTTP.

The sign-in pages behind ``/oauth/authorize`` are in ``hub.web.signin``.
"""

from __future__ import annotations

from hub.services.people import HUB_AUDIENCE
from hub.web.oauth.access_tokens import KeyCache, TokenGenerator
from hub.web.oauth.clients import HubClient, load_client
from hub.web.oauth.endpoints import (
    jwks_endpoint,
    metadata_endpoint,
    revocation_endpoint,
    token_endpoint,
)
from hub.web.oauth.server import Bridge, HubAuthorizationServer, StarletteOAuthRequest

__all__ = [
    "HUB_AUDIENCE",
    "Bridge",
    "HubAuthorizationServer",
    "HubClient",
    "KeyCache",
    "StarletteOAuthRequest",
    "TokenGenerator",
    "jwks_endpoint",
    "load_client",
    "metadata_endpoint",
    "revocation_endpoint",
    "token_endpoint",
]
