"""Review of offer caps at the till (commit 3a2049b): an offer's total uses and budget are
read without a lock (``offer_till._within_caps``), so purchases of different members at
once (each locks only its own member's accounts) all see the cap unused. On SQLite
``BEGIN IMMEDIATE`` serialises every purchase and the caps hold; on PostgreSQL (READ
COMMITTED) they were exceeded (16 uses of total_uses 1; 480,000 Rial of a 30,000 budget).
Both pass since 2a8045d (the capped offers locked by the purchase)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from mallnet.config import Settings
from mallnet.db import create_engine
from shop_node.db.models import OfferReward
from shop_node.domain.earning import Line
from shop_node.services import offers
from shop_node.services.bootstrap import prepare_node
from shop_node.services.ledger import verify_balances
from shop_node.services.policy import update_policy
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.runtime import NodeRuntime

from ..node_client import TEST_POLICY

CLIENTS = 16
NOW = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
async def runtime(node_settings: Settings) -> AsyncIterator[NodeRuntime]:
    await prepare_node(node_settings, "ketab-sara")
    engine = create_engine(node_settings.node_db_url("ketab-sara"))
    node = await NodeRuntime.start("ketab-sara", engine, node_settings)
    await update_policy(node, TEST_POLICY, "test")
    node.clock = lambda: NOW
    try:
        yield node
    finally:
        await engine.dispose()


def _phone(n: int) -> str:
    return f"0912{n:07d}"


def _books(receipt: str, phone: str) -> PurchaseInput:
    return PurchaseInput(
        receipt_id=receipt, total_rial=100_000, lines=[Line("books", 100_000)], phone=phone
    )


async def _live(node: NodeRuntime, caps: dict[str, Any]) -> str:
    document = {
        "kind": "permanent",
        "name_fa": "اعتبار افتتاحیه",
        "name_en": "Opening credit",
        "reward": {"fixed_credit_rial": 30_000},
        "caps": caps,
    }
    draft = await offers.create(node, document, "staff:7")
    await offers.activate(node, draft.id, "staff:7", "the review's race")
    return draft.id


async def _members(node: NodeRuntime) -> None:
    for n in range(CLIENTS):  # existing members: each purchase locks only its own
        await record_purchase(node, _books(f"seed-{n}", _phone(n)), "pos")


async def _rewards(node: NodeRuntime, offer_id: str) -> tuple[int, int]:
    async def read(session: Any) -> tuple[int, int]:
        row = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(OfferReward.credit_rial), 0)).where(
                    OfferReward.offer_id == offer_id
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    return await node.read(read)


async def test_total_uses_hold_under_concurrent_purchases(runtime: NodeRuntime) -> None:
    await _members(runtime)
    offer_id = await _live(runtime, {"total_uses": 1})
    await asyncio.gather(
        *(record_purchase(runtime, _books(f"R-{n}", _phone(n)), "pos") for n in range(CLIENTS))
    )
    uses, _given = await _rewards(runtime, offer_id)
    assert uses == 1, f"total_uses 1, used {uses} times"
    assert await runtime.read(verify_balances) == []


async def test_a_budget_holds_under_concurrent_purchases(runtime: NodeRuntime) -> None:
    await _members(runtime)
    offer_id = await _live(runtime, {"budget_rial": 30_000})
    await asyncio.gather(
        *(record_purchase(runtime, _books(f"R-{n}", _phone(n)), "pos") for n in range(CLIENTS))
    )
    _uses, given = await _rewards(runtime, offer_id)
    assert given <= 30_000, f"budget 30,000 Rial, {given} given"
