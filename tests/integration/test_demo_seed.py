"""The demo's seeded story: every shop gets its club, and seeding again changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from mallnet.cli.demo.node_seed import POLICIES, seed_demo_club
from mallnet.config import Settings
from mallnet.db import create_engine, utcnow
from mallnet.jalali import tehran_date
from shop_node.db.models import (
    LedgerTransaction,
    Member,
    Message,
    PolicyVersion,
    Purchase,
    TelegramChat,
)
from shop_node.services.bootstrap import prepare_node
from shop_node.services.ledger import verify_balances
from shop_node.services.runtime import NodeRuntime


async def _counts(runtime: NodeRuntime) -> dict[str, Any]:
    async def read(session: Any) -> dict[str, Any]:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Member, Purchase, LedgerTransaction, PolicyVersion, Message, TelegramChat)
        }

    return await runtime.read(read)


async def test_each_demo_shop_is_seeded_once(settings: Settings) -> None:
    for shop in POLICIES:
        await prepare_node(settings, shop)
        engine = create_engine(settings.node_db_url(shop))
        try:
            runtime = await NodeRuntime.start(shop, engine, settings)
            assert await seed_demo_club(runtime, shop) > 0
            first = await _counts(runtime)
            assert first["purchases"] > 0
            assert first["policy_versions"] == 2  # the default, then the shop's own
            await seed_demo_club(runtime, shop)
            assert await _counts(runtime) == first
            assert await runtime.read(verify_balances) == []
        finally:
            await engine.dispose()


async def test_the_demo_tells_its_story_in_messages(settings: Settings) -> None:
    """Sara's purchases reach her by SMS and in her Telegram chat; the bookshop's birthday
    gift goes to Nazanin once; the shoe shop's send to its list skips who did not consent."""
    from mallnet.cli.demo.messaging_seed import NAZANIN, SARA_CHAT, yalda_send
    from shop_node.services import birthdays, messages

    async def kinds(runtime: NodeRuntime) -> list[tuple[str, str, str]]:
        async def read(session: Any) -> list[tuple[str, str, str]]:
            rows = await session.execute(
                select(Message.kind, Message.medium, Message.recipient).order_by(Message.id)
            )
            return [tuple(row) for row in rows.all()]

        return await runtime.read(read)

    for shop in ("ketab-sara", "kafsh-arya"):
        await prepare_node(settings, shop)
    books = create_engine(settings.node_db_url("ketab-sara"))
    shoes = create_engine(settings.node_db_url("kafsh-arya"))
    try:
        runtime = await NodeRuntime.start("ketab-sara", books, settings)
        # At noon in Tehran: the birthday job does not wait for the quiet hours to end.
        noon = dt.datetime.combine(tehran_date(utcnow()), dt.time(8, 30), tzinfo=dt.UTC)
        runtime.clock = lambda: noon
        await seed_demo_club(runtime, "ketab-sara")
        sent = await kinds(runtime)
        assert ("purchase", "telegram", SARA_CHAT) in sent
        assert ("purchase", "sms", "+989121234567") in sent
        assert await birthdays.give_due(runtime) == 1
        assert await birthdays.give_due(runtime) == 0
        gifts = [k for k in await kinds(runtime) if k[0] == "birthday"]
        assert gifts == [("birthday", "sms", "+98" + NAZANIN[1:])]
        assert (await messages.send_due(runtime, settings)).sent > 0

        runtime = await NodeRuntime.start("kafsh-arya", shoes, settings)
        runtime.clock = lambda: noon
        await seed_demo_club(runtime, "kafsh-arya")
        told = await yalda_send(runtime)
        assert "queued" in told
        campaign = [k for k in await kinds(runtime) if k[0] == "campaign"]
        # Sara and Ali consented to promotional messages at the till; Reza did not.
        assert {k[2] for k in campaign if k[1] == "sms"} == {"+989121234567", "+989351112233"}
        assert await yalda_send(runtime) == told  # the same click: nothing sent twice
    finally:
        await books.dispose()
        await shoes.dispose()
