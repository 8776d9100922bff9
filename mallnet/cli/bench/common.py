"""``mallnet bench ...``: speed measured end to end, beside the bare database rate.

``purchase``: N purchases through a real node process's GraphQL over HTTP with C
concurrent clients on PostgreSQL, then — in the same run, on the same tables — the rate of
the bare inserts and updates one purchase writes, done straight with asyncpg. The ratio
shows what the application costs on top of the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy.engine import make_url

from mallnet.config import Settings
from mallnet.db import drop_database, ensure_database
from mallnet.devtokens import issue

RECORD_PURCHASE = """
mutation RecordPurchase($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) {
    __typename
    ... on PurchaseRecorded { purchase { id earnedPoints } balances { points creditRial } }
    ... on Problem { code message }
  }
}
"""


@dataclass
class Run:
    count: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return (
                round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2) if ordered else 0.0
            )

        return {
            "count": self.count,
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
            "per_s": round(self.count / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
        }


async def _drive(count: int, clients: int, one: Callable[[int], Awaitable[bool]]) -> Run:
    """Run ``one(i)`` for i < count from ``clients`` concurrent workers."""
    latencies: list[float] = []
    failures = 0
    next_index = 0

    async def worker() -> None:
        nonlocal next_index, failures
        while next_index < count:
            index = next_index
            next_index += 1
            started = time.perf_counter()
            ok = await one(index)
            latencies.append((time.perf_counter() - started) * 1000)
            failures += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return Run(count, time.perf_counter() - started, latencies, failures)


class RawClient:
    """A minimal HTTP/1.1 keep-alive client for load generation.

    The load generator shares the machine's two cores with the server under test and the
    database; a full-featured client spent about a third of a core on 32 connections,
    which this one does not. One connection per concurrent client, requests in series.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(
        self, path: str, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """POST ``payload``; ``headers`` are sent with this request only."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{self.extra}"
            + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            + "\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, json.loads(await self.reader.readexactly(length))

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _phone(i: int) -> str:
    return f"0912{i:07d}"


async def bench_purchase(
    postgres_url: str, count: int, clients: int, shoppers: int, workers: int, data_dir: Path
) -> dict[str, Any]:
    shop = "bench-shop"
    run_id = uuid.uuid4().hex[:8]
    template = make_url(postgres_url).set(database=f"mallnet_bench_{run_id}_{{shop}}")
    node_url = (
        template.render_as_string(hide_password=False).replace("%7B", "{").replace("%7D", "}")
    )
    settings = Settings(
        data_dir=data_dir, node_database_url=node_url, dev_token_secret=uuid.uuid4().hex * 2
    )
    db_url = settings.node_db_url(shop)
    from shop_node.services.bootstrap import prepare_node

    await ensure_database(db_url)
    await prepare_node(settings, shop)
    port = _free_port()
    log = (data_dir / "bench-node.log").open("wb")
    server = _start_node(settings, node_url, shop, port, workers, log)
    token = issue(settings, audience=shop, scopes=["shop:operate"], subject="bench:pos")
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}", data_dir)
        api = await _api_purchases(port, token, run_id, count, clients, shoppers)
        bare = await _bare_purchase_rate(db_url, count, clients, shoppers)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        await drop_database(db_url)
    api_summary, bare_summary = api.summary(), bare.summary()
    result: dict[str, Any] = {
        "benchmark": "purchase",
        "path": f"POS -> node GraphQL over HTTP ({workers} uvicorn process(es)) -> PostgreSQL",
        "count": count,
        "clients": clients,
        "shoppers": shoppers,
        "api": api_summary,
        "bare_database": {
            "what": "the same inserts and updates per purchase, asyncpg, one transaction each",
            **bare_summary,
        },
        "machine": _machine(),
    }
    result["api_vs_bare"] = round(api_summary["per_s"] / bare_summary["per_s"], 3)
    return result


def _start_node(
    settings: Settings, node_url: str, shop: str, port: int, workers: int, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """A real node process (``mallnet node``), its settings from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    env |= {
        "MALLNET_DATA_DIR": str(settings.data_dir),
        "MALLNET_NODE_DATABASE_URL": node_url,
        "MALLNET_DEV_TOKEN_SECRET": settings.dev_token_secret or "",
    }
    command = [sys.executable, "-m", "mallnet", "node", "--shop", shop, "--port", str(port)]
    command += ["--log-level", "warning", "--workers", str(workers)]
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def _api_purchases(
    port: int, token: str, run_id: str, count: int, clients: int, shoppers: int
) -> Run:
    """``count`` recordPurchase mutations over HTTP from ``clients`` keep-alive
    connections, after a warm-up of up to 200 (not timed)."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    auth = {"Authorization": f"Bearer {token}"}
    pool: list[RawClient] = []

    async def purchase(i: int, prefix: str = "B") -> bool:
        client = pool.pop() if pool else RawClient("127.0.0.1", port, auth)
        try:
            amount = rng.randrange(50_000, 5_000_000, 10_000)
            variables = {
                "input": {
                    "receiptId": f"{prefix}-{run_id}-{i}",
                    "phone": _phone(rng.randrange(shoppers)),
                    "totalRial": amount,
                    "lines": [{"productGroup": "general", "amountRial": amount}],
                }
            }
            status, body = await client.post_json(
                "/graphql", {"query": RECORD_PURCHASE, "variables": variables}
            )
        finally:
            pool.append(client)
        result = (body.get("data") or {}).get("recordPurchase") or {}
        return status == 200 and result.get("__typename") == "PurchaseRecorded"

    await _drive(min(200, count), clients, lambda i: purchase(i, "W"))  # warm-up
    api = await _drive(count, clients, purchase)
    for client in pool:
        await client.close()
    return api


async def _wait_healthy(base: str, data_dir: Path, log_name: str = "bench-node.log") -> None:
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(300):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"bench server did not start; see {data_dir / log_name}")


async def _bare_purchase_rate(db_url: str, count: int, clients: int, shoppers: int) -> Run:
    """What one purchase writes, without the application: 1 transaction row, 2 lots, 4
    postings, 2 balance updates, the purchase and its line, through asyncpg."""
    import asyncpg

    plain = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(plain, min_size=clients, max_size=clients)
    try:
        async with pool.acquire() as conn:
            shop = await _BareShop.read(conn)
        run_id = uuid.uuid4().hex[:8]

        async def one(i: int) -> bool:
            async with pool.acquire() as conn, conn.transaction():
                await _bare_purchase(conn, shop, run_id, i)
            return True

        return await _drive(count, clients, one)
    finally:
        await pool.close()


@dataclass(frozen=True)
class _BareShop:
    """What the bare purchases write against: the members the API run enrolled (their
    points and credit accounts), the shop's issuing accounts, its policy version."""

    members: list[tuple[int, tuple[int, int]]]  # member id, (points account, rial account)
    issued_points: int
    issued_rial: int
    policy_version: int

    @classmethod
    async def read(cls, conn: Any) -> _BareShop:
        accounts = await conn.fetch(
            "SELECT member_id, array_agg(id ORDER BY asset) AS ids FROM accounts "
            "WHERE member_id IS NOT NULL GROUP BY member_id"
        )
        system = dict(await conn.fetch("SELECT code, id FROM accounts WHERE member_id IS NULL"))
        version = await conn.fetchval("SELECT max(version) FROM policy_versions")
        return cls(
            [(r["member_id"], tuple(r["ids"])) for r in accounts],
            system["system:issued:points"],
            system["system:issued:rial"],
            version,
        )


async def _bare_purchase(conn: Any, shop: _BareShop, run_id: str, i: int) -> None:
    """One purchase's statements, in the transaction the caller opened."""
    member_id, (points_acct, rial_acct) = shop.members[i % len(shop.members)]
    now = time.time()
    await conn.fetch(
        "SELECT id FROM accounts WHERE member_id = $1 ORDER BY id FOR UPDATE", member_id
    )
    tx = await conn.fetchval(
        "INSERT INTO ledger_transactions (idempotency_key, reason, reference,"
        " member_id, memo, actor, created_at) VALUES ($1, 'purchase', $2, $3,"
        " 'bench', 'bench', to_timestamp($4)) RETURNING id",
        f"bare:{run_id}:{i}",
        f"receipt:bare-{i}",
        member_id,
        now,
    )
    lots = await conn.fetch(
        "INSERT INTO lots (account_id, amount, expires_at, transaction_id) VALUES"
        " ($1, 10, to_timestamp($3), $4), ($2, 500, to_timestamp($3), $4) RETURNING id",
        points_acct,
        rial_acct,
        now + 86400 * 90,
        tx,
    )
    await conn.executemany(
        "INSERT INTO postings (transaction_id, account_id, lot_id, asset, amount)"
        " VALUES ($1, $2, $3, $4, $5)",
        [
            (tx, shop.issued_points, None, "points", -10),
            (tx, points_acct, lots[0]["id"], "points", 10),
            (tx, shop.issued_rial, None, "rial", -500),
            (tx, rial_acct, lots[1]["id"], "rial", 500),
        ],
    )
    await conn.execute("UPDATE accounts SET balance = balance + 10 WHERE id = $1", points_acct)
    await conn.execute("UPDATE accounts SET balance = balance + 500 WHERE id = $1", rial_acct)
    purchase = await conn.fetchval(
        "INSERT INTO purchases (receipt_id, request_hash, member_id, total_rial,"
        " credit_spent_rial, occurred_at, recorded_at, policy_version, tier_code,"
        " visit_number, earned_points, earned_credit_rial, frequency_points,"
        " frequency_credit_rial, transaction_id, actor) VALUES ($1, 'x', $2, 10000, 0,"
        " to_timestamp($3), to_timestamp($3), $4, 'bronze', 1, 10, 500, 0, 0, $5,"
        " 'bench') RETURNING id",
        f"bare-{run_id}-{i}",
        member_id,
        now,
        shop.policy_version,
        tx,
    )
    await conn.execute(
        "INSERT INTO purchase_lines (purchase_id, line_no, product_group, amount_rial)"
        " VALUES ($1, 0, 'general', 10000)",
        purchase,
    )


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def main_purchase(
    postgres_url: str, count: int, clients: int, shoppers: int, workers: int, data_dir: Path
) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(bench_purchase(postgres_url, count, clients, shoppers, workers, data_dir))
    return json.dumps(result, indent=2)
