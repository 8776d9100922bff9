"""``mallnet bench network`` at a tiny scale: loads, serves, measures, and every hold and
capture it times succeeds — over HTTP and through the hub's services alike, leaving a
ledger that verifies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hub.db.models import ValueHold
from hub.services import value
from mallnet.cli.bench.network import NetworkParams, main_network
from mallnet.db import create_engine, drop_database, session_factory

from ..conftest import POSTGRES_URL


async def _holds_and_problems(url: str, run_id: str) -> tuple[dict[str, list[str]], list[str]]:
    """The statuses of the measured holds, by side (P: over HTTP, B: bare), and what the
    ledger's verification finds."""
    engine = create_engine(url, pooled=False)
    try:
        async with session_factory(engine)() as session:
            statuses: dict[str, list[str]] = {}
            for side in ("P", "B"):
                rows = await session.execute(
                    select(ValueHold.status, func.count())
                    .where(ValueHold.idempotency_key.startswith(f"{side}{run_id}-"))
                    .group_by(ValueHold.status)
                )
                statuses[side] = sorted(f"{status}:{count}" for status, count in rows.all())
            return statuses, await value.verify(session)
    finally:
        await engine.dispose()


@pytest.mark.postgres
def test_bench_network_smoke(tmp_path: Path) -> None:
    params = NetworkParams(shoppers=200, entries=5000, count=50, me_count=50, clients=4, keep=True)
    result = json.loads(main_network(POSTGRES_URL, params, tmp_path / "bench"))
    name = result["database"]["name"]
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        statuses, problems = asyncio.run(
            _holds_and_problems(url, name.removeprefix("mallnet_bench_net_"))
        )
    finally:
        asyncio.run(drop_database(url))

    assert {"parameters", "load", "api", "bare_database", "api_vs_bare", "targets"} <= set(result)
    assert {"cpus", "python", "platform"} <= set(result["machine"])
    load = result["load"]
    assert load["rows"]["value_postings"] == 5000
    assert load["rows"]["shoppers"] == 200
    assert load["verify"] == {"pseudonyms": 2, "problems": 0}
    for side in ("api", "bare_database"):
        pairs, me = result[side]["hold_capture"], result[side]["me"]
        assert pairs["failures"] == 0, pairs["problem_samples"]
        # Every pair asks a shopper for value they have (the bench draws amounts from what
        # the history left spendable everywhere): a refused hold is a failure of the bench
        # or of the hub, not a measurement.
        assert (pairs["completed"], pairs["insufficient_value"]) == (50, 0)
        assert pairs["pairs_per_s"] > 0
        assert {"p50", "p99"} <= set(pairs["latency_ms"])
        assert {"p50", "p99"} <= set(pairs["hold_latency_ms"]) & set(pairs["capture_latency_ms"])
        assert me["failures"] == 0
        assert me["count"] == 50
        assert {"p50", "p99"} <= set(me["latency_ms"])
    for target in ("pairs_per_s", "me_p99_ms"):
        assert set(result["targets"][target]) == {"target", "measured", "met"}
    assert result["database"]["kept"] is True
    # Both sides wrote through the hub's own use cases: every measured hold is captured
    # and the whole ledger, history and bench pairs, still verifies.
    assert statuses == {"P": ["captured:50"], "B": ["captured:50"]}
    assert problems == []
