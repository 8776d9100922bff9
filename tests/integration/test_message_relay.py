"""A node sends on the mall's account only through the hub, and the hub sends only what the
node may send: to its own members, with their consent, outside the quiet hours, inside the
shop's budget for the day, once per key. (The hub on SQLite and PostgreSQL, a real server;
two nodes; Kavenegar is a local fake that only the hub holds the mall's key for.)"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select

from federation.client import HubConnection, HubRefused
from hub.app import create_app as create_hub
from hub.db.models import RelayedMessage, TelegramLink
from mallnet.config import Settings
from mallnet.db import create_engine
from mallnet.jalali import TEHRAN
from mallnet.messaging import optout_link
from mallnet.messaging.channels import Outgoing
from mallnet.secrets_store import network_key, pseudonym
from shop_node.db.models import Message
from shop_node.domain.earning import Line
from shop_node.services import messages
from shop_node.services.bootstrap import prepare_node
from shop_node.services.members import MemberInput, enrol_member
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import connect, relay_all
from shop_node.services.runtime import NodeRuntime

from ..conftest import in_transaction
from ..fakes.kavenegar import API_KEY, PROMOTIONAL_LINE, SERVICE_LINE, FakeKavenegar
from ..live_server import LiveServer
from .conftest import _connection

BOOKS, SHOES = "ketab-sara", "kafsh-arya"
SARA, ALI, REZA = "+989121234567", "+989351112233", "+989191234000"


@pytest.fixture
def kavenegar() -> Iterator[FakeKavenegar]:
    with FakeKavenegar() as fake:
        yield fake


class RelayMall:
    def __init__(
        self, hub: Settings, node: Settings, network: Any, nodes: dict[str, NodeRuntime]
    ) -> None:
        self.hub_settings, self.node_settings = hub, node
        self.network, self.nodes = network, nodes

    def hub(self, shop: str) -> HubConnection:
        """The shop's node's own connection to the hub (its client credentials)."""
        return _connection(self.network, shop)

    async def enrol(self, shop: str, phone: str, promotional: bool = False) -> None:
        data = MemberInput(phone=phone, consent_promotional=promotional)
        await enrol_member(self.nodes[shop], data, "staff")
        await relay_all(self.nodes[shop], self.hub(shop))

    async def ask(
        self, shop: str, key: str, to: str, line: str = "service", medium: str = "sms"
    ) -> dict[str, Any]:
        """What the shop's node would send: a purchase on the service line, a campaign on
        the promotional line ending with her opt-out link."""
        text, kind = f"«{shop}» {key}", "purchase"
        if line == "promotional":
            key_ = network_key(self.hub_settings)
            who = pseudonym(key_, to) if medium == "sms" else "0" * 64
            link = optout_link.url(self.hub_settings.public_hub_url, key_, shop, who)
            text, kind = f"{text}\n{link}", "campaign"
        message = {"key": key, "kind": kind, "medium": medium, "line": line}
        return await self.hub(shop).relay_message(message | {"to": to, "text": text})

    async def relayed(self) -> list[RelayedMessage]:
        async def read(session: Any) -> list[RelayedMessage]:
            return list(await session.scalars(select(RelayedMessage).order_by(RelayedMessage.id)))

        found: list[RelayedMessage] = await in_transaction(self.hub_settings.hub_db_url, read)
        return found


@asynccontextmanager
async def relay_mall(
    network: tuple[Settings, dict[str, Any]], fake: FakeKavenegar, **hub_settings: Any
) -> AsyncIterator[RelayMall]:
    base, info = network
    sms = {
        "sms_provider": "kavenegar",
        "kavenegar_url": fake.url,
        "sms_service_line": SERVICE_LINE,
        "sms_promotional_line": PROMOTIONAL_LINE,
        "message_timeout_s": 5.0,
    }
    # Only the hub holds the mall's key.
    hub = base.model_copy(update=sms | {"kavenegar_api_key": API_KEY} | hub_settings)
    node = base.model_copy(update=sms)
    nodes, engines = {}, []
    for slug in (BOOKS, SHOES):
        await prepare_node(node, slug)
        engine = create_engine(node.node_db_url(slug))
        engines.append(engine)
        nodes[slug] = await NodeRuntime.start(slug, engine, node)
        creds = info["creds"][slug]
        await connect(nodes[slug], creds.client_id, creds.client_secret)
    try:
        with LiveServer(create_hub(hub), info["port"]):
            yield RelayMall(hub, node, network, nodes)
    finally:
        for engine in engines:
            await engine.dispose()


def node_rows(mall: RelayMall, shop: str) -> Any:
    async def read(session: Any) -> list[Message]:
        return list(await session.scalars(select(Message).order_by(Message.id)))

    return mall.nodes[shop].read(read)


async def test_a_nodes_messages_go_on_the_malls_account_through_the_hub(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    async with relay_mall(network, kavenegar) as mall:
        # Sara joins at the bookshop's till with her first purchase; the hub has not heard
        # of her yet: the node hands over its events before its messages.
        purchase = PurchaseInput("R-1", 600_000, [Line("general", 600_000)], SARA)
        await record_purchase(mall.nodes[BOOKS], purchase, "pos")
        counts = await messages.send_due(mall.nodes[BOOKS], mall.node_settings)
        assert (counts.sent, counts.retried, counts.failed) == (2, 0, 0)

        rows = await node_rows(mall, BOOKS)
        assert [(m.kind, m.status, m.provider) for m in rows] == [
            ("welcome", "sent", "mall-sms"),
            ("purchase", "sent", "mall-sms"),
        ]
        # On the mall's service line, each under the localid the node's own key names.
        assert [(s.receptor, s.sender) for s in kavenegar.messages] == [
            ("09121234567", SERVICE_LINE)
        ] * 2
        localids = [
            str(Outgoing(BOOKS, m.idempotency_key, SARA, m.text, "service", m.kind).provider_key())
            for m in rows
        ]
        assert [s.localid for s in kavenegar.messages] == localids
        assert [m.provider_id for m in rows] == [s.messageid for s in kavenegar.messages]
        # The provider's price, as Kavenegar gave it to the hub.
        assert [m.cost_rial for m in rows] == [s.cost_rial for s in kavenegar.messages]
        relayed = await mall.relayed()
        assert [(r.shop, r.status, r.provider) for r in relayed] == [
            (BOOKS, "sent", "kavenegar")
        ] * 2

        # The delivery reports come back through the hub too, which marks its own rows.
        assert await messages.poll_reports(mall.nodes[BOOKS], mall.node_settings) == 2
        assert [m.status for m in await node_rows(mall, BOOKS)] == ["delivered", "delivered"]
        assert [r.delivered for r in await mall.relayed()] == [True, True]

        # Asked again with the same key (a worker that died before it wrote the answer):
        # the first answer, and no second SMS.
        first = rows[0]
        again = {"key": first.idempotency_key, "kind": first.kind, "medium": "sms"}
        again |= {"line": "service", "to": SARA, "text": first.text}
        answer = await mall.hub(BOOKS).relay_message(again)
        assert (answer["__typename"], answer["providerId"]) == ("MessageRelayed", first.provider_id)
        assert len(kavenegar.messages) == 2
        # The same key with another text is refused, and sends nothing.
        with pytest.raises(HubRefused) as refused:
            await mall.hub(BOOKS).relay_message(again | {"text": "something else"})
        assert refused.value.code == "IDEMPOTENCY_CONFLICT"
        # Another shop asking for the bookshop's reports hears of none of them.
        assert await mall.hub(SHOES).relayed_statuses([r.provider_id or "" for r in rows]) == []
        assert len(kavenegar.messages) == 2


async def test_a_node_holding_the_malls_key_does_not_use_it(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    """A node given the mall's key (an old configuration) still sends through the hub: while
    the hub refuses its credentials, nothing reaches Kavenegar at all."""
    async with relay_mall(network, kavenegar) as mall:
        settings = mall.node_settings.model_copy(update={"kavenegar_api_key": API_KEY})
        await connect(mall.nodes[BOOKS], "no-such-client", "no-such-secret")
        purchase = PurchaseInput("R-1", 600_000, [Line("general", 600_000)], SARA)
        await record_purchase(mall.nodes[BOOKS], purchase, "pos")
        counts = await messages.send_due(mall.nodes[BOOKS], settings)
        assert (counts.sent, counts.retried) == (0, 2)
        assert kavenegar.calls == []
        rows = await node_rows(mall, BOOKS)
        assert [m.status for m in rows] == ["queued", "queued"]
        assert all("the hub did not take it" in (m.reason or "") for m in rows)
        # And in production such a node refuses to start.
        production = settings.model_copy(update={"environment": "production"})
        assert any("MALLNET_KAVENEGAR_API_KEY" in p for p in production.production_problems("node"))
        assert not any("KAVENEGAR" in p for p in production.production_problems("hub"))


async def test_the_hub_sends_nothing_a_node_may_not_send(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    async with relay_mall(network, kavenegar) as mall:
        await mall.enrol(SHOES, SARA, promotional=True)
        await mall.enrol(BOOKS, ALI, promotional=False)

        async def refusal(answer: dict[str, Any]) -> tuple[str, bool]:
            assert answer["__typename"] == "MessageNotRelayed", answer
            return answer["refusal"], answer["temporary"]

        # Sara is the shoe shop's member, not the bookshop's; Reza is nobody's.
        assert await refusal(await mall.ask(BOOKS, "k-1", SARA)) == ("NOT_A_MEMBER", True)
        assert await refusal(await mall.ask(BOOKS, "k-2", REZA)) == ("NOT_A_MEMBER", True)
        # Ali is the bookshop's, without consent to its promotions.
        ali = await mall.ask(BOOKS, "k-3", ALI, line="promotional")
        assert await refusal(ali) == ("NO_CONSENT", False)
        # A chat nobody linked to the mall's bot (answered as any non-member's).
        chat = await mall.ask(BOOKS, "k-4", "7001", medium="telegram")
        assert await refusal(chat) == ("NOT_A_MEMBER", True)
        # A campaign is not a service message, whatever line the node names.
        campaign = {"key": "k-7", "kind": "campaign", "medium": "sms", "line": "service"}
        answer = await mall.hub(BOOKS).relay_message(campaign | {"to": ALI, "text": "«x» 50%"})
        assert await refusal(answer) == ("NOT_A_SERVICE_MESSAGE", False)
        # Malformed: named at the field, nothing written.
        for field, ask in (("to", {"to": "12345"}), ("medium", {"medium": "fax"})):
            message = {"key": "k-5", "kind": "campaign", "medium": "sms", "line": "service"}
            with pytest.raises(HubRefused) as bad:
                await mall.hub(BOOKS).relay_message(message | {"to": ALI, "text": "x"} | ask)
            assert bad.value.code == "INVALID_INPUT", field
        assert kavenegar.calls == []
        assert await mall.relayed() == []

        # What she may get goes: a service message to the bookshop's own member.
        sent = await mall.ask(BOOKS, "k-6", ALI)
        assert sent["__typename"] == "MessageRelayed"
        assert [s.receptor for s in kavenegar.messages] == ["09351112233"]


async def test_a_shops_day_has_a_budget_that_holds_under_concurrent_asks(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    budget = {"relay_sms_parts_per_day": 3, "relay_per_person_per_day": 2}
    async with relay_mall(network, kavenegar, **budget) as mall:
        for phone in (SARA, ALI, REZA):
            await mall.enrol(BOOKS, phone)
        # Two each to three members at once: 6 asks of one part against 3 parts a day.
        asks = [mall.ask(BOOKS, f"b-{i}", phone) for i, phone in enumerate((SARA, ALI, REZA) * 2)]
        answers = await asyncio.gather(*asks)
        kinds = sorted(a["__typename"] for a in answers)
        assert kinds == ["MessageNotRelayed"] * 3 + ["MessageRelayed"] * 3
        assert {a["refusal"] for a in answers if a["__typename"] == "MessageNotRelayed"} == {
            "BUDGET_SPENT"
        }
        assert len(kavenegar.messages) == 3
        # The other shop's day is its own.
        await mall.enrol(SHOES, SARA)
        assert (await mall.ask(SHOES, "s-1", SARA))["__typename"] == "MessageRelayed"


async def test_no_one_person_gets_more_than_the_days_share_from_a_shop(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    async with relay_mall(network, kavenegar, relay_per_person_per_day=2) as mall:
        await mall.enrol(BOOKS, ALI)
        answers = [await mall.ask(BOOKS, f"p-{i}", ALI) for i in range(3)]
        assert [a["__typename"] for a in answers[:2]] == ["MessageRelayed"] * 2
        assert (answers[2]["refusal"], answers[2]["temporary"]) == ("RECIPIENT_CAP", True)
        assert len(kavenegar.messages) == 2


async def test_promotions_wait_out_the_malls_quiet_hours(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    # Quiet from an hour ago to an hour from now, on Tehran's clock.
    now = dt.datetime.now(TEHRAN)
    window = f"{now - dt.timedelta(hours=1):%H:%M}-{now + dt.timedelta(hours=1):%H:%M}"
    async with relay_mall(network, kavenegar, quiet_hours=window) as mall:
        await mall.enrol(BOOKS, ALI, promotional=True)
        held = await mall.ask(BOOKS, "q-1", ALI, line="promotional")
        assert (held["refusal"], held["temporary"]) == ("QUIET_HOURS", True)
        assert 0 < held["retryAfterS"] <= 3600 + 61
        # A service message is never held.
        assert (await mall.ask(BOOKS, "q-2", ALI))["__typename"] == "MessageRelayed"
        assert [s.sender for s in kavenegar.messages] == [SERVICE_LINE]


async def test_a_shops_telegram_messages_have_a_day_too(
    network: tuple[Settings, dict[str, Any]], kavenegar: FakeKavenegar
) -> None:
    """The bot's flood limits are the whole mall's: a shop's day of Telegram is bounded."""
    async with relay_mall(network, kavenegar, relay_telegram_per_day=1) as mall:
        for phone, chat in ((SARA, "7001"), (ALI, "7002")):
            await mall.enrol(BOOKS, phone)
            who = pseudonym(network_key(mall.hub_settings), phone)

            async def link(session: Any, who: str = who, chat: str = chat) -> None:
                now = dt.datetime.now(dt.UTC)
                session.add(TelegramLink(pseudonym=who, chat_id=chat, linked_at=now))

            await in_transaction(mall.hub_settings.hub_db_url, link)
        first = await mall.ask(BOOKS, "t-1", "7001", medium="telegram")
        assert first["__typename"] == "MessageRelayed"
        second = await mall.ask(BOOKS, "t-2", "7002", medium="telegram")
        assert (second["refusal"], second["temporary"]) == ("BUDGET_SPENT", True)
        # SMS are another budget.
        assert (await mall.ask(BOOKS, "s-1", ALI))["__typename"] == "MessageRelayed"
