"""Secrets after the second security review (issue 15): ``mallnet config`` hides database
and broker passwords of every shape (``/``, ``?``, ``#`` or ``@`` inside, or a
``?password=`` parameter)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mallnet.cli import commands
from mallnet.config import Settings, get_settings, redact_url

PASSWORD = "pg/Pw?3k#d8@3jdK"  # every character that cut the old parser short
URLS = {
    "MALLNET_HUB_DATABASE_URL": f"postgresql+asyncpg://mallnet:{PASSWORD}@db:5432/hub",
    "MALLNET_NODE_DATABASE_URL": (
        "postgresql+asyncpg://mallnet@db/node_{shop}?password=qUeRy-Pw-9x&ssl=require"
    ),
    "MALLNET_BROKER_URL": "redis://:rEdIs/Pw#1@redis:6379/0",
    "MALLNET_RESULT_BACKEND": "redis://redis:6379/1?password=bAcKeNd-Pw",
}
SECRETS = ("pg/Pw", "3jdK", "qUeRy-Pw-9x", "rEdIs/Pw", "bAcKeNd-Pw")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("MALLNET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MALLNET_DATA_DIR", str(tmp_path))
    for name, value in URLS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_config_output_hides_passwords_of_every_shape(environment: None) -> None:
    result = CliRunner().invoke(commands.cli, ["config"])
    assert result.exit_code == 0, result.output
    for secret in SECRETS:
        assert secret not in result.output
    assert "postgresql+asyncpg://mallnet:***@db:5432/hub" in result.output
    assert "node_{shop}?password=***&ssl=require" in result.output


def test_redacted_settings_hold_no_password(tmp_path: Path) -> None:
    shown = str(
        Settings(data_dir=tmp_path, hub_database_url=URLS["MALLNET_HUB_DATABASE_URL"]).redacted()
    )
    assert "pg/Pw" not in shown
    assert "3jdK" not in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p@ss@host/db?token=abc&x=1", "postgresql://u:***@host/db?token=***&x=1"),
        ("redis://:pw@host:port/0", "redis://:***@host:port/0"),
        ("redis://host/0?sslpassword=zz", "redis://host/0?sslpassword=***"),
        ("redis://redis:6379/0", "redis://redis:6379/0"),
        ("sqlite+aiosqlite:////var/hub.sqlite", "sqlite+aiosqlite:////var/hub.sqlite"),
        ("not a url", "not a url"),
    ],
)
def test_urls_are_redacted_whatever_parses_them(url: str, shown: str) -> None:
    assert redact_url(url) == shown
