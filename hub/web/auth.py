"""Who is calling the hub: tokens it signed itself, from clients of shops still active."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.authentication import AuthenticationError

from hub.db.models import Shop
from hub.services import keys
from mallnet.auth import Principal
from mallnet.hubtokens import HubTokenVerifier, JWKSCache


def local_jwks(sessions: async_sessionmaker[AsyncSession]) -> JWKSCache:
    async def load() -> dict[str, Any]:
        async with sessions() as session:
            return await keys.jwks(session)

    return JWKSCache(load)


class HubVerifier:
    """A hub-signed token for the hub, whose shop (if any) is not suspended: suspending a
    shop stops its tokens at once, not when they expire."""

    def __init__(self, tokens: HubTokenVerifier, sessions: async_sessionmaker[AsyncSession]):
        self.tokens = tokens
        self.sessions = sessions

    async def verify(self, token: str) -> Principal:
        principal = await self.tokens.verify(token)
        if principal.shop is not None:
            async with self.sessions() as session:
                status = await session.scalar(
                    select(Shop.status).where(Shop.slug == principal.shop)
                )
            if status != "active":
                raise AuthenticationError(f"shop {principal.shop!r} is {status or 'unknown'}")
        return principal
