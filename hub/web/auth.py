"""Who is calling the hub: tokens it signed itself, from clients of shops still active."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.authentication import AuthenticationError

from hub.db.models import Shop
from hub.services import keys, staff
from mallnet.auth import Principal
from mallnet.hubtokens import HubTokenVerifier, JWKSCache
from mallnet.scopes import Scope


def local_jwks(sessions: async_sessionmaker[AsyncSession]) -> JWKSCache:
    async def load() -> dict[str, Any]:
        async with sessions() as session:
            return await keys.jwks(session)

    return JWKSCache(load)


class HubVerifier:
    """A hub-signed token for the hub, whose shop (if any) is not suspended: suspending a
    shop stops its tokens at once, not when they expire — all but what ``node:inbox``
    allows (its node pulling the command that ends its staff's sessions), the only scope a
    suspended shop's token keeps. A person's token (staff or mall management) likewise
    stops at once when their account is disabled or its sessions revoked."""

    def __init__(self, tokens: HubTokenVerifier, sessions: async_sessionmaker[AsyncSession]):
        self.tokens = tokens
        self.sessions = sessions

    async def verify(self, token: str) -> Principal:
        principal = await self.tokens.verify(token)
        if principal.subject.startswith(("staff:", "mall:")):
            return await self._person(principal)
        if principal.shop is not None:
            async with self.sessions() as session:
                status = await session.scalar(
                    select(Shop.status).where(Shop.slug == principal.shop)
                )
            if status == "suspended" and Scope.NODE_INBOX in principal.scopes:
                return replace(principal, scopes=frozenset({Scope.NODE_INBOX.value}))
            if status != "active":
                raise AuthenticationError(f"shop {principal.shop!r} is {status or 'unknown'}")
        return principal

    async def _person(self, principal: Principal) -> Principal:
        """A person's token holds while their account does, and carries no more than their
        role allows now: disabling an account, resetting its password or changing its role
        stops its tokens at once (one read of the account by its key)."""
        async with self.sessions() as session:
            now = await staff.standing(session, principal.subject)
        if now is None or now.voids(principal.issued_at):
            raise AuthenticationError("this sign-in has ended: sign in again")
        return replace(principal, scopes=principal.scopes & now.scopes)
