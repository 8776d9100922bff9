"""The hub's delivery log in the mall console, over HTTP, on SQLite and PostgreSQL: a mall
admin's token reads it (newest first, a page at a time, by status and kind, with the counts
per status and what the selection cost, summed by the database); every phone and code is
masked; a shopper's, a node's or mall reporting's token is refused."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from joserfc import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app as create_hub
from hub.db.models import Message
from hub.services import abuse, keys, people, registry
from hub.services.hub_messages import LoggedSender, hub_sender
from hub.services.people import HUB_AUDIENCE, SHOPPER_SCOPES
from mallnet.cli.sdl import operation_document
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.keywrap import keyring_for
from mallnet.messaging.channels import PermanentFailure
from mallnet.scopes import Scope

SARA, ALI = "09121234567", "09351112233"
PRICE = 1_000  # the fake provider's Rial per part (the file channel: the settings' 1,200)
# Above GraphQL Int's 2^31-1: a sum the Rial scalar must carry whole.
BIG_COST = 3_000_000_000
LOG = operation_document("hub", "HubMessageLog")


@dataclass
class _Provider:
    """A provider's line that takes every message, or refuses the next ones."""

    refuse: int = 0
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        if self.refuse:
            self.refuse -= 1
            raise PermanentFailure("418: not enough credit", code="418")
        self.sent.append((phone, text, kind))


async def _messages(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """What the hub sends itself, as it sends it: two sign-in codes (the file channel,
    delivered), then through a provider two redemption codes (one refused) and a lottery
    win; the win's cost then set as a provider might report a long campaign's total."""
    for phone in (SARA, ALI):
        sender = hub_sender(settings, sessions, deferred=True)
        async with sessions() as session, session.begin():
            await people.send_code(
                session, sender, phone, "10.0.0.1", limits=abuse.Limits.in_memory()
            )
        await sender.record()
    provider = _Provider()
    logged = LoggedSender(provider, sessions, provider="kavenegar", part_price_rial=PRICE)
    await logged.send_sms("+989121234567", "کد برداشت شما: 482913", kind="redemption")
    provider.refuse = 1
    with pytest.raises(PermanentFailure):
        await logged.send_sms("+989351112233", "کد برداشت شما: 550071", kind="redemption")
    await logged.send_sms("+989121234567", "برنده شدید! کد جایزه: 9041", kind="lottery_win")
    async with sessions() as session, session.begin():
        await session.execute(
            update(Message).where(Message.kind == "lottery_win").values(cost_rial=BIG_COST)
        )


@dataclass
class Hub:
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, str]

    async def ask(self, who: str, **variables: Any) -> dict[str, Any]:
        answer = await self.client.post(
            "/graphql",
            json={"query": LOG, "operationName": "HubMessageLog", "variables": variables},
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def log(self, **variables: Any) -> dict[str, Any]:
        body = await self.ask("admin", **variables)
        assert "errors" not in body, body
        page: dict[str, Any] = body["data"]["hubMessages"]
        return page

    async def rows(self) -> list[Message]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Message).order_by(Message.id.desc())))


