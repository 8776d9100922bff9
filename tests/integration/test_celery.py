"""Celery tasks executed by a real worker process: through Redis, and through the embedded
(serverless) SQLite broker that ``make demo`` uses."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hub.db.models import ValueHold, ValueLot
from hub.services import heartbeat, registry
from hub.services import value as network_value
from mallnet.celery_app import create_celery
from mallnet.config import Settings
from mallnet.db import create_engine, engine_scope, session_factory, utcnow
from mallnet.migrations import upgrade
from shop_node.domain.earning import Line
from shop_node.services.bootstrap import prepare_node
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.runtime import NodeRuntime

from ..conftest import REDIS_URL


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    env["MALLNET_ENVIRONMENT"] = settings.environment
    env["MALLNET_DATA_DIR"] = str(settings.data_dir)
    env["MALLNET_CELERY_QUEUE"] = settings.celery_queue
    env["MALLNET_HUB_DATABASE_URL"] = settings.hub_db_url
    for name, value in (
        ("MALLNET_BROKER_URL", settings.broker_url),
        ("MALLNET_RESULT_BACKEND", settings.result_backend),
        ("MALLNET_REDIS_KEY_PREFIX", settings.redis_key_prefix),
    ):
        if value:
            env[name] = value
    return env


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(settings: Settings) -> subprocess.Popen[bytes]:
        with (tmp_path / "worker.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "mallnet", "worker", "--concurrency", "1"],
                env=_env(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_task(settings: Settings, worker_log: Path, name: str, *args: object) -> object:
    client = create_celery(settings)
    try:
        result = client.send_task(name, args=args, queue=settings.celery_queue)
        try:
            return result.get(timeout=60)
        except Exception as exc:
            raise AssertionError(f"task failed: {exc}\n{worker_log.read_text()}") from exc
    finally:
        client.close()


def _run_heartbeat(settings: Settings, worker_log: Path) -> dict[str, object]:
    value = _run_task(settings, worker_log, "hub.heartbeat")
    assert isinstance(value, dict)
    return value


def _beats_in(url: str) -> int:
    async def read() -> int:
        async with engine_scope(url) as engine:
            beat = await heartbeat.latest(engine)
        return 0 if beat is None else beat.beats

    return asyncio.run(read())


@pytest.mark.redis
@pytest.mark.postgres
def test_real_worker_runs_a_task_through_redis_into_postgres(
    tmp_path: Path, pg_url: str, redis_prefix: str, start_worker: object
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        hub_database_url=pg_url,
        broker_url=REDIS_URL,
        result_backend=REDIS_URL,
        redis_key_prefix=redis_prefix,
        celery_queue=f"q-{uuid.uuid4().hex[:8]}",
    )
    asyncio.run(upgrade("hub", pg_url))
    worker = start_worker(settings)  # type: ignore[operator]
    value = _run_heartbeat(settings, tmp_path / "worker.log")
    assert worker.poll() is None
    assert value["beats"] == 1
    assert str(value["worker"]).startswith("mallnet@")
    assert _beats_in(pg_url) == 1
    # The worker's messages stayed under this test's private key prefix.
    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    assert keys, "expected the result to be stored under the test's key prefix"


def test_real_worker_runs_a_task_through_the_embedded_broker(
    settings: Settings, start_worker: object, tmp_path: Path
) -> None:
    asyncio.run(upgrade("hub", settings.hub_db_url))
    start_worker(settings)  # type: ignore[operator]
    for expected in (1, 2):
        value = _run_heartbeat(settings, tmp_path / "worker.log")
        assert value["beats"] == expected
    assert _beats_in(settings.hub_db_url) == 2
    assert settings.sqlite_path("celery-broker").exists()


def test_a_worker_expires_a_shops_lapsed_credit(
    settings: Settings, start_worker: object, tmp_path: Path
) -> None:
    """node.expire_lots, as beat schedules it for every shop, through a real worker."""

    async def buy_long_ago() -> None:
        await prepare_node(settings, "ketab-sara")
        engine = create_engine(settings.node_db_url("ketab-sara"))
        try:
            runtime = await NodeRuntime.start("ketab-sara", engine, settings)
            runtime.clock = lambda: utcnow() - dt.timedelta(days=100)
            data = PurchaseInput("R-1", 1_000_000, [Line("general", 1_000_000)], "09121234567")
            await record_purchase(runtime, data, "pos")
        finally:
            await engine.dispose()

    asyncio.run(buy_long_ago())
    start_worker(settings)  # type: ignore[operator]
    # The credit (valid 90 days) has lapsed; points (a year) and the welcome gift have not.
    first = _run_task(settings, tmp_path / "worker.log", "node.expire_lots", "ketab-sara")
    again = _run_task(settings, tmp_path / "worker.log", "node.expire_lots", "ketab-sara")
    assert (first, again) == ({"expired": 1, "told": 0}, {"expired": 0, "told": 0})


@pytest.mark.redis
@pytest.mark.postgres
def test_a_worker_releases_expired_holds_and_expires_network_value(
    tmp_path: Path, pg_url: str, redis_prefix: str, start_worker: object
) -> None:
    """hub.expire_value, as beat schedules it, through a real worker on Redis and PostgreSQL:
    an expired hold goes back to its lot, then the lapsed lot expires — once."""
    settings = Settings(
        data_dir=tmp_path / "var",
        hub_database_url=pg_url,
        broker_url=REDIS_URL,
        result_backend=REDIS_URL,
        redis_key_prefix=redis_prefix,
        celery_queue=f"q-{uuid.uuid4().hex[:8]}",
    )
    shopper = "ab" * 32

    async def prepare() -> None:
        await upgrade("hub", pg_url)
        async with engine_scope(pg_url) as engine, session_factory(engine)() as session:
            async with session.begin():
                await registry.register_shop(session, registry.ShopInput("cafe", "c", "c", "food"))
                lot = await network_value.issue(
                    session,
                    network_value.IssueInput(
                        pseudonym=shopper,
                        kind="general_credit",
                        issuer="cafe",
                        amount=50_000,
                        expires_at=utcnow() + dt.timedelta(hours=1),
                        reason="test",
                        origin="test",
                        key="lot-1",
                    ),
                )
                await network_value.hold(
                    session, "cafe", network_value.HoldInput(shopper, 20_000, "R-1", "hold-1")
                )
            async with session.begin():  # both lapse: the hold, then the lot
                await session.execute(update(ValueHold).values(expires_at=utcnow()))
                await session.execute(
                    update(ValueLot)
                    .where(ValueLot.id == lot.id)
                    .values(expires_at=utcnow() - dt.timedelta(seconds=1))
                )

    async def audit() -> tuple[list[str], network_value.Totals, str]:
        async with engine_scope(pg_url) as engine, session_factory(engine)() as session:
            hold = await session.scalar(select(ValueHold.status))
            return (
                await network_value.verify(session),
                await network_value.totals(session, "rial"),
                str(hold),
            )

    asyncio.run(prepare())
    start_worker(settings)  # type: ignore[operator]
    log = tmp_path / "worker.log"
    assert _run_task(settings, log, "hub.expire_value") == {"holds": 1, "lots": 1}
    assert _run_task(settings, log, "hub.expire_value") == {"holds": 0, "lots": 0}
    problems, totals, status = asyncio.run(audit())
    assert problems == []
    assert status == "expired"
    assert (totals.issued, totals.remaining, totals.expired, totals.captured) == (
        50_000,
        0,
        50_000,
        0,
    )
