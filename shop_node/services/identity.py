"""Binding a node database to its shop, so one node can never serve another shop's data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from mallnet.db import session_factory, utcnow
from shop_node.db.models import NodeIdentity


class WrongShopDatabase(RuntimeError):
    """The database belongs to another shop than the one this node was started for."""


async def claim(engine: AsyncEngine, shop: str) -> str:
    """Record ``shop`` as the database's owner on first use; refuse another shop's database."""
    async with session_factory(engine)() as session, session.begin():
        identity = await session.scalar(select(NodeIdentity).where(NodeIdentity.id == 1))
        if identity is None:
            session.add(NodeIdentity(id=1, shop_slug=shop, created_at=utcnow()))
            return shop
        if identity.shop_slug != shop:
            raise WrongShopDatabase(
                f"this database belongs to shop {identity.shop_slug!r}, not {shop!r}: "
                "check MALLNET_NODE_DATABASE_URL"
            )
        return shop


async def owner(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        result = await conn.execute(select(NodeIdentity.shop_slug).where(NodeIdentity.id == 1))
        return result.scalar_one_or_none()