async def _client_token(
    client: httpx.AsyncClient, creds: registry.IssuedCredentials, scope: str
) -> str:
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(creds.client_id, creds.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def _shopper_token(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> str:
    """A shopper's token signed with the hub's own key, as its sign-in issues them."""
    async with sessions() as session, session.begin():
        active = await keys.active_key(session, keyring_for(settings))
    now = int(time.time())
    claims = {
        "iss": settings.public_hub_url.rstrip("/"),
        "aud": HUB_AUDIENCE,
        "sub": "shopper:p-sara",
        "client_id": "app",
        "scope": " ".join(sorted(SHOPPER_SCOPES)),
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": keys.ALGORITHM, "kid": active.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, active.key)


@pytest.fixture
async def hub(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[Hub]:
    settings, info = network
    async with engine_scope(settings.hub_db_url) as engine:
        sessions = session_factory(engine)

        async def made(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
            async with sessions() as session, session.begin():
                return await work(session)

        admin = await made(
            lambda s: registry.create_client(
                s, kind="service", name="console", scopes=[Scope.MALL_ADMIN]
            )
        )
        reports = await made(
            lambda s: registry.create_client(
                s, kind="service", name="reports", scopes=[Scope.MALL_REPORTS]
            )
        )
        await _messages(settings, sessions)
        app = create_hub(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url=settings.public_hub_url
            ) as c:
                node = info["creds"]["ketab-sara"]
                tokens = {
                    "admin": await _client_token(c, admin, Scope.MALL_ADMIN.value),
                    "reports": await _client_token(c, reports, Scope.MALL_REPORTS.value),
                    "node": await _client_token(c, node, Scope.NODE_FEDERATE.value),
                    "shopper": await _shopper_token(settings, sessions),
                }
                yield Hub(c, sessions, tokens)


def _counts(page: dict[str, Any]) -> dict[str, int]:
    return {c["status"]: c["count"] for c in page["counts"] if c["count"]}


async def test_a_mall_admin_reads_the_log_newest_first_masked(hub: Hub) -> None:
    rows = await hub.rows()
    page = await hub.log(first=50)
    items = page["items"]
    # Every message the hub sent, newest first, and no more page
    assert [int(m["id"]) for m in items] == [r.id for r in rows]
    assert (page["hasNextPage"], len(items)) == (False, 5)
    assert [m["kind"] for m in items] == ["lottery_win", "redemption", "redemption", "otp", "otp"]
    assert [m["status"] for m in items] == ["SENT", "FAILED", "SENT", "DELIVERED", "DELIVERED"]
    assert items[1]["reason"] == "418: not enough credit"
    assert [m["provider"] for m in items] == ["kavenegar"] * 3 + ["file"] * 2
    # Phones masked; codes masked; the full number is nowhere in the answer
    assert [m["to"] for m in items] == [
        "0912***4567",
        "0935***2233",
        "0912***4567",
        "0935***2233",
        "0912***4567",
    ]
    answer = str(page)
    for whole in ("+989121234567", SARA, "+989351112233", ALI, "482913", "550071", "9041"):
        assert whole not in answer
    assert all("••••••" in m["text"] for m in items)
    # Parts and costs as logged: the provider's price per part, the file channel's setting
    assert items[2]["costRial"] == items[2]["parts"] * PRICE
    assert items[4]["costRial"] == items[4]["parts"] * 1_200
    # The counts, and the cost of the whole log summed (beyond GraphQL's Int)
    assert _counts(page) == {"SENT": 2, "FAILED": 1, "DELIVERED": 2}
    assert len(page["counts"]) == 8
    assert page["totalCostRial"] == sum(r.cost_rial or 0 for r in rows)
    assert page["totalCostRial"] > BIG_COST


async def test_the_log_pages_by_cursor_and_every_message_comes_once(hub: Hub) -> None:
    seen: list[int] = []
    sizes = []
    after = None
    while True:
        page = await hub.log(first=2, after=after)
        sizes.append(len(page["items"]))
        seen += [int(m["id"]) for m in page["items"]]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert sizes == [2, 2, 1]
    assert seen == sorted(seen, reverse=True)
    assert seen == [r.id for r in await hub.rows()]
    # A page past the oldest is empty, with no cursor
    last = await hub.log(first=2, after=str(min(seen)))
    assert (last["items"], last["endCursor"], last["hasNextPage"]) == ([], None, False)


async def test_the_filters_select_and_the_sum_follows_them(hub: Hub) -> None:
    rows = await hub.rows()
    # By kind: the counts of that kind only, whatever status is chosen
    redemptions = await hub.log(kind="REDEMPTION")
    assert {m["kind"] for m in redemptions["items"]} == {"redemption"}
    assert _counts(redemptions) == {"SENT": 1, "FAILED": 1}
    assert redemptions["totalCostRial"] == sum(
        r.cost_rial or 0 for r in rows if r.kind == "redemption"
    )
    # By kind and status: one message; the counts still show the kind's every status
    failed = await hub.log(kind="REDEMPTION", status="FAILED")
    [only] = failed["items"]
    assert (only["status"], only["to"]) == ("FAILED", "0935***2233")
    assert _counts(failed) == {"SENT": 1, "FAILED": 1}
    assert failed["totalCostRial"] == next(r.cost_rial for r in rows if r.status == "failed")
    # By status alone
    delivered = await hub.log(status="DELIVERED")
    assert {m["kind"] for m in delivered["items"]} == {"otp"}
    assert delivered["totalCostRial"] == sum(r.cost_rial or 0 for r in rows if r.kind == "otp")
    # Nothing selected: no rows, a zero sum
    none = await hub.log(kind="LOTTERY_WIN", status="FAILED")
    assert (none["items"], none["totalCostRial"]) == ([], 0)


async def test_a_message_without_a_cost_adds_nothing_to_the_sum(hub: Hub) -> None:
    async with hub.sessions() as session, session.begin():
        await session.execute(update(Message).where(Message.kind == "otp").values(cost_rial=None))
    page = await hub.log(kind="OTP")
    assert [m["costRial"] for m in page["items"]] == [None, None]
    assert page["totalCostRial"] == 0
    assert (await hub.log())["totalCostRial"] == sum(r.cost_rial or 0 for r in await hub.rows())


@pytest.mark.parametrize("who", ["shopper", "node", "reports"])
async def test_any_other_token_is_refused(hub: Hub, who: str) -> None:
    body = await hub.ask(who, first=10)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_bad_page_is_refused_before_any_read(hub: Hub) -> None:
    too_many = await hub.ask("admin", first=101)
    assert "between 1 and 100" in too_many["errors"][0]["message"]
    for cursor in ("abc", "1" * 19, "12\x00"):
        bad = await hub.ask("admin", after=cursor)
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT", bad
