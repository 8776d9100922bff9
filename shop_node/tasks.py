"""The node's Celery tasks: thin entrypoints calling the same services as the API."""

from __future__ import annotations

import asyncio

from federation.client import HubUnavailable
from mallnet.celery_app import app
from mallnet.config import check_shop_slug, get_settings
from mallnet.db import engine_scope
from mallnet.messaging import sender_for
from shop_node.services.adjustments import expire_due
from shop_node.services.inbox import pull_and_apply
from shop_node.services.relay import hub_connection, relay_all
from shop_node.services.runtime import NodeRuntime


async def _expire(shop: str) -> int:
    async with engine_scope(get_settings().node_db_url(shop)) as engine:
        runtime = await NodeRuntime.start(shop, engine, get_settings())
        return await expire_due(runtime)


@app.task(name="node.expire_lots")
def expire_lots(shop: str) -> int:
    """Expire what is left of the shop's lots past their date (idempotent; scheduled by
    beat for every shop in MALLNET_SHOPS). Returns how many lots expired."""
    return asyncio.run(_expire(check_shop_slug(shop)))


async def _relay(shop: str) -> dict[str, int]:
    settings = get_settings()
    async with engine_scope(settings.node_db_url(shop)) as engine:
        runtime = await NodeRuntime.start(shop, engine, settings)
        hub = await hub_connection(runtime, settings.public_hub_url)
        if hub is None:
            return {"acknowledged": 0, "not_connected": 1}
        # One exchange with the hub: deliver our events, then apply its commands.
        acknowledged = await relay_all(runtime, hub)
        try:
            applied = await pull_and_apply(runtime, hub, sender_for(settings))
        except HubUnavailable:
            applied = 0
        return {"acknowledged": acknowledged, "commands_applied": applied}


@app.task(name="node.relay_outbox")
def relay_outbox(shop: str) -> dict[str, int]:
    """Deliver the shop's outbox to the hub (scheduled by beat every few seconds for each
    shop in MALLNET_SHOPS; safe to run twice at once: the hub keeps one effect)."""
    return asyncio.run(_relay(check_shop_slug(shop)))
