"""The node's Celery tasks: thin entrypoints calling the same services as the API."""

from __future__ import annotations

import asyncio
import dataclasses

from federation.client import HubUnavailable
from mallnet.celery_app import app
from mallnet.config import check_shop_slug, get_settings
from mallnet.db import engine_scope
from shop_node.services import birthdays, broadcast, messages
from shop_node.services.adjustments import expire_due
from shop_node.services.expiry_notice import notify_soon
from shop_node.services.inbox import pull_and_apply
from shop_node.services.relay import hub_connection, relay_all
from shop_node.services.runtime import NodeRuntime


async def _expire(shop: str) -> dict[str, int]:
    async with engine_scope(get_settings().node_db_url(shop)) as engine:
        runtime = await NodeRuntime.start(shop, engine, get_settings())
        expired = await expire_due(runtime)
        return {"expired": expired, "told": await notify_soon(runtime)}


@app.task(name="node.expire_lots")
def expire_lots(shop: str) -> dict[str, int]:
    """Expire what is left of the shop's lots past their date, and tell members whose
    points or credit expire within a week (idempotent; scheduled by beat for every shop in
    MALLNET_SHOPS). Returns how many lots expired and how many members were told."""
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
            applied = await pull_and_apply(runtime, hub)
        except HubUnavailable:
            applied = 0
        return {"acknowledged": acknowledged, "commands_applied": applied}


@app.task(name="node.relay_outbox")
def relay_outbox(shop: str) -> dict[str, int]:
    """Deliver the shop's outbox to the hub (scheduled by beat every few seconds for each
    shop in MALLNET_SHOPS; safe to run twice at once: the hub keeps one effect)."""
    return asyncio.run(_relay(check_shop_slug(shop)))


async def _messages(shop: str, reports: bool) -> dict[str, int]:
    settings = get_settings()
    async with engine_scope(settings.node_db_url(shop)) as engine:
        # Most runs find nothing to do: they stop after one read, before the runtime's
        # start (a write transaction) would queue behind the shop's purchases.
        if not await messages.worth_a_run(engine, reports):
            return {"due": 0}
        runtime = await NodeRuntime.start(shop, engine, settings)
        if reports:
            return {"settled": await messages.poll_reports(runtime, settings)}
        return dataclasses.asdict(await messages.send_due(runtime, settings))


@app.task(name="node.send_messages")
def send_messages(shop: str) -> dict[str, int]:
    """Send the shop's messages that are due (scheduled by beat every few seconds; safe to
    run twice at once: each message is taken by one worker, and one a dead worker left is
    taken again only where the provider drops repeats)."""
    return asyncio.run(_messages(check_shop_slug(shop), reports=False))


@app.task(name="node.message_reports")
def message_reports(shop: str) -> dict[str, int]:
    """Ask the SMS provider what became of the shop's sent messages."""
    return asyncio.run(_messages(check_shop_slug(shop), reports=True))


async def _birthdays(shop: str) -> int:
    settings = get_settings()
    async with engine_scope(settings.node_db_url(shop)) as engine:
        runtime = await NodeRuntime.start(shop, engine, settings)
        return await birthdays.give_due(runtime)


@app.task(name="node.birthdays")
def give_birthday_gifts(shop: str) -> int:
    """Give today's birthday gifts of the shop's policy (scheduled by beat every hour for
    each shop; safe to run again and twice at once: one gift a member a year). Returns how
    many were given."""
    return asyncio.run(_birthdays(check_shop_slug(shop)))


async def _broadcast(shop: str, broadcast_id: str) -> dict[str, object]:
    settings = get_settings()
    async with engine_scope(settings.node_db_url(shop)) as engine:
        runtime = await NodeRuntime.start(shop, engine, settings)
        row = await broadcast.send(runtime, broadcast_id)
        return {"status": row.status, "queued": row.queued, "skipped": row.skipped_no_consent}


@app.task(name="node.send_broadcast")
def send_broadcast(shop: str, broadcast_id: str) -> dict[str, object]:
    """Queue a manager's message to the members of a list (``sendToMembers``), a chunk per
    transaction; beat's ``node.send_messages`` then sends them. Safe to run again, and
    twice at once: it resumes after the last chunk committed, and each member's message
    is keyed by the broadcast and the member."""
    return asyncio.run(_broadcast(check_shop_slug(shop), broadcast_id))


async def _resume_broadcasts(shop: str) -> int:
    settings = get_settings()
    async with engine_scope(settings.node_db_url(shop)) as engine:
        runtime = await NodeRuntime.start(shop, engine, settings)
        stalled = await broadcast.unfinished(runtime)
        for broadcast_id in stalled:
            await broadcast.send(runtime, broadcast_id)
        return len(stalled)


@app.task(name="node.resume_broadcasts")
def resume_broadcasts(shop: str) -> int:
    """Finish the broadcasts whose task was lost (the broker away at the click, a worker
    gone for good); meant for beat every few minutes. Returns how many it ran."""
    return asyncio.run(_resume_broadcasts(check_shop_slug(shop)))
