"""Shared fixtures: embedded settings, real PostgreSQL and Redis with per-test isolation.

Tests marked ``postgres`` or ``redis`` use the real servers. Without them, a plain
``make test`` skips those tests and says so loudly at the end; with
``MALLNET_REQUIRE_SERVICES=1`` (what ``.ci/run`` sets) a missing service fails the run.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from mallnet.config import Settings
from mallnet.db import drop_database, engine_scope, ensure_database, is_sqlite, session_factory
from mallnet.migrations import upgrade

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


# --- Hub databases on both backends ----------------------------------------------------------
#
# The hub's integration tests run on SQLite (the embedded default) and on PostgreSQL (what
# production runs, with its row locks, COPY and ON CONFLICT paths). Each test gets fresh
# databases copied from a template prepared once per session: measured here, migrating a hub
# takes 0.55 s on PostgreSQL (0.15 s on SQLite) while CREATE DATABASE ... TEMPLATE takes
# 0.18 s (STRATEGY FILE_COPY 0.26 s) and copying a SQLite file a millisecond.

HubPrepare = Callable[[str], Awaitable[Any]]


async def migrated_hub(url: str) -> None:
    """The plainest hub: migrated, nothing registered."""
    await upgrade("hub", url)


@dataclass(frozen=True)
class HubDatabase:
    url: str
    data: Any  # what the preparer returned (e.g. the credentials of the shops it registered)


def _pg_maintenance_dsn() -> str:
    plain = make_url(POSTGRES_URL).set(drivername="postgresql", database="postgres")
    return plain.render_as_string(hide_password=False)


def _pg_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _copy_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        origin = source.with_name(source.name + suffix)
        if origin.exists():
            shutil.copyfile(origin, target.with_name(target.name + suffix))


class HubTemplates:
    """Hub databases prepared once per session, per backend and preparer, to copy from."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.run_id = uuid.uuid4().hex[:8]
        self.made: dict[tuple[str, HubPrepare], HubDatabase] = {}

    async def get(self, backend: str, prepare: HubPrepare) -> HubDatabase:
        # Keyed by the preparer itself: give module-level functions, not lambdas, or every
        # call prepares a template of its own.
        key = (backend, prepare)
        if key not in self.made:
            number = len(self.made)
            if backend == "sqlite":
                url = f"sqlite+aiosqlite:///{self.root / f'hub-{number}.sqlite'}"
            else:
                # mallnet_t_ like pg_url's databases, so one clean-up finds both.
                url = _pg_url(f"mallnet_t_tmpl_{self.run_id}_{number}")
                await ensure_database(url)
            self.made[key] = HubDatabase(url, await prepare(url))
        return self.made[key]

    async def drop(self) -> None:
        for (backend, _), template in self.made.items():
            if backend == "postgres":
                await drop_database(template.url)


class HubDatabases:
    """Fresh hub databases for one test on one backend, each a copy of a template."""

    def __init__(self, backend: str, templates: HubTemplates, tmp_path: Path) -> None:
        self.backend = backend
        self.templates = templates
        self.tmp_path = tmp_path
        self.made: list[str] = []
        # Never reused: a dropped SQLite copy may leave a -wal file behind that would be
        # replayed into a new copy of the same name.
        self.numbers = itertools.count()

    async def new(
        self, prepare: HubPrepare = migrated_hub, *, sqlite_path: Path | None = None
    ) -> HubDatabase:
        """A hub database as ``prepare`` leaves one (at ``sqlite_path`` on SQLite, where a
        Settings' default URL finds it)."""
        template = await self.templates.get(self.backend, prepare)
        if self.backend == "sqlite":
            target = sqlite_path or self.tmp_path / f"hub-{next(self.numbers)}.sqlite"
            _copy_sqlite(Path(make_url(template.url).database or ""), target)
            url = f"sqlite+aiosqlite:///{target}"
        else:
            name = f"mallnet_t_{uuid.uuid4().hex[:16]}"
            source = make_url(template.url).database or ""
            conn = await asyncpg.connect(_pg_maintenance_dsn())
            try:
                await conn.execute(f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(source)}")
            finally:
                await conn.close()
            url = _pg_url(name)
        self.made.append(url)
        return HubDatabase(url, template.data)

    def new_sync(
        self, prepare: HubPrepare = migrated_hub, *, sqlite_path: Path | None = None
    ) -> HubDatabase:
        """``new`` for synchronous tests and fixtures (no running event loop)."""
        return asyncio.run(self.new(prepare, sqlite_path=sqlite_path))

    def settings_for(
        self, prepare: HubPrepare, data_dir: Path, hub_url: str
    ) -> tuple[Settings, HubDatabase]:
        """Settings for a hub served at ``hub_url`` over a new database as ``prepare``
        leaves one: the embedded SQLite file under ``data_dir``, or a PostgreSQL copy."""
        embedded = Settings(data_dir=data_dir, hub_url=hub_url)
        made = self.new_sync(prepare, sqlite_path=embedded.sqlite_path("hub"))
        if is_sqlite(made.url):
            return embedded, made
        return Settings(data_dir=data_dir, hub_url=hub_url, hub_database_url=made.url), made

    async def drop(self, url: str) -> None:
        """Done with this database (a property test's example): drop it now."""
        await drop_database(url)  # nothing to do on SQLite: tmp_path goes away
        self.made.remove(url)

    async def drop_all(self) -> None:
        for url in self.made:
            await drop_database(url)
        self.made.clear()


@pytest.fixture(scope="session")
def hub_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubTemplates]:
    templates = HubTemplates(tmp_path_factory.mktemp("hub-templates"))
    yield templates
    asyncio.run(templates.drop())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_databases(
    request: pytest.FixtureRequest, hub_templates: HubTemplates, tmp_path: Path
) -> Iterator[HubDatabases]:
    """Fresh hub databases on each backend: embedded SQLite, and real PostgreSQL."""
    databases = HubDatabases(request.param, hub_templates, tmp_path)
    yield databases
    asyncio.run(databases.drop_all())


@pytest.fixture
def pg_hub_databases(hub_templates: HubTemplates, tmp_path: Path) -> Iterator[HubDatabases]:
    """Fresh hub databases on PostgreSQL only, for tests of its row locks under concurrency
    (mark them ``postgres``)."""
    databases = HubDatabases("postgres", hub_templates, tmp_path)
    yield databases
    asyncio.run(databases.drop_all())


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
