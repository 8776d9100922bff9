"""The mall's Telegram bot links a shopper's chat: from the app's one-time link, or by
signing up in the chat with her own contact; every node where she is a member keeps a copy
of the link, so its service messages reach the chat, until /stop. (The hub, on SQLite and
PostgreSQL, a real server; two nodes; the Bot API is a local fake that records what the bot
sends, and posts updates to the hub's webhook as Telegram does.)"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from hub.app import create_app as create_hub
from hub.db.models import InboxCommand, Shopper, TelegramLink, TelegramLinkCode, TelegramUpdate
from hub.services import registry, telegram_bot
from mallnet.config import Settings
from mallnet.db import create_engine
from mallnet.scopes import Scope
from shop_node.db.models import Message, TelegramChat
from shop_node.services import messages
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..conftest import in_transaction
from ..fakes.telegram import (
    BOT_USERNAME,
    SECRET_HEADER,
    TOKEN,
    FakeTelegram,
    blocked_update,
    contact_update,
    push_update,
    start_update,
    stop_update,
    text_update,
)
from ..live_server import LiveServer
from .test_shopper_consents import ALI, BOOKS, REDIRECT, SARA, SHOES, Mall

SECRET = "hook-secret-for-tests_0123456789"
SARA_CHAT, ALI_CHAT, STRANGER_CHAT = 7001, 7002, 7003
LINK = "mutation { linkTelegram { __typename ... on TelegramLinkOffer { link expiresAt }"
LINK += " ... on HubProblem { code } } }"


class BotMall(Mall):
    fake: FakeTelegram

    async def push(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        """Telegram posts ``update`` to the hub's webhook."""
        url = f"{self.hub_url}/hooks/telegram"
        return await asyncio.to_thread(push_update, url, secret, update)

    def said(self, chat: int) -> list[str]:
        return [m.text for m in self.fake.sent if m.chat_id == chat]

    async def link_code(self, token: str) -> str:
        offer = await self.app(token, LINK)
        assert offer["__typename"] == "TelegramLinkOffer", offer
        prefix = f"https://t.me/{BOT_USERNAME}?start="
        assert offer["link"].startswith(prefix)
        return str(offer["link"].removeprefix(prefix))

    async def links(self) -> dict[str, tuple[str, bool]]:
        """The hub's links: pseudonym → (chat, promotional)."""

        async def read(session: Any) -> dict[str, tuple[str, bool]]:
            rows = await session.scalars(select(TelegramLink))
            return {r.pseudonym: (r.chat_id, r.promotional) for r in rows}

        found: dict[str, tuple[str, bool]] = await self.hub(read)
        return found

    async def chat_at(self, shop: str, phone: str) -> str | None:
        member = await self.member(shop, phone)

        async def read(session: Any) -> str | None:
            chat: str | None = await session.scalar(
                select(TelegramChat.chat_id).where(TelegramChat.member_id == member.id)
            )
            return chat

        found: str | None = await self.nodes[shop].read(read)
        return found

    async def count(self, model: Any) -> int:
        async def read(session: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)))

        found: int = await self.hub(read)
        return found


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as bot_api:
        yield bot_api


@pytest.fixture
async def mall(
    network: tuple[Settings, dict[str, Any]], fake: FakeTelegram
) -> AsyncIterator[BotMall]:
    base, info = network
    settings = base.model_copy(
        update={
            "telegram_bot_token": TOKEN,
            "telegram_bot_username": BOT_USERNAME,
            "telegram_api_url": fake.api_url,
            "telegram_webhook_secret": SECRET,
        }
    )

    async def app_client(session: Any) -> Any:
        return await registry.create_app_client(
            session,
            kind="shopper_app",
            name="shopper app",
            scopes=[Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT],
            redirect_uris=[REDIRECT],
            public=True,
        )

    client = await in_transaction(settings.hub_db_url, app_client)
    nodes, engines = {}, []
    for slug in (BOOKS, SHOES):
        await prepare_node(settings, slug)
        engine = create_engine(settings.node_db_url(slug))
        engines.append(engine)
        nodes[slug] = await NodeRuntime.start(slug, engine, settings)
        # Connected to the hub: their Telegram messages go through it (nodes hold no token).
        creds = info["creds"][slug]
        await connect(nodes[slug], creds.client_id, creds.client_secret)
    try:
        with LiveServer(create_hub(settings), info["port"]):
            mall = BotMall(settings, network, nodes, client.client_id)
            mall.fake = fake
            yield mall
    finally:
        for engine in engines:
            await engine.dispose()


