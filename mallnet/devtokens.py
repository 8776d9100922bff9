"""Development access tokens: a stand-in for the hub's OAuth server, behind the same
``TokenVerifier`` interface, so every GraphQL field already checks real scopes.

HS256 JWTs signed with a secret kept in the data directory (or
``MALLNET_DEV_TOKEN_SECRET``). Refused outright in production: there, only tokens issued
by the hub are accepted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from functools import lru_cache

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.authentication import AuthenticationError

from mallnet.auth import Principal
from mallnet.config import Settings
from mallnet.secrets_store import local_secret

ISSUER = "mallnet-dev"


def dev_secret(settings: Settings) -> str:
    if settings.is_production:
        raise RuntimeError("development tokens are disabled in production")
    return local_secret(settings, "dev-token-secret", settings.dev_token_secret)


def issue(
    settings: Settings,
    *,
    audience: str,
    scopes: Iterable[str],
    subject: str,
    ttl_s: int = 8 * 3600,
) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "aud": audience,
        "client_id": "mallnet-dev",
        "scope": " ".join(sorted(set(scopes))),
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(dev_secret(settings)))


class DevTokenVerifier:
    def __init__(self, settings: Settings, audience: str) -> None:
        self.key = OctKey.import_key(dev_secret(settings))
        self.audience = audience
        self.registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
        )

    async def verify(self, token: str) -> Principal:
        # A token's content never changes, so its signature is checked once; expiry is
        # checked on every use.
        principal, expires_at = self._decode(token)
        if expires_at <= time.time():
            raise AuthenticationError("invalid access token: expired")
        return principal

    @lru_cache(maxsize=4096)  # noqa: B019 - one verifier per app, living as long as it
    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            decoded = jwt.decode(token, self.key, algorithms=["HS256"])
            self.registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise AuthenticationError(f"invalid access token: {exc}") from exc
        claims = decoded.claims
        principal = Principal(
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id", "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            shop=self.audience,
            issued_at=float(claims["iat"]) if "iat" in claims else None,
        )
        return principal, float(claims["exp"])
