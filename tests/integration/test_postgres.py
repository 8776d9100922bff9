"""Real PostgreSQL through SQLAlchemy async on asyncpg: migrations, apps, concurrency."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient

from hub.db.models import WorkerHeartbeat
from hub.services import heartbeat
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import head_revision, upgrade
from shop_node.app import create_app as create_node
from shop_node.services.bootstrap import prepare_node
from shop_node.services.identity import owner

pytestmark = pytest.mark.postgres


async def test_round_trip_through_sqlalchemy_on_asyncpg(pg_url: str) -> None:
    assert await upgrade("hub", pg_url) == head_revision("hub")
    written = utcnow()
    async with engine_scope(pg_url) as engine:
        assert engine.dialect.driver == "asyncpg"
        async with session_factory(engine)() as session, session.begin():
            session.add(WorkerHeartbeat(worker="w@pg", beat_at=written, beats=7))
        async with session_factory(engine)() as session:
            row = await session.scalar(
                select(WorkerHeartbeat).where(WorkerHeartbeat.worker == "w@pg")
            )
            server_version = (await session.execute(text("SHOW server_version"))).scalar_one()
    assert row is not None
    assert (row.beats, row.beat_at) == (7, written)
    assert server_version


async def test_upgrade_is_idempotent(pg_url: str) -> None:
    first = await upgrade("hub", pg_url)
    assert await upgrade("hub", pg_url) == first


async def test_postgres_row_lock_keeps_every_concurrent_increment(pg_url: str) -> None:
    await upgrade("hub", pg_url)
    async with engine_scope(pg_url) as engine:
        await asyncio.gather(*(heartbeat.record(engine, "w1") for _ in range(20)))
        beat = await heartbeat.latest(engine)
    assert beat is not None
    assert beat.beats == 20


async def test_each_node_gets_its_own_database(pg_node_url_template: str) -> None:
    settings = Settings(node_database_url=pg_node_url_template)
    for shop in ("ketab-sara", "kafsh-arya"):
        await prepare_node(settings, shop)
    urls = {settings.node_db_url(s) for s in ("ketab-sara", "kafsh-arya")}
    assert len(urls) == 2
    for shop in ("ketab-sara", "kafsh-arya"):
        async with engine_scope(settings.node_db_url(shop)) as engine:
            assert await owner(engine) == shop


def test_node_app_on_postgres_answers(pg_node_url_template: str) -> None:
    settings = Settings(node_database_url=pg_node_url_template)
    asyncio.run(prepare_node(settings, "cafe-sepid"))
    with TestClient(create_node("cafe-sepid", settings)) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "ok"
        assert health["database"]["revision"] == head_revision("node")
        data = client.post("/graphql", json={"query": "{ serverInfo { shop } }"}).json()
        assert data == {"data": {"serverInfo": {"shop": "cafe-sepid"}}}