def _link_commands(commands: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [payload for kind, payload in commands if kind == "command.link_telegram"]


async def test_the_apps_link_links_her_chat_at_the_hub_and_at_each_of_her_shops(
    mall: BotMall,
) -> None:
    # Given Sara, a member at both shops (known to the hub), signed in to the app.
    for shop in (BOOKS, SHOES):
        await mall.enrol(shop, SARA, partner=False, promotional=False)
        await mall.relay(shop)
    sara = await mall.sign_in(SARA)

    # When she asks for a link, the hub keeps only the code's digest, for 15 minutes.
    before = dt.datetime.now(dt.UTC)
    offer = await mall.app(sara, LINK)
    code = await mall.link_code(sara)
    expires = dt.datetime.fromisoformat(offer["expiresAt"])
    assert dt.timedelta(minutes=14) < expires - before <= dt.timedelta(minutes=16)

    async def digests(session: Any) -> list[str]:
        return list(await session.scalars(select(TelegramLinkCode.code_digest)))

    stored = await mall.hub(digests)
    assert telegram_bot.code_digest(code) in stored
    assert code not in stored

    # And opens it in Telegram: the chat is linked, she is told, and both shops are told.
    opened = start_update(SARA_CHAT, code)
    assert (await mall.push(opened)).status_code == 200
    assert mall.said(SARA_CHAT) == [telegram_bot.LINKED]
    assert await mall.links() == {mall.who(SARA): (str(SARA_CHAT), False)}
    for shop in (BOOKS, SHOES):
        assert _link_commands(await mall.commands(shop)) == [
            {"pseudonym": mall.who(SARA), "chat_id": str(SARA_CHAT), "promotional": False}
        ]

    # Telegram delivers the same update again (our answer was lost): nothing happens twice.
    assert (await mall.push(opened)).status_code == 200
    assert len(mall.said(SARA_CHAT)) == 1
    assert len(_link_commands(await mall.commands(BOOKS))) == 1

    # The code is spent: opened again, from another chat, it links nothing.
    assert (await mall.push(start_update(STRANGER_CHAT, code))).status_code == 200
    assert mall.said(STRANGER_CHAT) == [telegram_bot.LINK_INVALID]
    assert await mall.links() == {mall.who(SARA): (str(SARA_CHAT), False)}

    # Then the bookshop's node keeps the chat, and her next purchase there reaches it too.
    assert await mall.pull(BOOKS) == 1
    assert await mall.chat_at(BOOKS, SARA) == str(SARA_CHAT)
    await mall.buy(BOOKS, "T-1", SARA)
    counts = await messages.send_due(mall.nodes[BOOKS], mall.settings)
    assert counts.sent == 2  # the SMS (to the outbox file) and the Telegram message
    [purchase] = mall.said(SARA_CHAT)[1:]
    assert BOOKS in purchase

    # When she sends /stop, the link goes at the hub and at both shops, and she is told.
    await mall.buy(BOOKS, "T-2", SARA)  # queued before the node hears of the /stop
    assert (await mall.push(stop_update(SARA_CHAT))).status_code == 200
    assert mall.said(SARA_CHAT)[-1] == telegram_bot.UNLINKED
    assert await mall.links() == {}
    assert _link_commands(await mall.commands(SHOES))[-1] == {
        "pseudonym": mall.who(SARA),
        "chat_id": None,
        "promotional": False,
    }
    assert await mall.pull(BOOKS) == 1
    assert await mall.chat_at(BOOKS, SARA) is None

    # And the message queued for the chat before it was unlinked is not sent.
    sent_before = len(mall.fake.sent)
    counts = await messages.send_due(mall.nodes[BOOKS], mall.settings)
    assert (counts.sent, counts.skipped) == (1, 1)  # the SMS goes; the Telegram one not
    assert len(mall.fake.sent) == sent_before

    async def telegram_rows(session: Any) -> list[tuple[str, str | None]]:
        rows = await session.execute(
            select(Message.status, Message.reason)
            .where(Message.medium == "telegram")
            .order_by(Message.id)
        )
        return [(status, reason) for status, reason in rows.all()]

    assert await mall.nodes[BOOKS].read(telegram_rows) == [
        ("delivered", None),
        ("skipped", "the Telegram chat was unlinked"),
    ]

    # The shoe shop applies both commands in order: no chat is left there either.
    assert await mall.pull(SHOES) == 2
    assert await mall.chat_at(SHOES, SARA) is None


async def test_a_wrong_secret_changes_nothing_and_a_link_works_once_in_its_time(
    mall: BotMall,
) -> None:
    await mall.enrol(BOOKS, SARA, partner=False, promotional=False)
    await mall.relay(BOOKS)
    sara = await mall.sign_in(SARA)
    code = await mall.link_code(sara)

    # Without the secret, or with a wrong one, the hook refuses and nothing changes.
    for secret in (None, "not-the-secret"):
        answer = await mall.push(start_update(SARA_CHAT, code), secret=secret)
        assert answer.status_code == 401
    assert mall.fake.sent == []
    assert await mall.links() == {}
    assert await mall.count(TelegramUpdate) == 0
    assert _link_commands(await mall.commands(BOOKS)) == []

    # A hub with no bot configured has no such hook, and gives the app no link.
    unconfigured = mall.settings.model_copy(
        update={
            "telegram_webhook_secret": None,
            "telegram_bot_token": None,
            "telegram_bot_username": None,
        }
    )
    with TestClient(create_hub(unconfigured)) as hub:
        refused = hub.post(
            "/hooks/telegram", json=start_update(SARA_CHAT, code), headers={SECRET_HEADER: SECRET}
        )
        assert refused.status_code == 404
        asked = hub.post(
            "/graphql", json={"query": LINK}, headers={"Authorization": f"Bearer {sara}"}
        ).json()
        assert asked == {
            "data": {
                "linkTelegram": {
                    "__typename": "TelegramNotConfigured",
                    "code": "TELEGRAM_NOT_CONFIGURED",
                }
            }
        }
    assert await mall.links() == {}

    # A link opened after its 15 minutes links nothing.
    async def expire(session: Any) -> None:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await session.execute(update(TelegramLinkCode).values(expires_at=past))

    await mall.hub(expire)
    assert (await mall.push(start_update(SARA_CHAT, code))).status_code == 200
    assert mall.said(SARA_CHAT) == [telegram_bot.LINK_INVALID]
    assert await mall.links() == {}

    # A new link works, once; opened again (a second tap), it links nothing more.
    code = await mall.link_code(sara)
    await mall.push(start_update(SARA_CHAT, code))
    await mall.push(start_update(SARA_CHAT, code))
    assert mall.said(SARA_CHAT)[1:] == [telegram_bot.LINKED, telegram_bot.LINK_INVALID]
    assert await mall.links() == {mall.who(SARA): (str(SARA_CHAT), False)}
    assert len(_link_commands(await mall.commands(BOOKS))) == 1


async def test_she_signs_up_in_the_chat_with_her_own_contact(mall: BotMall) -> None:
    # Given Sara, a member at the bookshop who never used the app (the hub has no phone).
    await mall.enrol(BOOKS, SARA, partner=False, promotional=False)
    await mall.relay(BOOKS)

    async def shopper(session: Any, phone: str) -> Shopper | None:
        return await session.get(Shopper, mall.who(phone))

    assert (await mall.hub(lambda s: shopper(s, SARA))).phone is None

    # When she starts the bot, it asks for her phone with the contact button.
    await mall.push(start_update(SARA_CHAT))
    [ask] = mall.fake.sent
    assert ask.text == telegram_bot.ASK_CONTACT
    assert ask.reply_markup is not None
    [[button]] = ask.reply_markup["keyboard"]
    assert button["request_contact"] is True

    # And shares her own contact: she is a shopper with her phone kept, her chat is linked
    # to her club, the bookshop is told, and she is asked about offers.
    await mall.push(contact_update(SARA_CHAT, "989121234567"))
    found = await mall.hub(lambda s: shopper(s, SARA))
    assert (found.phone, found.last_sign_in_at is not None) == (SARA, True)
    assert await mall.links() == {mall.who(SARA): (str(SARA_CHAT), False)}
    assert _link_commands(await mall.commands(BOOKS)) == [
        {"pseudonym": mall.who(SARA), "chat_id": str(SARA_CHAT), "promotional": False}
    ]
    assert mall.said(SARA_CHAT)[-1] == telegram_bot.SIGNED_UP
    assert "بله/YES" in telegram_bot.SIGNED_UP
    assert mall.fake.sent[-1].reply_markup == {"remove_keyboard": True}

    # Sharing the same contact again (ten times) tells the clubs nothing new.
    for update_id in range(10):
        update = contact_update(SARA_CHAT, "989121234567")
        await mall.push({**update, "update_id": 90_000 + update_id})
    assert len(_link_commands(await mall.commands(BOOKS))) == 1

    # When she answers «بله», offers may come to the chat; something else gets the help.
    await mall.push(text_update(SARA_CHAT, "بله"))
    assert await mall.links() == {mall.who(SARA): (str(SARA_CHAT), True)}
    assert mall.said(SARA_CHAT)[-1] == telegram_bot.OFFERS_ON
    await mall.push(text_update(SARA_CHAT, "what?"))
    assert mall.said(SARA_CHAT)[-1] == telegram_bot.HELP
    await mall.pull(BOOKS)
    assert await mall.chat_at(BOOKS, SARA) == str(SARA_CHAT)

    # Ali, a member nowhere yet, signs up too: a new shopper, no shop to tell.
    await mall.push(contact_update(ALI_CHAT, "+989351112233"))
    assert (await mall.hub(lambda s: shopper(s, ALI))).phone == ALI
    assert mall.who(ALI) in await mall.links()
    assert _link_commands(await mall.commands(SHOES)) == []

    # When Sara blocks the bot, her link goes everywhere, and the bot says nothing.
    sent = len(mall.fake.sent)
    await mall.push(blocked_update(SARA_CHAT))
    assert mall.who(SARA) not in await mall.links()
    assert len(mall.fake.sent) == sent
    assert _link_commands(await mall.commands(BOOKS))[-1]["chat_id"] is None
    await mall.pull(BOOKS)
    assert await mall.chat_at(BOOKS, SARA) is None

    # A chat linked by someone else moves: Sara signs up again from the chat Ali linked.
    await mall.push(contact_update(ALI_CHAT, "989121234567"))
    assert await mall.links() == {mall.who(SARA): (str(ALI_CHAT), False)}
    assert _link_commands(await mall.commands(BOOKS))[-1]["chat_id"] == str(ALI_CHAT)


async def test_someone_elses_contact_signs_nobody_up(mall: BotMall) -> None:
    # Given Sara, a member at the bookshop; a stranger knows her number.
    await mall.enrol(BOOKS, SARA, partner=False, promotional=False)
    await mall.relay(BOOKS)
    shoppers = await mall.count(Shopper)

    # When the stranger sends her contact card (hers as a Telegram user, or a phonebook
    # entry), or Ali's from the attachment menu, the bot refuses each and changes nothing.
    for card in (
        contact_update(STRANGER_CHAT, "989121234567", own=False, contact_user_id=555),
        contact_update(STRANGER_CHAT, "989121234567", own=False),
        contact_update(STRANGER_CHAT, "+989351112233", own=False, contact_user_id=556),
    ):
        assert (await mall.push(card)).status_code == 200
    assert mall.said(STRANGER_CHAT) == [telegram_bot.NOT_OWN_CONTACT] * 3
    assert await mall.links() == {}
    assert await mall.count(Shopper) == shoppers
    assert _link_commands(await mall.commands(BOOKS)) == []

    async def sara(session: Any) -> Shopper | None:
        return await session.get(Shopper, mall.who(SARA))

    assert (await mall.hub(sara)).phone is None

    async def queued(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(InboxCommand)))

    assert await mall.hub(queued) == 0
    # Her own contact that is no Iranian mobile is refused too.
    await mall.push(contact_update(STRANGER_CHAT, "+441234567890"))
    assert mall.said(STRANGER_CHAT)[-1] == telegram_bot.NOT_A_MOBILE
    assert await mall.links() == {}


