"""A worker killed in the middle of closing a settlement period, on PostgreSQL through
Redis: nothing of the close is left behind, and the close that follows settles every
capture exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import func, select, text

from hub.db.models import (
    SettlementEntry,
    SettlementItem,
    SettlementPending,
    SettlementPeriod,
    ValueRedemption,
)
from hub.domain.value_rules import GENERAL
from hub.services import registry, settlement, value
from hub.services.value import IssueInput
from mallnet.celery_app import create_celery
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, transaction, utcnow
from mallnet.migrations import upgrade

from ..conftest import REDIS_URL
from .test_celery import _env

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CAPTURES = 150_000  # enough that the close takes a few seconds: time to kill it
SHOPS = ["ketab-sara", "kafsh-arya", "kafe-gol", "tala-mehr"]


async def _load(url: str) -> int:
    """Shops, one lot and one capture written through the value ledger, then as many more
    capture lines as CAPTURES (by SQL: the close reads lines, not how they were made)."""
    await upgrade("hub", url)
    async with engine_scope(url) as engine:
        sessions = session_factory(engine)

        async def seed(session: Any) -> None:
            for slug in SHOPS:
                await registry.register_shop(session, registry.ShopInput(slug, slug, slug, "books"))
            shopper = "cd" * 32
            await value.issue(
                session,
                IssueInput(
                    pseudonym=shopper,
                    kind=GENERAL,
                    issuer="ketab-sara",
                    amount=10**9,
                    expires_at=utcnow().replace(year=utcnow().year + 1),
                    reason="test",
                    origin="test",
                    key="lot-1",
                ),
            )
            held = await value.hold(
                session, "kafe-gol", value.HoldInput(shopper, 1_000, "R-0", "h-0")
            )
            await value.capture(session, "kafe-gol", held.hold.id)

        await transaction(sessions, seed)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    """
                    INSERT INTO value_redemptions (transaction_id, hold_id, lot_id, kind,
                        issuer_shop, redeemer_shop, units, amount_rial, created_at)
                    SELECT r.transaction_id, r.hold_id, r.lot_id, r.kind,
                        (ARRAY['ketab-sara','kafsh-arya','kafe-gol','tala-mehr'])[1 + g % 4],
                        (ARRAY['ketab-sara','kafsh-arya','kafe-gol','tala-mehr'])[1 + (g / 4) % 4],
                        1000 + g % 997, 1000 + g % 997, r.created_at
                    FROM value_redemptions r, generate_series(1, :n) g
                    """
                ),
                {"n": CAPTURES - 1},
            )
            # The settlement outbox, as the value ledger writes it for each line.
            await conn.execute(
                text(
                    "INSERT INTO settlement_pending (kind, ref_id) SELECT 'capture', id "
                    "FROM value_redemptions ON CONFLICT DO NOTHING"
                )
            )
            total = await conn.scalar(select(func.count()).select_from(ValueRedemption))
        # The open period ends now: the close has something to do.
        period = await transaction(sessions, lambda s: settlement.cut(s, "test:finance"))
        assert total == CAPTURES
        return period.id


async def _state(url: str, period_id: int) -> dict[str, Any]:
    async with engine_scope(url) as engine, session_factory(engine)() as session:
        period = await session.get(SettlementPeriod, period_id)
        assert period is not None
        return {
            "status": period.status,
            "items": await session.scalar(select(func.count()).select_from(SettlementItem)),
            "entries": await session.scalar(select(func.count()).select_from(SettlementEntry)),
            "periods": await session.scalar(select(func.count()).select_from(SettlementPeriod)),
            "per_capture": await session.scalar(
                select(func.count(func.distinct(SettlementItem.redemption_id)))
            ),
            "pending": await session.scalar(select(func.count()).select_from(SettlementPending)),
            "problems": await settlement.verify(session, period_id)
            if period.status == "closed"
            else None,
        }


async def _closing_backend(url: str) -> int | None:
    """The PostgreSQL backend of the worker once its close has written (a transaction id
    is given at the first write) and while it is still at the period's items."""
    async with engine_scope(url) as engine, engine.connect() as conn:
        pid = await conn.scalar(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL "
                "AND query ILIKE '%settlement_items%'"
            )
        )
        return None if pid is None else int(pid)


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_prefix: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        hub_database_url=pg_url,
        broker_url=REDIS_URL,
        result_backend=REDIS_URL,
        redis_key_prefix=redis_prefix,
        celery_queue=f"q-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "mallnet", "worker", "--concurrency", "1"],
                env=_env(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as a whole
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_close_in_progress(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while asyncio.run(_closing_backend(url)) is None:
        assert time.monotonic() < deadline, "the worker never started closing"
        time.sleep(0.05)


def _wait_until(check: Any, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_a_worker_killed_mid_close_leaves_nothing_and_the_next_close_settles_once(
    settings: Settings, workers: Any
) -> None:
    url = settings.hub_db_url
    period_id = asyncio.run(_load(url))
    client = create_celery(settings)
    try:
        # Given a worker closing the period (mall finance asked for it) ...
        worker = workers()
        client.send_task(
            "hub.close_settlement", args=[period_id, "test:finance"], queue=settings.celery_queue
        )
        _wait_for_close_in_progress(url)
        # ... when the whole worker dies mid-close (power cut: no clean-up at all),
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        _wait_until(lambda: asyncio.run(_closing_backend(url)) is None)
        # then nothing of the close is there: no items, no journal, the period still open.
        state = asyncio.run(_state(url, period_id))
        assert (state["status"], state["items"], state["entries"], state["periods"]) == (
            "open",
            0,
            0,
            1,
        )
        assert state["pending"] == CAPTURES  # still waiting, every one
        # A new worker, asked to close again, closes it — every capture exactly once.
        workers()
        result = client.send_task(
            "hub.close_settlement", args=[period_id, "test:finance"], queue=settings.celery_queue
        )
        assert result.get(timeout=180) == {"closed": [period_id], "period": period_id}
        state = asyncio.run(_state(url, period_id))
        assert state["status"] == "closed"
        assert state["items"] == state["per_capture"] == CAPTURES
        assert state["pending"] == 0
        assert state["problems"] == []
        assert state["periods"] == 2  # the next period is open
    finally:
        client.close()


def test_a_pool_process_killed_mid_close_is_replaced_and_the_task_runs_again(
    settings: Settings, workers: Any
) -> None:
    """Only the process running the task dies: the worker requeues the task (acked late,
    rejected on worker loss) and a fresh pool process closes the period by itself."""
    url = settings.hub_db_url
    period_id = asyncio.run(_load(url))
    client = create_celery(settings)
    try:
        worker = workers()
        client.send_task(
            "hub.close_settlement", args=[period_id, "test:finance"], queue=settings.celery_queue
        )
        _wait_for_close_in_progress(url)
        [child] = psutil.Process(worker.pid).children()
        child.kill()
        state = _wait_until(
            lambda: (s := asyncio.run(_state(url, period_id)))["status"] == "closed" and s
        )
        assert state["items"] == state["per_capture"] == CAPTURES
        assert state["problems"] == []
        assert worker.poll() is None
    finally:
        client.close()
