"""Fixtures of the federation tests: a hub database with two registered shops."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from federation.client import HubConnection
from hub.services import registry
from mallnet.config import Settings
from mallnet.migrations import upgrade

from ..conftest import free_ports, in_transaction_sync


def _hub_db(settings: Settings, work: Any) -> Any:
    return in_transaction_sync(settings.hub_db_url, work)


@pytest.fixture
def network(tmp_path: Path) -> tuple[Settings, dict[str, Any]]:
    port = free_ports(1)[0]
    settings = Settings(data_dir=tmp_path / "var", hub_url=f"http://127.0.0.1:{port}")
    asyncio.run(upgrade("hub", settings.hub_db_url))
    creds = {}
    for slug in ("ketab-sara", "kafsh-arya"):
        data = registry.ShopInput(slug, slug, slug, "books")
        creds[slug] = _hub_db(settings, lambda s, d=data: registry.register_shop(s, d))[1]
    return settings, {"port": port, "creds": creds}


def _connection(
    network: tuple[Settings, dict[str, Any]], slug: str = "ketab-sara"
) -> HubConnection:
    settings, info = network
    creds = info["creds"][slug]
    return HubConnection(settings.public_hub_url, creds.client_id, creds.client_secret)
