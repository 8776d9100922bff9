"""Lottery draw speed and memory: a ticket list of millions of entrants, all in memory.

The list (random sorted pseudonyms, counts adding up to exactly the requested tickets) is
built here and saved as two ``.npy`` files; building it is timed apart and not counted.
Each measured step — the list digest, the draw, the verification — then runs in a fresh
child process that loads the arrays, freezes them as a ``TicketList`` (validation
included) and does the step, so the child's peak resident memory (its own ``VmHWM``) is
that step's alone plus the interpreter and the list itself.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hub.domain.draw import TicketList, draw, list_digest, published_record, verify

TARGET_S, TARGET_MIB = 15.0, 2048
PHASES = ("digest", "draw", "verify")


def build_tickets(
    entrants: int, tickets: int, seed: int
) -> tuple[npt.NDArray[np.bytes_], npt.NDArray[np.int64]]:
    """``entrants`` distinct sorted pseudonyms (S32) and int64 counts summing to ``tickets``."""
    if entrants < 0 or tickets < entrants or (entrants == 0 and tickets):
        raise ValueError(
            f"{tickets} tickets cannot go to {entrants} entrants with at least one each"
        )
    rng = np.random.default_rng(seed)
    # Sorting 10 million 32-byte strings takes seconds; sorting distinct 64-bit prefixes and
    # filling the other 24 bytes at random gives the same canonical order far sooner.
    prefixes = _sorted_distinct(rng.integers(0, 2**64, size=entrants, dtype=np.uint64))
    while len(prefixes) < entrants:
        more = rng.integers(0, 2**64, size=entrants - len(prefixes), dtype=np.uint64)
        prefixes = _sorted_distinct(np.concatenate([prefixes, more]))
    rows = np.empty((entrants, 32), dtype=np.uint8)
    rows[:, :8] = prefixes.astype(">u8").view(np.uint8).reshape(-1, 8)
    rows[:, 8:] = np.frombuffer(rng.bytes(24 * entrants), dtype=np.uint8).reshape(-1, 24)
    # One ticket each, the rest spread uniformly: a multinomial split, exact by construction.
    extra = rng.integers(0, max(entrants, 1), size=tickets - entrants, dtype=np.int64)
    counts = 1 + np.bincount(extra, minlength=entrants).astype(np.int64)
    assert int(counts.sum()) == tickets
    return rows.view("S32").reshape(-1), counts


def _sorted_distinct(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # Not np.unique: on numpy 2.4 it took 16 s for 10 million values here, a sort 0.8 s.
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _child(phase: str, folder: Path, winners: int) -> dict[str, Any]:
    """One measured step, run in its own process (see ``_measure``)."""
    imported_mib = _peak_mib()
    started = time.perf_counter()
    pseudonyms = np.load(folder / "pseudonyms.npy")
    counts = np.load(folder / "counts.npy")
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    frozen = TicketList.from_arrays(pseudonyms, counts)
    validate_s = time.perf_counter() - started
    loaded_mib = _peak_mib()

    started = time.perf_counter()
    detail: dict[str, Any] = {}
    if phase == "digest":
        detail["list_digest"] = list_digest(frozen)
    elif phase == "draw":
        seed = hashlib.sha256(b"bench lottery seed").digest()
        result = draw(seed, "bench public value", frozen, winners)
        (folder / "record.json").write_text(json.dumps(published_record(result)))
        detail["winners"] = len(result.winners)
    elif phase == "verify":
        record = json.loads((folder / "record.json").read_text())
        detail["differences"] = verify(record | {"tickets": frozen})
    else:
        raise ValueError(f"unknown phase {phase!r}; use one of {', '.join(PHASES)}")
    step_s = time.perf_counter() - started
    return {
        "seconds": round(validate_s + step_s, 3),
        "step_s": round(step_s, 3),
        "validate_s": round(validate_s, 3),
        "read_npy_s": round(read_s, 3),
        "rss_after_imports_mib": imported_mib,
        "rss_after_load_mib": loaded_mib,
        "peak_rss_mib": _peak_mib(),
        **detail,
    }


def _measure(phase: str, folder: Path, winners: int) -> dict[str, Any]:
    """Run ``_child`` in a fresh interpreter and return what it measured."""
    done = subprocess.run(
        [sys.executable, "-m", "mallnet.cli.bench.lottery", phase, str(folder), str(winners)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"lottery bench step {phase} failed:\n{done.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(done.stdout)
    return measured


def _peak_mib() -> int:
    """This process's resident high-water mark (VmHWM).

    Not ``ru_maxrss``: Linux carries the parent's high-water mark across fork and exec
    into it, so a child of this (large) parent would report the parent's peak as its own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # not Linux


def _target(target: float, measured: float) -> dict[str, Any]:
    return {"target": target, "measured": measured, "met": measured <= target}


def bench_lottery(entrants: int, tickets: int, winners: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mallnet-lottery-") as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        pseudonyms, counts = build_tickets(entrants, tickets, seed)
        build_s = time.perf_counter() - started
        np.save(folder / "pseudonyms.npy", pseudonyms)
        np.save(folder / "counts.npy", counts)
        largest = int(counts.max()) if len(counts) else 0
        del pseudonyms, counts  # the children load their own copy; keep the machine's RAM
        steps = {phase: _measure(phase, folder, winners) for phase in PHASES}
    # Imported here, not at the top: the measured children import this module, and
    # mallnet.cli.bench.common pulls in httpx and SQLAlchemy, which would inflate their peak RSS.
    from mallnet.cli.bench.common import _machine

    targets = {}
    for phase in ("draw", "verify"):
        targets[f"{phase}_s"] = _target(TARGET_S, steps[phase]["seconds"])
        targets[f"{phase}_peak_mib"] = _target(TARGET_MIB, steps[phase]["peak_rss_mib"])
    return {
        "machine": _machine(),
        "parameters": {
            "entrants": entrants,
            "tickets": tickets,
            "winners": winners,
            "seed": seed,
            "largest_count": largest,
        },
        "build_s": round(build_s, 3),
        "note": (
            "each step runs in a fresh process that reads the arrays from .npy (read_npy_s, "
            "not counted) and freezes them as a TicketList (validate_s, counted in seconds); "
            "peak_rss_mib is that process's high-water mark, interpreter and list included"
        ),
        **steps,
        "targets": targets,
    }


def main_lottery(entrants: int, tickets: int, winners: int, seed: int) -> str:
    return json.dumps(bench_lottery(entrants, tickets, winners, seed), indent=2)


if __name__ == "__main__":
    # The measured child of _measure: python -m mallnet.cli.bench.lottery PHASE FOLDER WINNERS
    phase, folder, winners = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(_child(phase, folder, winners)))
