"""Alembic, driven from code: one migration environment for the hub, one for nodes.

Each environment lives beside the models it migrates (``hub/db/migrations``,
``shop_node/db/migrations``). We hand Alembic an already-open connection from an async engine
so upgrades run inside a running event loop (tests, the app) as well as from the CLI.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from mallnet.db import engine_scope, ensure_database

Component = Literal["hub", "node"]
_PACKAGES: dict[Component, str] = {"hub": "hub.db", "node": "shop_node.db"}


def alembic_config(component: Component) -> Config:
    config = Config()
    location = resources.files(_PACKAGES[component]) / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("path_separator", "os")
    return config


def run_environment(metadata: MetaData) -> None:
    """The body of both ``env.py`` files: migrate on the connection ``upgrade`` opened."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through 'mallnet migrate', which opens the connection")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def head_revision(component: Component) -> str:
    heads = ScriptDirectory.from_config(alembic_config(component)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"{component} migrations have {len(heads)} heads: merge them")
    return heads[0]


def _upgrade(connection: Connection, component: Component, target: str) -> None:
    config = alembic_config(component)
    config.attributes["connection"] = connection
    command.upgrade(config, target)


async def upgrade(component: Component, url: str, target: str = "head") -> str:
    """Create the database if needed, apply migrations up to ``target``; return the revision."""
    await ensure_database(url)
    async with engine_scope(url) as engine:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, component, target)
        async with engine.connect() as conn:
            revision = await current_revision(conn)
    if revision is None:
        raise RuntimeError(f"{component} database at {url} has no revision after upgrade")
    return revision


async def current_revision(conn: AsyncConnection) -> str | None:
    def read(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await conn.run_sync(read)
