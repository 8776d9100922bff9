"""A slow hub never freezes a node (issue 15): the network capture of a purchase runs
outside the node's write transaction, so another till's purchase goes on while the hub is
slow to answer; and reads (a member lookup) take no write lock, so an open write does not
hold them up on SQLite. The read before the capture refuses what the node would refuse, so
the hub takes nothing for a purchase the node cannot record."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from federation.client import HubConnection
from mallnet.config import Settings
from mallnet.db import create_engine
from mallnet.secrets_store import pseudonym
from shop_node.db.models import Member, Purchase
from shop_node.domain.earning import Line
from shop_node.domain.errors import InsufficientBalance, InvalidInput, MemberNotFound
from shop_node.services.bootstrap import prepare_node
from shop_node.services.network import capture_at
from shop_node.services.policy import update_policy
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from ..node_client import TEST_POLICY, NodeClient

TILL_1_PHONE = "09121234567"
TILL_2_PHONE = "09127654321"
HOLD = "01J0000000000000000000000A"
# How long the fake hub sits on a capture unless the test lets it answer sooner: long
# enough that a till waiting for it is plainly seen waiting.
SLOW_S = 5.0


class SlowHub:
    """A hub whose capture answers only when released (or after ``SLOW_S``)."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.answered = threading.Event()
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/graphql", self._capture, methods=["POST"]),
            ]
        )

    async def _token(self, _request: Request) -> JSONResponse:
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 600})

    async def _capture(self, request: Request) -> JSONResponse:
        asked = (await request.json())["variables"]
        self.arrived.set()
        await asyncio.to_thread(self.release.wait, SLOW_S)
        self.answered.set()
        captured = asked["amount"] or asked["upTo"]
        hold = {"id": asked["id"], "pseudonym": asked["pseudonym"], "capturedRial": captured}
        return JSONResponse({"data": {"captureNetworkHold": hold}})


@pytest.fixture
def slow_hub() -> Iterator[tuple[SlowHub, HubConnection]]:
    hub = SlowHub()
    with LiveServer(hub.app) as server:
        yield hub, HubConnection(server.url, "node", "secret", timeout_s=SLOW_S * 2)
        hub.release.set()


@pytest.fixture
async def runtime(node_settings: Settings) -> AsyncIterator[NodeRuntime]:
    await prepare_node(node_settings, "ketab-sara")
    engine = create_engine(node_settings.node_db_url("ketab-sara"))
    node = await NodeRuntime.start("ketab-sara", engine, node_settings)
    await update_policy(node, TEST_POLICY, "test")
    try:
        yield node
    finally:
        await engine.dispose()


def books(receipt: str, amount: int, phone: str, **extra: Any) -> PurchaseInput:
    return PurchaseInput(receipt, amount, [Line("books", amount)], phone, **extra)


async def test_a_slow_capture_at_one_till_does_not_hold_up_another_till(
    runtime: NodeRuntime, slow_hub: tuple[SlowHub, HubConnection]
) -> None:
    hub, connection = slow_hub
    # Given till 1 paying with network value, its capture sitting at a slow hub
    till_1 = asyncio.create_task(
        record_purchase(
            runtime,
            books("T1-1", 300_000, TILL_1_PHONE, network_hold_id=HOLD, network_rial=100_000),
            "till-1",
            capture_at(connection),
        )
    )
    assert await asyncio.to_thread(hub.arrived.wait, 10), "the capture never reached the hub"
    # When till 2 records a plain purchase meanwhile
    plain = await record_purchase(runtime, books("T2-1", 200_000, TILL_2_PHONE), "till-2")
    # Then it is recorded while the hub is still sitting on till 1's capture
    recorded_while_hub_slow = not hub.answered.is_set() and not till_1.done()
    hub.release.set()
    paid = await till_1
    assert recorded_while_hub_slow, "till 2 waited for the hub's answer to till 1"
    assert (plain.purchase.receipt_id, plain.purchase.network_paid_rial) == ("T2-1", 0)
    assert paid.purchase.network_paid_rial == 100_000
    assert paid.purchase.network_hold_id == HOLD


def in_app_loop(node: NodeClient, work: Any) -> Future[Any]:
    """Start ``work()`` on the node app's own event loop (its database pool lives there)."""
    portal = node.http.portal
    assert portal is not None
    return portal.start_task_soon(work)


