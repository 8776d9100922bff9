"""Many POS clients at once on one member: credit never goes negative, a receipt never
counts twice, a new shopper is enrolled once — on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from mallnet.config import Settings
from mallnet.db import create_engine
from shop_node.db.models import Member, Purchase
from shop_node.domain.earning import Line
from shop_node.domain.errors import InsufficientBalance, NodeError
from shop_node.services.bootstrap import prepare_node
from shop_node.services.ledger import verify_balances
from shop_node.services.policy import update_policy
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.runtime import NodeRuntime

from ..node_client import TEST_POLICY

PHONE = "09121234567"
CLIENTS = 40


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


def books(receipt: str, amount: int, spend: int = 0, phone: str = PHONE) -> PurchaseInput:
    return PurchaseInput(
        receipt_id=receipt,
        total_rial=amount,
        lines=[Line("books", amount)],
        phone=phone,
        credit_to_spend_rial=spend,
    )


async def outcome(node: NodeRuntime, data: PurchaseInput) -> str:
    try:
        result = await record_purchase(node, data, "pos")
    except InsufficientBalance:
        return "insufficient"
    except NodeError as exc:
        return exc.code.value
    return "replayed" if result.replayed else "recorded"


async def test_concurrent_spends_never_overdraw_credit(runtime: NodeRuntime) -> None:
    first = await record_purchase(runtime, books("seed", 1_000_000), "pos")
    assert first.credit_balance_rial == 110_000  # 10% of a million + the welcome credit
    results = await asyncio.gather(
        *(outcome(runtime, books(f"spend-{i}", 10_000, spend=10_000)) for i in range(CLIENTS))
    )
    assert Counter(results) == {"recorded": 11, "insufficient": CLIENTS - 11}
    final = await record_purchase(runtime, books("check", 10_000), "pos")
    # Spending all 10,000 in credit earns nothing; the last purchase earns 10% of 10,000
    # at silver (x1.5: the seed purchase earned 100 points).
    assert final.credit_balance_rial == 1_500
    assert await runtime.read(verify_balances) == []


async def test_the_same_receipt_from_many_clients_counts_once(runtime: NodeRuntime) -> None:
    results = await asyncio.gather(*(outcome(runtime, books("R-1", 250_000)) for _ in range(12)))
    assert Counter(results) == {"recorded": 1, "replayed": 11}
    purchases = await runtime.read(lambda s: s.scalar(select(func.count()).select_from(Purchase)))
    assert purchases == 1
    assert await runtime.read(verify_balances) == []


async def test_a_new_shopper_at_many_tills_is_enrolled_once(runtime: NodeRuntime) -> None:
    results = await asyncio.gather(
        *(outcome(runtime, books(f"T-{i}", 50_000, phone="09350000000")) for i in range(8))
    )
    assert Counter(results) == {"recorded": 8}
    members = await runtime.read(lambda s: s.scalar(select(func.count()).select_from(Member)))
    assert members == 1
    final = await record_purchase(runtime, books("T-last", 10_000, phone="09350000000"), "pos")
    # One welcome gift (20 points) and 8 x 5 points: the tills did not each enrol the shopper.
    assert final.points_balance == 20 + 8 * 5 + 1 + 10 * 3  # + three punch-card rewards
    assert await runtime.read(verify_balances) == []
