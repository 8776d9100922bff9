"""``mallnet bench settlement``: close a period of many captures among many shops.

A scratch PostgreSQL database gets the shops and N capture lines (one in fifty a refund's
negative line) spread over every pair of shops, under a policy with a network fee and some
per-pair agreements. The close runs as ``mallnet settlement close`` in its own process —
the same code a worker runs — so its wall time and peak resident memory are the close's
alone; ``mallnet settlement verify`` recomputes the period the same way. In the same run,
the bare database does the close's writes in one SQL statement (the same rows into a table
shaped like ``settlement_items``, then the per-pair sums): the floor the close stands on.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from mallnet.cli.bench.common import _machine
from mallnet.db import drop_database, engine_scope, ensure_database, session_factory, transaction
from mallnet.migrations import upgrade

TARGET_S, TARGET_MIB = 60.0, 1024
FEE_BP = 150

SEED_SQL = [
    """INSERT INTO shops (slug, name_fa, name_en, category, status, created_at)
       SELECT 'shop-' || lpad(g::text, 3, '0'), 'فروشگاه ' || g, 'Shop ' || g, 'fashion',
              'active', now()
       FROM generate_series(0, :shops - 1) g""",
    """INSERT INTO value_lots (pseudonym, kind, issuer_shop, amount, remaining, held,
         rial_per_point, accepted_shops, accepted_category, expires_at, reason, origin,
         issue_key, created_at, clawback_due)
       VALUES (repeat('ab', 32), 'general_credit', 'shop-000', 1, 1, 0, 1, '[]', NULL,
               now() + interval '1 year', 'bench', 'bench', 'bench-lot', now(), 0)""",
    """INSERT INTO value_transactions (pseudonym, kind, shop, hold_id, reason,
         idempotency_key, points, credit_rial, value_rial, created_at)
       VALUES (repeat('ab', 32), 'capture', 'shop-000', 'H1', 'bench', 'bench-capture',
               0, 0, 0, now())""",
    # Every pair of shops, spread by two multiplicative hashes; amounts 1,000-1,000,000 Rial;
    # one line in fifty refunds half of the capture before it (same hold, lot and shops).
    """INSERT INTO value_redemptions (transaction_id, hold_id, lot_id, kind, issuer_shop,
         redeemer_shop, units, amount_rial, created_at)
       SELECT (SELECT min(id) FROM value_transactions), 'H' || c,
              (SELECT min(id) FROM value_lots), 'general_credit',
              'shop-' || lpad(((c * 7919) % :shops)::text, 3, '0'),
              'shop-' || lpad((((c / :shops) * 104729 + 13) % :shops)::text, 3, '0'),
              a, a, now() - interval '1 hour'
       FROM generate_series(1::bigint, :captures) g,
            LATERAL (SELECT CASE WHEN g % 50 = 0 THEN g - 1 ELSE g END AS c) capture,
            LATERAL (SELECT (1000 + (c * 2654435761) % 999001)
                            / CASE WHEN g % 50 = 0 THEN -2 ELSE 1 END AS a) amounts""",
    # The settlement outbox, as the value ledger writes it beside each line.
    """INSERT INTO settlement_pending (kind, ref_id) SELECT 'capture', id FROM value_redemptions""",
]

BARE_SQL = [
    "CREATE TEMP TABLE bare_items (LIKE settlement_items INCLUDING ALL)",
    """INSERT INTO bare_items (redemption_id, period_id, debtor, creditor, gross_rial, fee_rial,
         fee_bp, covered)
       SELECT r.id, :period, r.issuer_shop, r.redeemer_shop,
              CASE WHEN r.issuer_shop = r.redeemer_shop THEN 0 ELSE r.amount_rial END,
              CASE WHEN r.issuer_shop = r.redeemer_shop THEN 0
                   ELSE r.amount_rial - trunc(r.amount_rial * (10000 - :fee) / 10000.0) END,
              :fee, l.prepaid
       FROM settlement_pending p JOIN value_redemptions r ON r.id = p.ref_id
            JOIN value_lots l ON l.id = r.lot_id
       WHERE p.kind = 'capture'""",
    "DELETE FROM settlement_pending WHERE kind = 'capture'",
    """CREATE TEMP TABLE bare_pairs AS SELECT debtor, creditor, sum(gross_rial) AS gross,
         sum(fee_rial) AS fee FROM bare_items GROUP BY debtor, creditor""",
]


def _policy(shops: int) -> dict[str, Any]:
    """A network fee, and other rates for a few redeeming shops and pairs."""
    return {
        "fee_bp": FEE_BP,
        "agreements": [
            {"redeemer": f"shop-{i:03d}", "fee_bp": 100} for i in range(0, min(shops, 10))
        ]
        + [{"issuer": "shop-001", "redeemer": "shop-002", "fee_bp": 0}],
    }


async def _load(url: str, shops: int, captures: int) -> dict[str, Any]:
    from hub.services import settlement, settlement_policy

    started = time.perf_counter()
    await upgrade("hub", url)
    async with engine_scope(url) as engine:
        async with engine.begin() as conn:
            for sql in SEED_SQL:
                await conn.execute(text(sql), {"shops": shops, "captures": captures})
            await conn.execute(text("ANALYZE"))
        sessions = session_factory(engine)
        await transaction(
            sessions, lambda s: settlement_policy.set_policy(s, _policy(shops), "bench")
        )
        period = await transaction(sessions, lambda s: settlement.cut(s, "bench"))
    return {"period": period.id, "seconds": round(time.perf_counter() - started, 2)}


async def _bare(url: str, period: int) -> float:
    """The close's writes in plain SQL, timed, then rolled back (the close does them next)."""
    async with engine_scope(url) as engine, engine.connect() as conn:
        transaction = await conn.begin()
        started = time.perf_counter()
        for sql in BARE_SQL:
            await conn.execute(text(sql), {"period": period, "fee": FEE_BP})
        seconds = time.perf_counter() - started
        await transaction.rollback()
    return seconds


