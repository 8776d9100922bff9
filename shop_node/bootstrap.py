"""Preparing a node's database: create, migrate, bind to its shop."""

from __future__ import annotations

from mallnet.config import Settings
from mallnet.db import engine_scope
from mallnet.migrations import upgrade
from shop_node import identity


async def prepare_node(settings: Settings, shop: str) -> str:
    url = settings.node_db_url(shop)
    revision = await upgrade("node", url)
    async with engine_scope(url) as engine:
        await identity.claim(engine, shop)
    return revision
