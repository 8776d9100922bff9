"""Review of commit eaf5fe3 (offer_facts.backtest) and 374a619 (offerCheck): the backtest
rebuilds a member's whole visit history before each of their purchases (``_as_of``), so
its cost grows with the square of one member's purchases (1,000: 1.4 s, 2,000: 8.5 s,
4,000: 41 s measured here), and it runs as plain Python on the node's event loop: while
a manager's offerCheck runs, no till of the shop is answered. The review expects the
node to stay responsive (the work bounded, or done off the loop)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from mallnet.config import Settings
from mallnet.db import create_engine
from shop_node.domain.earning import Line
from shop_node.services import offers
from shop_node.services.bootstrap import prepare_node
from shop_node.services.policy import update_policy
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.runtime import NodeRuntime

from ..node_client import TEST_POLICY

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PURCHASES = 1_000  # one member (a company card, a regular, or one a till made up)
STEP = dt.timedelta(minutes=150)


def _at(moment: dt.datetime) -> dt.datetime:
    return moment


async def _node(tmp_path: Path) -> tuple[NodeRuntime, AsyncEngine]:
    settings = Settings(data_dir=tmp_path / "var")
    await prepare_node(settings, "ketab-sara")
    engine = create_engine(settings.node_db_url("ketab-sara"))
    node = await NodeRuntime.start("ketab-sara", engine, settings)
    await update_policy(node, TEST_POLICY, "test")
    return node, engine


async def _longest_stall_during(work: asyncio.Future[Any]) -> float:
    longest, last = 0.0, time.monotonic()
    while not work.done():
        await asyncio.sleep(0.01)
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    await work
    return longest


def test_an_offer_check_does_not_stall_the_node(tmp_path: Path) -> None:
    async def run() -> float:
        node, engine = await _node(tmp_path)
        for i in range(PURCHASES):
            node.clock = functools.partial(_at, START + STEP * i)
            data = PurchaseInput(
                receipt_id=f"R-{i}",
                total_rial=100_000,
                lines=[Line("books", 100_000)],
                phone="09121110001",
            )
            await record_purchase(node, data, "pos")
        node.clock = lambda: START + STEP * PURCHASES
        document = {
            "kind": "permanent",
            "name_fa": "x",
            "name_en": "Regulars",
            "audience": {"kind": "average_basket_rial", "gte": 1},
            "reward": {"extra_credit_bp": 100},
        }
        check = asyncio.ensure_future(offers.check(node, document, [("books", 100_000)], 365))
        stall = await _longest_stall_during(check)
        await engine.dispose()
        return stall

    stall = asyncio.run(run())
    assert stall < 0.5, f"the event loop (every till) stalled {stall:.1f} s"
