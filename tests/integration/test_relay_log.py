"""What each shop sent on the mall's account, in the mall console, over HTTP, on SQLite and
PostgreSQL: a mall admin's token reads the hub's relayed messages (newest first, a page at
a time, by shop and status) and each shop's totals over its last Tehran days; phones are
masked and no pseudonym or chat id is shown; a shop's node, a shopper and mall reporting
are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app as create_hub
from hub.db.models import RelayedMessage
from hub.services import registry
from mallnet.cli.sdl import operation_document
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.jalali import tehran_date
from mallnet.scopes import Scope

from .test_hub_message_log import _client_token, _shopper_token

BOOKS, SHOES = "ketab-sara", "kafsh-arya"
SARA, ALI = "+989121234567", "+989351112233"
CHAT = "734519902"
# Above GraphQL Int's 2^31-1: a sum the Rial scalar must carry whole.
BIG_COST = 3_000_000_000
LOG = operation_document("hub", "RelayedMessageLog")
TOTALS = operation_document("hub", "RelayedMessageTotals")

# (shop, days ago, medium, recipient, parts, status, delivered, cost, reason), oldest first.
ROWS: list[tuple[str, int, str, str, int, str, bool, int | None, str | None]] = [
    (BOOKS, 10, "sms", SARA, 1, "sent", False, 1_200, None),
    (SHOES, 5, "sms", ALI, 2, "sent", False, BIG_COST, None),
    (SHOES, 3, "sms", ALI, 1, "unknown", False, None, None),
    (BOOKS, 0, "sms", SARA, 2, "sent", False, 2_400, None),
    (BOOKS, 0, "telegram", CHAT, 0, "sent", True, None, None),
    (BOOKS, 0, "sms", ALI, 1, "failed", False, None, "418: not enough credit"),
    (SHOES, 0, "sms", SARA, 3, "sent", False, 3_600, None),
]


async def _relayed(sessions: async_sessionmaker[AsyncSession]) -> None:
    """What the hub relayed for the two shops over the last ten days, as
    ``hub.services.message_relay`` writes it."""
    now = utcnow()
    async with sessions() as session, session.begin():
        for n, (shop, ago, medium, to, parts, status, delivered, cost, reason) in enumerate(ROWS):
            at = now - dt.timedelta(days=ago, seconds=len(ROWS) - n)
            session.add(
                RelayedMessage(
                    shop=shop,
                    key=f"msg-{n}",
                    digest="0" * 64,
                    kind="purchase" if medium == "sms" else "welcome",
                    medium=medium,
                    line="service",
                    recipient=to,
                    pseudonym=f"pseudonym-of-{to}",
                    parts=parts,
                    tehran_day=tehran_date(at),
                    status=status,
                    attempts=1,
                    reason=reason,
                    provider=None if status == "failed" else "kavenegar",
                    provider_id=None if status == "failed" else f"9{n}",
                    cost_rial=cost,
                    delivered=delivered,
                    created_at=at,
                    sent_at=at if status == "sent" else None,
                )
            )


@dataclass
class Hub:
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, str]

    async def ask(self, who: str, document: str, **variables: Any) -> dict[str, Any]:
        name = "RelayedMessageLog" if document is LOG else "RelayedMessageTotals"
        answer = await self.client.post(
            "/graphql",
            json={"query": document, "operationName": name, "variables": variables},
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def log(self, **variables: Any) -> dict[str, Any]:
        body = await self.ask("admin", LOG, **variables)
        assert "errors" not in body, body
        page: dict[str, Any] = body["data"]["relayedMessages"]
        return page

    async def totals(self, days: int) -> dict[str, Any]:
        body = await self.ask("admin", TOTALS, days=days)
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["relayedMessageTotals"]
        return found

    async def ids(self, **where: Any) -> list[int]:
        async with self.sessions() as session:
            query = select(RelayedMessage.id).filter_by(**where).order_by(RelayedMessage.id.desc())
            return list(await session.scalars(query))


@pytest.fixture
async def hub(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[Hub]:
    settings, info = network
    async with engine_scope(settings.hub_db_url) as engine:
        sessions = session_factory(engine)

        async def made(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
            async with sessions() as session, session.begin():
                return await work(session)

        admin, reports = [
            await made(
                lambda s, scope=scope: registry.create_client(
                    s, kind="service", name=scope.value, scopes=[scope]
                )
            )
            for scope in (Scope.MALL_ADMIN, Scope.MALL_REPORTS)
        ]
        await _relayed(sessions)
        app = create_hub(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url=settings.public_hub_url
            ) as c:
                tokens = {
                    "admin": await _client_token(c, admin, Scope.MALL_ADMIN.value),
                    "reports": await _client_token(c, reports, Scope.MALL_REPORTS.value),
                    "node": await _client_token(c, info["creds"][BOOKS], Scope.NODE_FEDERATE.value),
                    "shopper": await _shopper_token(settings, sessions),
                }
                yield Hub(c, sessions, tokens)


async def test_a_mall_admin_reads_what_shops_sent_newest_first_masked(hub: Hub) -> None:
    page = await hub.log(first=50)
    items = page["items"]
    # Every relayed message, newest first, and no more page
    assert [int(m["id"]) for m in items] == await hub.ids()
    assert (page["hasNextPage"], len(items)) == (False, len(ROWS))
    assert [m["shop"] for m in items] == [SHOES, BOOKS, BOOKS, BOOKS, SHOES, SHOES, BOOKS]
    assert [m["status"] for m in items] == [
        "SENT",
        "FAILED",
        "DELIVERED",
        "SENT",
        "UNKNOWN",
        "SENT",
        "SENT",
    ]
    assert items[1]["reason"] == "418: not enough credit"
    assert [m["parts"] for m in items] == [3, 1, 0, 2, 1, 2, 1]
    assert items[5]["costRial"] == BIG_COST
    # Phones masked, a chat only named; no full number, chat id or pseudonym anywhere
    assert [m["to"] for m in items] == [
        "0912***4567",
        "0935***2233",
        "Telegram",
        "0912***4567",
        "0935***2233",
        "0935***2233",
        "0912***4567",
    ]
    answer = str(page)
    for whole in (SARA, ALI, "09121234567", "09351112233", CHAT, "pseudonym-of"):
        assert whole not in answer


async def test_the_log_pages_by_cursor_and_every_message_comes_once(hub: Hub) -> None:
    seen: list[int] = []
    sizes = []
    after = None
    while True:
        page = await hub.log(first=3, after=after)
        sizes.append(len(page["items"]))
        seen += [int(m["id"]) for m in page["items"]]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert sizes == [3, 3, 1]
    assert seen == await hub.ids()
    # A page past the oldest is empty, with no cursor
    last = await hub.log(first=3, after=str(min(seen)))
    assert (last["items"], last["endCursor"], last["hasNextPage"]) == ([], None, False)
    # The default page is 20
    assert len((await hub.log())["items"]) == len(ROWS)


async def test_the_shop_and_status_filters_select(hub: Hub) -> None:
    shoes = await hub.log(shop=SHOES)
    assert [int(m["id"]) for m in shoes["items"]] == await hub.ids(shop=SHOES)
    assert {m["shop"] for m in shoes["items"]} == {SHOES}
    # Sent and delivered are told apart: the provider said at once the chat got it
    books_sent = await hub.log(shop=BOOKS, status="SENT")
    assert [(m["medium"], m["status"]) for m in books_sent["items"]] == [("sms", "SENT")] * 2
    delivered = await hub.log(status="DELIVERED")
    assert [(m["shop"], m["to"]) for m in delivered["items"]] == [(BOOKS, "Telegram")]
    unknown = await hub.log(status="UNKNOWN")
    assert [m["shop"] for m in unknown["items"]] == [SHOES]
    # Paged within a filter
    first = await hub.log(status="SENT", first=2)
    rest = await hub.log(status="SENT", first=2, after=first["endCursor"])
    assert (first["hasNextPage"], rest["hasNextPage"]) == (True, False)
    assert len(first["items"]) + len(rest["items"]) == 4
    # Nothing selected: no rows; a shop nobody registered reads as empty
    assert (await hub.log(shop=SHOES, status="FAILED"))["items"] == []
    assert (await hub.log(shop="no-such-shop"))["items"] == []


async def test_totals_per_shop_today_and_over_the_last_days(hub: Hub) -> None:
    today = tehran_date(utcnow())
    # Today: the most costly first; the refused message counted apart, its parts not
    found = await hub.totals(1)
    assert (found["days"], found["firstDay"], found["lastDay"]) == (
        1,
        today.isoformat(),
        today.isoformat(),
    )
    assert found["shops"] == [
        {"shop": SHOES, "messages": 1, "failed": 0, "smsParts": 3, "costRial": 3_600},
        {"shop": BOOKS, "messages": 2, "failed": 1, "smsParts": 2, "costRial": 2_400},
    ]
    # Seven days: the unknown message counts (the provider may have taken it), the
    # bookshop's message of ten days ago does not; a cost beyond GraphQL's Int stays whole
    week = await hub.totals(7)
    assert week["firstDay"] == (today - dt.timedelta(days=6)).isoformat()
    assert week["shops"] == [
        {"shop": SHOES, "messages": 3, "failed": 0, "smsParts": 6, "costRial": BIG_COST + 3_600},
        {"shop": BOOKS, "messages": 2, "failed": 1, "smsParts": 2, "costRial": 2_400},
    ]
    month = await hub.totals(30)
    assert [(s["shop"], s["messages"]) for s in month["shops"]] == [(SHOES, 3), (BOOKS, 3)]


async def test_bad_input_is_refused_before_any_read(hub: Hub) -> None:
    for days in (0, 91):
        body = await hub.ask("admin", TOTALS, days=days)
        problem = body["data"]["relayedMessageTotals"]
        assert (problem["__typename"], problem["field"]) == ("InvalidInput", "days")
    too_many = await hub.ask("admin", LOG, first=101)
    assert "between 1 and 100" in too_many["errors"][0]["message"]
    for cursor in ("abc", "1" * 19, "12\x00"):
        bad = await hub.ask("admin", LOG, after=cursor)
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT", bad


@pytest.mark.parametrize("who", ["node", "shopper", "reports"])
async def test_any_other_token_is_refused(hub: Hub, who: str) -> None:
    for document in (LOG, TOTALS):
        body = await hub.ask(who, document)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert SARA not in str(body)
