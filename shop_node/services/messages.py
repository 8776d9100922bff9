"""The shop's messages after the commit: sending what is due, and delivery reports.

The rows are queued by ``notify`` inside the transactions of the events they tell of; beat
runs :func:`send_due` every few seconds for each shop. Just before a message goes out, the
member's consents are read again: an opt-out (a reply «لغو», the app, the dashboard) that
arrived while the message waited stops it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from federation.client import HubConnection
from mallnet.config import Settings
from mallnet.db import read_session_factory, utcnow
from mallnet.messaging.dispatch import Dispatcher, RunCounts, SendRate
from mallnet.messaging.log import MessageColumns
from mallnet.messaging.quiet import DEFAULT_QUIET_HOURS
from mallnet.messaging.setup import send_rate, shop_channels
from shop_node.db.models import Member, Message, TelegramChat
from shop_node.services.mall_channel import MallChannel
from shop_node.services.relay import hub_connection, relay_once
from shop_node.services.runtime import NodeRuntime


async def refusals(session: AsyncSession, rows: Sequence[MessageColumns]) -> dict[int, str]:
    """Why each of ``rows`` may no longer go out (its id → reason): the member withdrew
    the consent it needs, or unlinked the Telegram chat it is addressed to."""
    member_ids = {int(r.subject) for r in rows if r.subject and r.subject.isdigit()}
    if not member_ids:
        return {}
    members = {
        m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(member_ids)))
    }
    chats = {
        c.member_id: c
        for c in await session.scalars(
            select(TelegramChat).where(TelegramChat.member_id.in_(member_ids))
        )
    }
    refused: dict[int, str] = {}
    for row in rows:
        if not (row.subject and row.subject.isdigit()):
            continue
        member = members.get(int(row.subject))
        if member is None:
            refused[row.id] = "no longer a member"
        elif row.medium == "telegram" and (why := _chat_refusal(row, chats.get(member.id))):
            refused[row.id] = why
        elif row.medium == "sms" and not member.consent_sms:
            refused[row.id] = "the member withdrew SMS consent"
        elif row.line == "promotional" and not member.consent_promotional:
            refused[row.id] = "the member withdrew promotional consent"
    return refused


def _chat_refusal(row: MessageColumns, chat: TelegramChat | None) -> str | None:
    if chat is None or chat.chat_id != row.recipient:
        return "the Telegram chat was unlinked"
    if row.line == "promotional" and not chat.promotional:
        return "the member turned offers off in the Telegram chat"
    return None


@asynccontextmanager
async def dispatcher(
    runtime: NodeRuntime, settings: Settings, hub: HubConnection | None = None
) -> AsyncIterator[Dispatcher]:
    """The shop's dispatcher over its channels (closed on exit); what goes on the mall's
    account goes through ``hub``."""
    rate = send_rate(settings)
    try:
        async with shop_channels(settings, runtime.shop, lambda m: MallChannel(m, hub)) as channels:
            yield Dispatcher(
                sessions=runtime.sessions,
                model=Message,
                origin=runtime.shop,
                channels=channels,
                quiet=runtime.quiet,
                rate=rate,
                clock=runtime.clock,
                consent=refusals,
            )
    finally:
        await rate.aclose()


async def send_due(runtime: NodeRuntime, settings: Settings) -> RunCounts:
    hub = await hub_connection(runtime, settings.public_hub_url)
    async with dispatcher(runtime, settings, hub) as sending:
        if hub is not None and any(isinstance(c, MallChannel) for c in sending.channels.values()):
            # The events first: the hub sends only to members it knows of, and a welcome
            # is queued in the same transaction as the enrolment event telling of her. (A
            # hub that does not answer is reported by the messages themselves.)
            await relay_once(runtime, hub)
        return await sending.run_once()


async def poll_reports(runtime: NodeRuntime, settings: Settings) -> int:
    hub = await hub_connection(runtime, settings.public_hub_url)
    async with dispatcher(runtime, settings, hub) as sending:
        return await sending.poll_reports()


async def worth_a_run(engine: AsyncEngine, reports: bool) -> bool:
    """Whether a message is due (or, for ``reports``, waits for its delivery report)."""
    probe = Dispatcher(
        sessions=read_session_factory(engine),
        model=Message,
        origin="",
        channels={},
        quiet=DEFAULT_QUIET_HOURS,
        rate=SendRate({}),
        clock=utcnow,
    )
    return await (probe.anything_to_ask() if reports else probe.anything_due())
