"""Shared fixtures: embedded settings, real PostgreSQL and Redis with per-test isolation.

Tests marked ``postgres`` or ``redis`` use the real servers. Without them, a plain
``make test`` skips those tests and says so loudly at the end; with
``MALLNET_REQUIRE_SERVICES=1`` (what ``.ci/run`` sets) a missing service fails the run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from mallnet.config import Settings
from mallnet.db import drop_database, engine_scope, ensure_database, session_factory

POSTGRES_URL = os.environ.get(
    "MALLNET_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MALLNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("MALLNET_REQUIRE_SERVICES") == "1"

_skipped: dict[str, list[str]] = {"postgres": [], "redis": []}


@cache
def service_problem(name: str) -> str | None:
    """Why the service cannot be used, or None when it answers."""
    if name == "postgres":
        return asyncio.run(_postgres_problem())
    if name == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
        except redis.RedisError as exc:
            return f"Redis at {REDIS_URL} does not answer ({exc})"
        return None
    raise ValueError(name)


async def _postgres_problem() -> str | None:
    import asyncpg

    plain = make_url(POSTGRES_URL).set(drivername="postgresql")
    try:
        conn = await asyncpg.connect(plain.render_as_string(hide_password=False), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {plain.render_as_string()} does not answer ({exc})"
    await conn.close()
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in ("postgres", "redis"):
        if item.get_closest_marker(name) is None:
            continue
        problem = service_problem(name)
        if problem is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"MALLNET_REQUIRE_SERVICES=1 but {problem}", pytrace=False)
        _skipped[name].append(item.nodeid)
        pytest.skip(problem)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, nodeids in _skipped.items():
        if nodeids:
            terminalreporter.write_sep(
                "!",
                f"SKIPPED {len(nodeids)} tests needing {name}: {service_problem(name)}",
                red=True,
                bold=True,
            )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults under a private data directory."""
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    name = f"mallnet_t_{uuid.uuid4().hex[:16]}"
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    await ensure_database(url)
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def pg_node_url_template(pg_url: str) -> AsyncIterator[str]:
    """A node URL template whose databases are private to this test (dropped afterwards)."""
    import asyncpg

    parsed = make_url(pg_url)
    yield pg_url + "_{shop}"  # the database name ends the URL
    plain = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{parsed.database}\\_%"
        )
    finally:
        await conn.close()
    for row in names:
        await drop_database(parsed.set(database=row["datname"]).render_as_string(False))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix private to this test; its keys are deleted afterwards."""
    import redis

    prefix = f"mallnet-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


async def in_transaction(url: str, work: Any) -> Any:
    """Run ``work(session)`` in one transaction on the database at ``url``."""
    async with (
        engine_scope(url) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        return await work(session)


def in_transaction_sync(url: str, work: Any) -> Any:
    """``in_transaction`` for synchronous tests and fixtures (no running event loop)."""
    return asyncio.run(in_transaction(url, work))


@pytest.fixture
def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` consecutive free TCP ports on loopback."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        if all(_port_free(base + i) for i in range(count)):
            return list(range(base, base + count))
    raise RuntimeError("no run of free ports found")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a node on each backend: embedded SQLite, and real PostgreSQL."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path / "var")
    if service_problem("postgres") is not None:
        return Settings(data_dir=tmp_path / "var")  # the marker skips (or fails) the test
    template: str = request.getfixturevalue("pg_node_url_template")
    return Settings(data_dir=tmp_path / "var", node_database_url=template)


@pytest.fixture
def node(node_settings: Settings) -> Iterator[object]:
    """A migrated node for shop ketab-sara with the test policy, driven over HTTP as a
    manager (tests ask for narrower tokens where scopes matter)."""
    from starlette.testclient import TestClient

    from shop_node.app import create_app
    from shop_node.services.bootstrap import prepare_node

    from .node_client import TEST_POLICY, NodeClient

    asyncio.run(prepare_node(node_settings, "ketab-sara"))
    with TestClient(create_app("ketab-sara", node_settings)) as http:
        client = NodeClient(http, node_settings, "ketab-sara", ["shop:manage"])
        result = client.op("UpdateClubPolicy", document=TEST_POLICY)
        assert result["updateClubPolicy"]["__typename"] == "PolicyUpdated", result
        yield client
