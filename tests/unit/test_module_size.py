"""The house plan keeps hub modules readable: none over 500 lines (issue 13). A module that
grows past it is split by job, as value/, settlement/, lotteries/ and grants/ were."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 500


def test_no_hub_module_is_over_500_lines() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): n
        for path in (ROOT / "hub").rglob("*.py")
        if "versions" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert long == {}
