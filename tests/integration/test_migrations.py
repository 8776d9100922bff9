"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from hub.db.models import Base as HubBase
from mallnet.config import Settings
from mallnet.db import engine_scope
from mallnet.migrations import Component, upgrade
from shop_node.db.models import Base as NodeBase

METADATA: dict[Component, MetaData] = {"hub": HubBase.metadata, "node": NodeBase.metadata}


async def _diff(component: Component, url: str) -> list[Any]:
    await upgrade(component, url)

    def compare(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, METADATA[component]))

    async with engine_scope(url) as engine, engine.connect() as conn:
        return await conn.run_sync(compare)


@pytest.mark.parametrize("component", ["hub", "node"])
async def test_models_match_migrations_on_sqlite(component: Component, settings: Settings) -> None:
    url = settings.hub_db_url if component == "hub" else settings.node_db_url("ketab-sara")
    assert await _diff(component, url) == []


@pytest.mark.postgres
@pytest.mark.parametrize("component", ["hub", "node"])
async def test_models_match_migrations_on_postgres(component: Component, pg_url: str) -> None:
    assert await _diff(component, pg_url) == []
