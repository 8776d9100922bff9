"""The embedded default: SQLite databases, migrated by Alembic, served by the apps."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from hub.app import create_app as create_hub
from hub.services import heartbeat
from mallnet.config import Settings
from mallnet.db import engine_scope
from mallnet.migrations import head_revision, upgrade
from shop_node.app import create_app as create_node
from shop_node.services.bootstrap import prepare_node
from shop_node.services.identity import WrongShopDatabase

TYPENAME = {"query": "{ __typename serverInfo { role shop version } }"}


def test_migrated_hub_answers_health_and_graphql(settings: Settings) -> None:
    assert asyncio.run(upgrade("hub", settings.hub_db_url)) == head_revision("hub")
    with TestClient(create_hub(settings)) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["database"]["revision"] == head_revision("hub")
        assert body["worker"] is None  # no worker has beaten yet
        answer = client.post("/graphql", json=TYPENAME)
        assert answer.status_code == 200
        assert answer.json() == {
            "data": {
                "__typename": "Query",
                "serverInfo": {"role": "hub", "shop": None, "version": "0.1.0"},
            }
        }


def test_unmigrated_database_is_reported_unhealthy(settings: Settings) -> None:
    with TestClient(create_hub(settings)) as client:
        health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["database"]["ok"] is False
    assert "mallnet migrate" in health.json()["database"]["error"]


def test_node_serves_its_own_shop(settings: Settings) -> None:
    asyncio.run(prepare_node(settings, "ketab-sara"))
    with TestClient(create_node("ketab-sara", settings)) as client:
        assert client.get("/healthz").json()["shop"] == "ketab-sara"
        data = client.post("/graphql", json=TYPENAME).json()["data"]
        assert data["serverInfo"] == {"role": "node", "shop": "ketab-sara", "version": "0.1.0"}


def test_node_refuses_another_shops_database(settings: Settings) -> None:
    asyncio.run(prepare_node(settings, "ketab-sara"))
    # kafsh-arya's database file is a copy of ketab-sara's, as a restore of the wrong backup
    # would leave it.
    shutil.copy(
        make_url(settings.node_db_url("ketab-sara")).database,
        make_url(settings.node_db_url("kafsh-arya")).database,
    )
    with pytest.raises(WrongShopDatabase, match="belongs to shop 'ketab-sara'"):  # noqa: SIM117
        with TestClient(create_node("kafsh-arya", settings)):
            pass


def test_a_bearer_token_is_refused_until_a_verifier_is_configured(settings: Settings) -> None:
    asyncio.run(upgrade("hub", settings.hub_db_url))
    with TestClient(create_hub(settings)) as client:
        answer = client.post("/graphql", json=TYPENAME, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"


async def test_sqlite_serialises_concurrent_read_modify_writes(settings: Settings) -> None:
    """BEGIN IMMEDIATE: 20 concurrent increments of one row lose none of them."""
    await upgrade("hub", settings.hub_db_url)
    async with engine_scope(settings.hub_db_url) as engine:
        await asyncio.gather(*(heartbeat.record(engine, "w1") for _ in range(20)))
        beat = await heartbeat.latest(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    assert beat is not None
    assert beat.beats == 20
    assert beat.beat_at.tzinfo is not None