def test_a_member_lookup_is_not_held_up_by_an_open_write(node: NodeClient) -> None:
    recorded = node.op(
        "RecordPurchase",
        input={
            "receiptId": "R-1",
            "totalRial": "100000",
            "phone": TILL_1_PHONE,
            "lines": [{"productGroup": "books", "amountRial": "100000"}],
        },
    )["recordPurchase"]
    assert recorded["__typename"] == "PurchaseRecorded", recorded
    writing, release = threading.Event(), threading.Event()

    async def slow_write(session: AsyncSession) -> None:
        await session.execute(update(Member).values(name="Sara"))  # the write lock is taken
        writing.set()
        await asyncio.to_thread(release.wait, SLOW_S)

    # Given a write transaction open on the node (a purchase waiting on something slow)
    writer = in_app_loop(node, lambda: node.runtime.transaction(slow_write))
    try:
        assert writing.wait(10), "the write never started"
        # When staff look the member up — details, balances, tier and history
        ref = {"phone": TILL_1_PHONE}
        found = node.op("MemberDetail", ref=ref)["member"]
        looked_up = node.op("LookupMember", ref=ref)["member"]
        quote = node.op("CreditQuote", ref=ref, totalRial="50000")["creditQuote"]
        # Then the answers come while the write is still open, from the last commit
        answered_during_write = not writer.done()
    finally:
        release.set()
        writer.result(timeout=30)
    assert answered_during_write, "the member lookup waited for the open write"
    assert (found["__typename"], found["name"]) == ("Member", None)
    assert found["history"]
    assert found["balances"] == recorded["balances"]
    assert looked_up["tier"]["current"]["code"] == "bronze"
    assert quote["__typename"] == "CreditQuote"
    assert node.op("LookupMember", ref=ref)["member"]["name"] == "Sara"  # committed now


class Captures:
    """A hub that captures at once, and counts what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None, str, int, str]] = []

    async def __call__(
        self, hold_id: str, amount: int | None, receipt: str, left: int, shopper: str
    ) -> int:
        self.calls.append((hold_id, amount, receipt, left, shopper))
        return min(amount or left, left)


async def purchases(runtime: NodeRuntime) -> int:
    async def count(session: AsyncSession) -> int:
        return len((await session.scalars(select(Purchase.id))).all())

    return await runtime.read(count)


async def test_what_the_node_would_refuse_is_refused_before_the_hub_captures(
    runtime: NodeRuntime,
) -> None:
    capture = Captures()
    unknown_group = PurchaseInput(
        "R-1", 100_000, [Line("furniture", 100_000)], TILL_1_PHONE, network_hold_id=HOLD
    )
    with pytest.raises(InvalidInput, match="unknown product groups"):
        await record_purchase(runtime, unknown_group, "pos", capture)
    unknown_card = PurchaseInput(
        "R-1", 100_000, [Line("books", 100_000)], card_code="1234567897", network_hold_id=HOLD
    )
    with pytest.raises(MemberNotFound, match="no member with that card code"):
        await record_purchase(runtime, unknown_card, "pos", capture)
    # A new shopper has only the welcome credit (10,000 Rial) to spend.
    over_credit = books(
        "R-1", 100_000, TILL_1_PHONE, credit_to_spend_rial=20_000, network_hold_id=HOLD
    )
    with pytest.raises(InsufficientBalance, match="20000 requested, 10000 available"):
        await record_purchase(runtime, over_credit, "pos", capture)
    await update_policy(runtime, {**TEST_POLICY, "max_credit_spend_bp": 500}, "test")
    over_share = books(
        "R-1", 100_000, TILL_1_PHONE, credit_to_spend_rial=10_000, network_hold_id=HOLD
    )
    with pytest.raises(InvalidInput, match="at most 5000 Rial of this purchase"):
        await record_purchase(runtime, over_share, "pos", capture)
    assert capture.calls == []
    assert await purchases(runtime) == 0


async def test_a_captured_purchase_replays_without_asking_the_hub_again(
    runtime: NodeRuntime,
) -> None:
    capture = Captures()
    data = books("R-1", 100_000, TILL_1_PHONE, credit_to_spend_rial=10_000, network_hold_id=HOLD)
    first = await record_purchase(runtime, data, "pos", capture)
    again = await record_purchase(runtime, data, "pos", capture)
    shopper = pseudonym(runtime.network_key, "+989121234567")
    assert capture.calls == [(HOLD, None, "R-1", 90_000, shopper)]
    assert (first.replayed, again.replayed) == (False, True)
    assert first.purchase.network_paid_rial == again.purchase.network_paid_rial == 90_000
    assert first.enrolled
    assert first.purchase.credit_spent_rial == 10_000
