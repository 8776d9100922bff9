"""Access tokens: RFC 9068 JWTs signed with the hub's current key (cached), for whom and
for how long."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.services import keys
from hub.services.people import HUB_AUDIENCE, Person
from hub.web.oauth.clients import HubClient
from mallnet.keywrap import Keyring

MACHINE_TOKEN_LIFETIME_S = 600
USER_TOKEN_LIFETIME_S = 900


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
        claims: dict[str, Any] = {"shop": shop} if shop else {}
        if user is not None and user.username:
            # OIDC's standard claim, so a node can show who is signed in (staff only).
            claims["preferred_username"] = user.username
        return claims

    def _get_expires_in(self, client: HubClient, grant_type: str) -> int:
        if grant_type == "client_credentials":
            return MACHINE_TOKEN_LIFETIME_S
        return USER_TOKEN_LIFETIME_S


@dataclass
class KeyCache:
    """The active signing key, read from the database at most once a minute."""

    sessions: async_sessionmaker[AsyncSession]
    keyring: Keyring  # opens the stored private keys (mallnet.keywrap)
    ttl_s: float = 60.0
    _value: tuple[float, keys.ActiveKey] | None = field(default=None, init=False)

    async def get(self) -> keys.ActiveKey:
        if self._value is not None and time.monotonic() - self._value[0] < self.ttl_s:
            return self._value[1]
        async with self.sessions() as session, session.begin():
            active = await keys.active_key(session, self.keyring)
        self._value = (time.monotonic(), active)
        return active

    def forget(self) -> None:
        self._value = None
