"""``mallnet bench ...``: speed measured end to end, beside the bare rate of the same code.

``purchase``: N purchases through a real node process's GraphQL over HTTP with C
concurrent clients on PostgreSQL, then — in the same run, on the same database, at the
same concurrency — the "bare" side: the same purchases recorded by the node's own use case
(``shop_node.services.purchases.record_purchase``, what the ``recordPurchase`` resolver
calls) in this process, on a runtime made as the node's app makes it, with no HTTP,
GraphQL or token in the way. The ratio shows what HTTP, GraphQL and auth cost on top of
the node's purchase path; neither measured side runs SQL written by the bench.
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
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from mallnet.config import Settings
from mallnet.db import create_engine, drop_database, ensure_database, session_factory
from mallnet.devtokens import issue
from shop_node.db.models import Purchase
from shop_node.domain.earning import Line
from shop_node.domain.errors import NodeError
from shop_node.services import purchases
from shop_node.services.bootstrap import prepare_node
from shop_node.services.ledger import verify_balances
from shop_node.services.runtime import NodeRuntime

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


# Who records the purchases on both sides: the subject of the API side's token, which the
# resolver passes to the use case as the actor.
BENCH_ACTOR = "bench:pos"
WARM_UP = 200


@dataclass(frozen=True)
class Sale:
    """One POS purchase of the bench: a single ``general`` line."""

    phone: str
    amount_rial: int


class Sales:
    """The purchases a side records, in call order: amounts and shoppers drawn from one
    seed, so both sides record the same sequence (warm-up included). Each side has its own
    ``shoppers`` phones, from ``first_phone`` on, so the same purchases enrol a new member
    on both sides and the bare side does not find the API side's members."""

    def __init__(self, shoppers: int, first_phone: int) -> None:
        self.rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
        self.shoppers, self.first_phone = shoppers, first_phone

    def next(self) -> Sale:
        amount = self.rng.randrange(50_000, 5_000_000, 10_000)
        return Sale(_phone(self.first_phone + self.rng.randrange(self.shoppers)), amount)


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
    await ensure_database(db_url)
    try:
        await prepare_node(settings, shop)
        api = await _over_http(settings, node_url, shop, run_id, count, clients, shoppers, workers)
        bare = await _bare_purchases(settings, shop, run_id, count, clients, shoppers)
        checked = await _check(db_url, run_id)
    finally:
        await drop_database(db_url)
    api_summary, bare_summary = api.summary(), bare.summary()
    result: dict[str, Any] = {
        "benchmark": "purchase",
        "path": f"POS -> node GraphQL over HTTP ({workers} uvicorn process(es)) -> PostgreSQL",
        "count": count,
        "clients": clients,
        "shoppers": shoppers,
        "api": api_summary,
        # The key keeps its old name; since issue 13 the side is the node's own use case,
        # not a hand copy of its statements: the gap to "api" is HTTP, GraphQL and auth.
        "bare_database": {
            "what": "shop_node.services.purchases.record_purchase (what the recordPurchase"
            " resolver calls, same input, one transaction each through the node runtime's"
            " retry idiom) in the bench process on an engine and runtime made as the node's"
            " app makes them, same concurrency, the same purchases on a disjoint set of"
            " phones (so as many enrol a new member), after the same warm-up as over HTTP"
            f" ({min(WARM_UP, count)}); no HTTP, GraphQL, token or mapping of the answer",
            **bare_summary,
        },
        "checked": checked,
        "machine": _machine(),
    }
    result["api_vs_bare"] = round(api_summary["per_s"] / bare_summary["per_s"], 3)
    return result


