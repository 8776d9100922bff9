"""``mallnet bench network`` at a tiny scale: loads, serves, measures, and every hold and
capture it times succeeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mallnet.cli.bench.network import NetworkParams, main_network

from ..conftest import POSTGRES_URL


@pytest.mark.postgres
def test_bench_network_smoke(tmp_path: Path) -> None:
    params = NetworkParams(shoppers=200, entries=5000, count=50, me_count=50, clients=4)
    result = json.loads(main_network(POSTGRES_URL, params, tmp_path / "bench"))

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
    assert result["database"]["kept"] is False