async def test_a_club_hears_of_her_chat_only_when_she_links_it(mall: BotMall) -> None:
    """A club that enrols her after she linked her chat is not told of it by the hub on
    its own (staff can enrol any phone: that would hand a node a phone's Telegram id,
    review finding F4); her next link from the app tells every club she belongs to."""
    await mall.enrol(BOOKS, SARA, partner=False, promotional=False)
    await mall.relay(BOOKS)
    sara = await mall.sign_in(SARA)
    await mall.app(sara, LINK)
    assert (await mall.push(start_update(SARA_CHAT, await mall.link_code(sara)))).status_code == 200
    await mall.enrol(SHOES, SARA, partner=False, promotional=False)
    await mall.relay(SHOES)
    assert _link_commands(await mall.commands(SHOES)) == []
    # She links again from the app, in the same chat: now the shoe shop hears of it.
    await mall.app(sara, LINK)
    assert (await mall.push(start_update(SARA_CHAT, await mall.link_code(sara)))).status_code == 200
    assert _link_commands(await mall.commands(SHOES)) == [
        {"pseudonym": mall.who(SARA), "chat_id": str(SARA_CHAT), "promotional": False}
    ]
    assert await mall.pull(SHOES) == 1
    assert await mall.chat_at(SHOES, SARA) == str(SARA_CHAT)

    # Her «بله» to offers reaches both clubs; only then do their offers go to the chat.
    await mall.push(text_update(SARA_CHAT, "بله"))
    assert _link_commands(await mall.commands(BOOKS))[-1]["promotional"] is True
    assert _link_commands(await mall.commands(SHOES))[-1]["promotional"] is True


async def test_a_chat_flooding_the_bot_is_dropped_before_any_work(mall: BotMall) -> None:
    """A chat sending updates faster than a person types gets no more answers and costs
    the hub no database work (review finding F12)."""
    for update_id in range(25):
        update = text_update(STRANGER_CHAT, "hello")
        assert (await mall.push({**update, "update_id": 70_000 + update_id})).status_code == 200
    assert len(mall.said(STRANGER_CHAT)) == 20