def _timed_child(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run ``mallnet ARGS`` and return its wall seconds, peak RSS in MiB and output."""
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "mallnet", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        output = process.stdout.read()
        # wait4, not wait: it returns the child's own resource usage (its peak RSS).
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"mallnet {' '.join(args)} failed:\n{output[-3000:]}")
    return seconds, usage.ru_maxrss // 1024, output  # ru_maxrss is in KiB on Linux


async def bench_settlement(
    postgres_url: str, shops: int, captures: int, keep: bool, data_dir: Path
) -> dict[str, Any]:
    name = f"mallnet_bench_settle_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        loaded = await _load(url, shops, captures)
        bare_s = await _bare(url, loaded["period"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
        env |= {"MALLNET_HUB_DATABASE_URL": url, "MALLNET_DATA_DIR": str(data_dir)}
        close_s, close_mib, closed = await asyncio.to_thread(
            _timed_child, ["settlement", "close", "--period", str(loaded["period"])], env
        )
        verify_s, verify_mib, verified = await asyncio.to_thread(
            _timed_child, ["settlement", "verify", str(loaded["period"])], env
        )
        result = json.loads(closed)
        audit = json.loads(verified)
    finally:
        if not keep:
            await drop_database(url)
    positions = result["positions"]
    return {
        "machine": _machine(),
        "parameters": {"shops": shops, "captures": captures, "fee_bp": FEE_BP},
        "load_s": loaded["seconds"],
        "close": {
            "seconds": round(close_s, 2),
            "peak_rss_mib": close_mib,
            "captures": result["captures"],
            "pairs": result["pairs"],
            "instructions": len(result["instructions"]),
            "positions_sum_rial": sum(positions.values()),
            "captures_per_s": round(result["captures"] / close_s),
        },
        "verify": {
            "seconds": round(verify_s, 2),
            "peak_rss_mib": verify_mib,
            "differences": len(audit["differences"]),
        },
        "bare_database": {
            "seconds": round(bare_s, 2),
            "what": "the same item rows, pair sums and outbox removal in three SQL statements",
        },
        "close_vs_bare": round(close_s / bare_s, 2) if bare_s else None,
        "targets": {
            "close_s": {
                "target": TARGET_S,
                "measured": round(close_s, 2),
                "met": close_s <= TARGET_S,
            },
            "peak_mib": {
                "target": TARGET_MIB,
                "measured": close_mib,
                "met": close_mib <= TARGET_MIB,
            },
        },
        "database": {"name": name, "kept": keep},
    }


def main_settlement(
    postgres_url: str, shops: int, captures: int, keep: bool, data_dir: Path
) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(bench_settlement(postgres_url, shops, captures, keep, data_dir))
    return json.dumps(result, indent=2, ensure_ascii=False)