async def _over_http(
    settings: Settings,
    node_url: str,
    shop: str,
    run_id: str,
    count: int,
    clients: int,
    shoppers: int,
    workers: int,
) -> Run:
    """The API side against a node server started for it and stopped after it, so the
    bare side that follows has the machine to itself, as the server had."""
    port = _free_port()
    log = (settings.data_dir / "bench-node.log").open("wb")
    server = _start_node(settings, node_url, shop, port, workers, log)
    token = issue(settings, audience=shop, scopes=["shop:operate"], subject=BENCH_ACTOR)
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}", settings.data_dir)
        return await _api_purchases(port, token, run_id, count, clients, shoppers)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _start_node(
    settings: Settings, node_url: str, shop: str, port: int, workers: int, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """A real node process (``mallnet node``), its settings from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    env |= {
        "MALLNET_ENVIRONMENT": settings.environment,
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
    connections (receipts ``B-<run>-<i>``), after a warm-up of up to 200 (not timed)."""
    sales = Sales(shoppers, first_phone=0)
    auth = {"Authorization": f"Bearer {token}"}
    pool: list[RawClient] = []

    async def purchase(i: int, prefix: str = "B") -> bool:
        client = pool.pop() if pool else RawClient("127.0.0.1", port, auth)
        try:
            sale = sales.next()
            variables = {
                "input": {
                    "receiptId": f"{prefix}-{run_id}-{i}",
                    "phone": sale.phone,
                    "totalRial": sale.amount_rial,
                    "lines": [{"productGroup": "general", "amountRial": sale.amount_rial}],
                }
            }
            status, body = await client.post_json(
                "/graphql", {"query": RECORD_PURCHASE, "variables": variables}
            )
        finally:
            pool.append(client)
        result = (body.get("data") or {}).get("recordPurchase") or {}
        return status == 200 and result.get("__typename") == "PurchaseRecorded"

    await _drive(min(WARM_UP, count), clients, lambda i: purchase(i, "W"))  # warm-up
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


# --- Bare: the node's own purchase use case, without HTTP, GraphQL or tokens ---------------


async def _bare_purchases(
    settings: Settings, shop: str, run_id: str, count: int, clients: int, shoppers: int
) -> Run:
    """``count`` purchases (receipts ``bare-B-<run>-<i>``) through
    ``purchases.record_purchase`` — the call the ``recordPurchase`` resolver makes, with the
    input its ``to_domain`` builds and the token's subject as actor — from ``clients``
    concurrent tasks sharing one runtime, made as the node's app makes it (its engine and
    pool, ``NodeRuntime.start``), after the same warm-up as over HTTP. The same purchases as
    the API side, on the next ``shoppers`` phones. A node problem (the resolver's typed
    answer) is a failure, as it is over HTTP."""
    engine = create_engine(settings.node_db_url(shop), echo=settings.database_echo)
    try:
        node = await NodeRuntime.start(shop, engine, settings)
        sales = Sales(shoppers, first_phone=shoppers)

        async def purchase(i: int, prefix: str = "bare-B") -> bool:
            sale = sales.next()
            data = purchases.PurchaseInput(
                receipt_id=f"{prefix}-{run_id}-{i}",
                total_rial=sale.amount_rial,
                lines=[Line("general", sale.amount_rial)],
                phone=sale.phone,
            )
            try:
                await purchases.record_purchase(node, data, BENCH_ACTOR, None)
            except NodeError:
                return False
            return True

        await _drive(min(WARM_UP, count), clients, lambda i: purchase(i, "bare-W"))  # warm-up
        return await _drive(count, clients, purchase)
    finally:
        await engine.dispose()


async def _check(db_url: str, run_id: str) -> dict[str, Any]:
    """After both sides: how many measured purchases each recorded, how many members each
    enrolled (warm-up included; the sides' phones are disjoint, so the same number shows
    the same workload), and what the node's ledger check (``verify_balances``: cached
    balances against postings, every transaction and asset balanced) finds; an empty
    problem list means the ledger is consistent."""
    engine = create_engine(db_url, pooled=False)
    try:
        async with engine.connect() as conn:
            recorded: dict[str, int] = {}
            enrolled: dict[str, int] = {}
            for side, warm, measured in (("api", "W", "B"), ("bare_database", "bare-W", "bare-B")):
                in_run, in_measured = (
                    Purchase.receipt_id.startswith(f"{prefix}-{run_id}-")
                    for prefix in (warm, measured)
                )
                recorded[side], enrolled[side] = (
                    await conn.execute(
                        select(
                            func.count().filter(in_measured),
                            func.count(Purchase.member_id.distinct()),
                        ).where(in_run | in_measured)
                    )
                ).one()
        async with session_factory(engine)() as session:
            problems = await verify_balances(session)
    finally:
        await engine.dispose()
    return {
        "purchases_recorded": recorded,
        "members_enrolled": enrolled,
        "ledger_problems": problems,
    }


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
