"""``mallnet bench settlement`` at a tiny scale: loads, closes in its own process, audits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mallnet.cli.bench.settlement import main_settlement

from ..conftest import POSTGRES_URL


@pytest.mark.postgres
def test_bench_settlement_smoke(tmp_path: Path) -> None:
    result = json.loads(main_settlement(POSTGRES_URL, 12, 5_000, False, tmp_path / "bench"))

    close = result["close"]
    assert close["captures"] == 5_000
    assert close["positions_sum_rial"] == 0
    assert close["instructions"] >= 10
    assert close["pairs"] > 50
    assert close["seconds"] > 0
    assert close["peak_rss_mib"] > 0
    assert result["verify"]["differences"] == 0
    assert result["bare_database"]["seconds"] > 0
    assert set(result["targets"]) == {"close_s", "peak_mib"}
    assert {"cpus", "python", "platform"} <= set(result["machine"])
    assert result["database"]["kept"] is False
