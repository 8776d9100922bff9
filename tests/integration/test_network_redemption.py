"""Network value across shops, end to end through the real pieces: nodes record purchases,
relay them, the hub issues pooled points and targeted credit by each shop's policy, a third
shop holds them with the shopper's texted grant and captures them with a purchase, a refund
returns them — and with the hub unreachable the till gets a clear answer while local value
keeps working."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from federation.client import HubConnection, HubRefused, HubUnavailable, HubUncertain
from hub.app import create_app as create_hub
from hub.services import registry, value
from mallnet.config import Settings
from mallnet.db import create_engine, utcnow
from mallnet.secrets_store import network_key, pseudonym
from shop_node.domain.earning import Line
from shop_node.domain.errors import (
    NetworkValueRefused,
    NetworkValueUnavailable,
    NetworkValueUncertain,
)
from shop_node.services.bootstrap import prepare_node
from shop_node.services.network import capture_at
from shop_node.services.purchases import (
    PurchaseInput,
    RefundInput,
    record_purchase,
    refund_purchase,
)
from shop_node.services.relay import relay_all
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from ..node_client import NodeClient
from .conftest import _connection, _hub_db

PHONE = "09121234567"
E164 = "+989121234567"


async def _grant(hub: HubConnection, settings: Settings, cap: int | None = None) -> str:
    """The shopper's redemption code, texted at the shop's request (read from the
    development SMS outbox, as the shopper reads it out at the till)."""
    await hub.send_redemption_code(E164, pseudonym(network_key(settings), E164), cap)
    outbox = settings.data_dir / "sms-outbox.jsonl"
    last = json.loads(outbox.read_text().splitlines()[-1])
    assert (last["to"], last["kind"]) == (E164, "redemption")
    return re.findall(r"(\d{8})", last["text"])[-1]


async def _node(settings: Settings, slug: str) -> tuple[NodeRuntime, Any]:
    await prepare_node(settings, slug)
    engine = create_engine(settings.node_db_url(slug))
    return await NodeRuntime.start(slug, engine, settings), engine


def _buy(receipt: str, amount: int, **extra: Any) -> PurchaseInput:
    return PurchaseInput(receipt, amount, [Line("general", amount)], PHONE, **extra)


async def test_value_earned_at_two_shops_is_spent_at_a_third_and_refunded(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    cafe = registry.ShopInput("cafe-sepid", "کافه سپید", "Cafe Sepid", "cafe")
    info["creds"]["cafe-sepid"] = (
        await asyncio.to_thread(_hub_db, settings, lambda s: registry.register_shop(s, cafe))
    )[1]
    shopper = pseudonym(network_key(settings), "+989121234567")
    books, e1 = await _node(settings, "ketab-sara")
    shoes, e2 = await _node(settings, "kafsh-arya")
    cafe_node, e3 = await _node(settings, "cafe-sepid")
    hubs = {slug: _connection(network, slug) for slug in info["creds"]}
    try:
        with LiveServer(create_hub(settings), info["port"]):
            # Books: half of what its club awards goes to the pool. Shoes: 10% of a purchase
            # of 1,000,000 Rial or more as credit at the café only, for 30 days.
            await hubs["ketab-sara"].set_issuance_policy({"pooledShareBp": 5000})
            await hubs["kafsh-arya"].set_issuance_policy(
                {
                    "creditRules": [
                        {
                            "minPurchaseRial": 1_000_000,
                            "creditBp": 1000,
                            "acceptedShops": ["cafe-sepid"],
                            "validDays": 30,
                        }
                    ]
                }
            )
            bad = hubs["kafsh-arya"].set_issuance_policy({"creditRules": [{"creditBp": 0}]})
            with pytest.raises(HubRefused, match="INVALID_INPUT"):
                await bad
            book = await record_purchase(books, _buy("B-1", 2_000_000), "pos")
            await record_purchase(shoes, _buy("S-1", 1_500_000), "pos")
            await record_purchase(shoes, _buy("S-2", 900_000), "pos")  # below the minimum
            for node in (books, shoes):
                await relay_all(node, hubs[node.shop])

            # Without the shopper's grant a till learns only that there is value, and only
            # a shop she is a member of (not yet the café).
            assert await hubs["ketab-sara"].has_value(shopper) is True
            assert await hubs["cafe-sepid"].has_value(shopper) is False
            spendable = await asyncio.to_thread(
                _hub_db, settings, lambda s: value.spendable_at(s, shopper, "cafe-sepid")
            )
            pooled, credit, worth = spendable
            assert pooled > 0
            assert pooled == book.purchase.earned_points * 5000 // 10_000
            assert credit == 150_000
            # At the shoe shop only the pooled points count: the credit is the café's.
            at_shoes = await asyncio.to_thread(
                _hub_db, settings, lambda s: value.spendable_at(s, shopper, "kafsh-arya")
            )
            assert at_shoes[1] == 0
            with pytest.raises(HubRefused, match="INSUFFICIENT_VALUE"):
                await hubs["kafsh-arya"].hold(
                    {
                        "pseudonym": shopper,
                        "amountRial": 150_000,
                        "purchaseRef": "S-3",
                        "idempotencyKey": "S-3",
                        "kinds": ["TARGETED_CREDIT"],
                        "grant": await _grant(hubs["kafsh-arya"], settings),
                    }
                )

            # The café: hold everything, the purchase captures it, a refund returns half.
            code = await _grant(hubs["cafe-sepid"], settings)
            hold = await hubs["cafe-sepid"].hold(
                {
                    "pseudonym": shopper,
                    "amountRial": worth,
                    "purchaseRef": "C-1",
                    "idempotencyKey": "C-1",
                    "grant": code,
                }
            )
            assert int(hold["heldRial"]) == worth
            again = await hubs["cafe-sepid"].hold(
                {
                    "pseudonym": shopper,
                    "amountRial": worth,
                    "purchaseRef": "C-1",
                    "idempotencyKey": "C-1",
                    "grant": code,
                }
            )
            assert again["id"] == hold["id"]
            assert again["replayed"] is True
            capture = capture_at(hubs["cafe-sepid"])
            paid = await record_purchase(
                cafe_node,
                _buy("C-1", 1_000_000, network_hold_id=hold["id"]),
                "pos",
                capture,
            )
            assert paid.purchase.network_paid_rial == worth
            # The POS retries: the receipt replays, nothing is captured twice.
            replay = await record_purchase(
                cafe_node, _buy("C-1", 1_000_000, network_hold_id=hold["id"]), "pos", capture
            )
            assert replay.replayed
            with pytest.raises(NetworkValueRefused, match="HOLD_MISMATCH"):
                await record_purchase(
                    cafe_node, _buy("C-2", 500_000, network_hold_id=hold["id"]), "pos", capture
                )
            refund = await refund_purchase(cafe_node, RefundInput("RF-1", "C-1", 500_000), "pos")
            assert refund.refund.network_returned_rial == worth // 2
            await relay_all(cafe_node, hubs["cafe-sepid"])

        def audit(session: Any) -> Any:
            async def run() -> Any:
                summary = await value.summary(session, shopper)
                history = await value.history(session, shopper, 50)
                return summary, [row.kind for row in history], await value.verify(session)

            return run()

        summary, kinds, problems = await asyncio.to_thread(_hub_db, settings, audit)
        assert problems == []
        assert summary.pooled.value_rial + sum(c.value_rial for c in summary.credit) >= worth // 2
        assert sorted(set(kinds)) == ["capture", "hold", "issue", "refund"]
        assert {b.shop for b in summary.local} == {"ketab-sara", "kafsh-arya", "cafe-sepid"}
    finally:
        for engine in (e1, e2, e3):
            await engine.dispose()


async def test_with_the_hub_unreachable_the_till_is_told_and_local_value_still_works(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _info = network
    node, engine = await _node(settings, "ketab-sara")
    hub = _connection(network)  # nothing listens on its port
    try:
        with pytest.raises(HubUnavailable, match="hub unreachable") as down:
            await hub.has_value("ab" * 32)
        # Nothing was sent, so nothing can have taken effect: not "uncertain".
        assert not isinstance(down.value, HubUncertain)
        with pytest.raises(NetworkValueUnavailable, match="local credit only"):
            await record_purchase(
                node,
                _buy("R-1", 100_000, network_hold_id="01J0000000000000000000000A"),
                "pos",
                capture_at(hub),
            )
        done = await record_purchase(node, _buy("R-1", 100_000), "pos")
        assert done.purchase.network_paid_rial == 0
        assert not done.replayed
    finally:
        await engine.dispose()


def test_the_pos_gets_typed_answers_when_the_node_is_not_connected(node: NodeClient) -> None:
    held = node.op(
        "HoldNetworkValue", input={"phone": PHONE, "amountRial": "5000", "receiptId": "R-9"}
    )
    assert held["holdNetworkValue"]["code"] == "NOT_CONNECTED"
    recorded = node.op(
        "RecordPurchase",
        input={
            "receiptId": "R-9",
            "totalRial": "100000",
            "phone": PHONE,
            "lines": [{"productGroup": "books", "amountRial": "100000"}],
            "networkHoldId": "01J0000000000000000000000A",
        },
    )["recordPurchase"]
    assert recorded["__typename"] == "NetworkValueProblem"
    assert recorded["code"] == "NETWORK_VALUE_UNAVAILABLE"
    assert recorded["localValueOnly"] is True
    # Nothing was written: the same receipt without network value records normally.
    plain = node.op(
        "RecordPurchase",
        input={
            "receiptId": "R-9",
            "totalRial": "100000",
            "phone": PHONE,
            "lines": [{"productGroup": "books", "amountRial": "100000"}],
        },
    )["recordPurchase"]
    assert plain["__typename"] == "PurchaseRecorded"
    assert plain["replayed"] is False


async def test_a_hold_worth_more_than_the_bill_captures_only_what_is_left_to_pay(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    shopper = pseudonym(network_key(settings), "+989121234567")

    async def give(session: Any) -> Any:
        return await value.issue(
            session,
            value.IssueInput(
                pseudonym=shopper,
                kind="general_credit",
                issuer="kafsh-arya",
                amount=300_000,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key="lot-1",
            ),
        )

    await asyncio.to_thread(_hub_db, settings, give)
    node, engine = await _node(settings, "ketab-sara")
    hub = _connection(network)
    try:
        with LiveServer(create_hub(settings), info["port"]):
            hold = await hub.hold(
                {
                    "pseudonym": shopper,
                    "amountRial": 100_000,
                    "purchaseRef": "R-1",
                    "idempotencyKey": "R-1",
                    "grant": await _grant(hub, settings),
                }
            )
            paid = await record_purchase(
                node, _buy("R-1", 50_000, network_hold_id=hold["id"]), "pos", capture_at(hub)
            )
            assert paid.purchase.network_paid_rial == 50_000
        left = await asyncio.to_thread(
            _hub_db, settings, lambda s: value.spendable_at(s, shopper, "ketab-sara")
        )
        assert left[1] == 250_000  # the other 50,000 was released
    finally:
        await engine.dispose()


async def test_a_capture_whose_answer_is_lost_is_not_turned_into_local_credit_only(
    tmp_path: Any, free_port: int
) -> None:
    """A hub that takes the request but does not answer in time: the till must retry the
    same purchase, not fall back to local credit (the value may already be taken)."""

    async def token(_request: Request) -> JSONResponse:
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 600})

    async def slow(_request: Request) -> JSONResponse:
        await asyncio.sleep(2)
        return JSONResponse({"data": None})

    app = Starlette(
        routes=[
            Route("/oauth/token", token, methods=["POST"]),
            Route("/graphql", slow, methods=["POST"]),
        ]
    )
    hub = HubConnection(f"http://127.0.0.1:{free_port}", "node", "secret", timeout_s=0.5)
    with LiveServer(app, free_port):
        with pytest.raises(HubUncertain, match="no answer from the hub"):
            await hub.capture("01J0000000000000000000000A", "ab" * 32, None, "R-1", 1_000)
        with pytest.raises(NetworkValueUncertain, match="same receipt and hold"):
            await capture_at(hub)("01J0000000000000000000000A", None, "R-1", 1_000, "ab" * 32)
