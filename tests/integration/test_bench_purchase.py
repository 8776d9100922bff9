"""``mallnet bench purchase`` at a tiny scale: serves, measures both sides, and every
purchase it times is recorded — over HTTP and through the node's purchase use case alike,
leaving a ledger that verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mallnet.cli.bench.common import Sales, main_purchase

from ..conftest import POSTGRES_URL


def test_both_sides_draw_the_same_purchases_on_their_own_phones() -> None:
    api, bare = Sales(20, first_phone=0), Sales(20, first_phone=20)
    api_sales, bare_sales = [api.next() for _ in range(50)], [bare.next() for _ in range(50)]

    assert [s.amount_rial for s in api_sales] == [s.amount_rial for s in bare_sales]
    assert [int(s.phone) - 9120000000 for s in api_sales] == [
        int(s.phone) - 9120000020 for s in bare_sales
    ]
    assert {s.phone for s in api_sales}.isdisjoint({s.phone for s in bare_sales})
    assert all(isinstance(s.amount_rial, int) and s.amount_rial > 0 for s in api_sales)


@pytest.mark.postgres
def test_bench_purchase_smoke(tmp_path: Path) -> None:
    result = json.loads(main_purchase(POSTGRES_URL, 40, 4, 20, 1, tmp_path / "bench"))

    assert {"path", "api", "bare_database", "checked", "api_vs_bare", "machine"} <= set(result)
    assert {"cpus", "python", "platform"} <= set(result["machine"])
    assert "record_purchase" in result["bare_database"]["what"]
    for side in ("api", "bare_database"):
        run = result[side]
        assert (run["count"], run["failures"]) == (40, 0)
        assert run["per_s"] > 0
        assert {"p50", "p90", "p99", "max"} == set(run["latency_ms"])
    assert result["api_vs_bare"] > 0
    # Both sides wrote through the node's own use case: every measured purchase is recorded
    # once, both sides enrolled as many members (the same purchases on their own phones),
    # and the whole ledger (warm-up, both sides, the welcome grants) still verifies.
    checked = result["checked"]
    assert checked["purchases_recorded"] == {"api": 40, "bare_database": 40}
    enrolled = checked["members_enrolled"]
    assert enrolled["api"] == enrolled["bare_database"] > 0
    assert checked["ledger_problems"] == []
