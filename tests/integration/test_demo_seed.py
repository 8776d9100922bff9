"""The demo's seeded story: every shop gets its club, and seeding again changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mallnet.cli.demo.node_seed import POLICIES, seed_demo_club
from mallnet.config import Settings
from mallnet.db import create_engine
from shop_node.db.models import LedgerTransaction, Member, PolicyVersion, Purchase
from shop_node.services.bootstrap import prepare_node
from shop_node.services.ledger import verify_balances
from shop_node.services.runtime import NodeRuntime


async def _counts(runtime: NodeRuntime) -> dict[str, Any]:
    async def read(session: Any) -> dict[str, Any]:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Member, Purchase, LedgerTransaction, PolicyVersion)
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
