"""Fixtures of the federation tests: a hub database with two registered shops, on SQLite and
on PostgreSQL (the nodes stay on SQLite: their own tests cover them on both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from federation.client import HubConnection
from hub.services import registry
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.migrations import upgrade

from ..conftest import HubDatabases, free_ports, in_transaction_sync

SHOPS = ("ketab-sara", "kafsh-arya")


def _hub_db(settings: Settings, work: Any) -> Any:
    return in_transaction_sync(settings.hub_db_url, work)


async def _hub_with_two_shops(url: str) -> dict[str, registry.IssuedCredentials]:
    """The template of ``network``: a migrated hub, two shops registered (their node
    credentials returned)."""
    await upgrade("hub", url)
    creds = {}
    async with engine_scope(url) as engine, session_factory(engine)() as session:
        for slug in SHOPS:
            async with session.begin():
                data = registry.ShopInput(slug, slug, slug, "books")
                creds[slug] = (await registry.register_shop(session, data))[1]
    return creds


@pytest.fixture
def network(tmp_path: Path, hub_databases: HubDatabases) -> tuple[Settings, dict[str, Any]]:
    port = free_ports(1)[0]
    data_dir = tmp_path / "var"
    hub_url = f"http://127.0.0.1:{port}"
    settings, hub = hub_databases.settings_for(_hub_with_two_shops, data_dir, hub_url)
    # A copy: tests add shops of their own to it.
    return settings, {"port": port, "creds": dict(hub.data)}


def _connection(
    network: tuple[Settings, dict[str, Any]], slug: str = "ketab-sara"
) -> HubConnection:
    settings, info = network
    creds = info["creds"][slug]
    return HubConnection(settings.public_hub_url, creds.client_id, creds.client_secret)
