"""Preparing a node's database: create, migrate, bind to its shop, seed what every club
starts with (its system accounts and the default club policy)."""

from __future__ import annotations

from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.migrations import upgrade
from shop_node.services import identity
from shop_node.services.ledger import ensure_system_accounts
from shop_node.services.policy import ensure_policy


async def prepare_node(settings: Settings, shop: str) -> str:
    url = settings.node_db_url(shop)
    revision = await upgrade("node", url)
    async with engine_scope(url) as engine:
        await identity.claim(engine, shop)
        async with session_factory(engine)() as session, session.begin():
            await ensure_system_accounts(session)
            await ensure_policy(session)
    return revision
