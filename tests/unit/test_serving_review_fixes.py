"""The environment is checked at every way of starting a server, not only in the CLI
(security review, issue 15): an ASGI factory (``uvicorn hub.app:create_app --factory``,
``shop_node.app:app_from_env``) and Celery's own worker and beat (``celery -A
mallnet.celery_app worker``) refuse an unset ``MALLNET_ENVIRONMENT`` and, in production,
a default secret; apps built in-process from ``Settings`` are not checked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import signals

from hub.app import create_app as create_hub
from mallnet.config import Settings, get_settings
from shop_node.app import app_from_env as node_from_env


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The process environment without any MALLNET_ setting but a data directory (and the
    node's shop); what a test adds is read afresh."""
    for name in list(os.environ):
        if name.startswith("MALLNET_"):
            monkeypatch.delenv(name)
    extra = {"MALLNET_DATA_DIR": str(tmp_path / "var"), "MALLNET_SHOP": "ketab-sara"}
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield extra
    get_settings.cache_clear()


def _worker_init() -> None:
    signals.worker_init.send(sender=None)


def _beat_init() -> None:
    signals.beat_init.send(sender=None)


STARTS: dict[str, Callable[[], object]] = {
    "hub-factory": create_hub,
    "node-factory": node_from_env,
    "celery-worker": _worker_init,
    "celery-beat": _beat_init,
}


@pytest.mark.parametrize("start", STARTS.values(), ids=list(STARTS))
def test_every_entry_point_refuses_an_unset_environment(
    start: Callable[[], object], environment: dict[str, str]
) -> None:
    import mallnet.celery_app  # noqa: F401  (connects the Celery signals)

    with pytest.raises(SystemExit, match="MALLNET_ENVIRONMENT is not set"):
        start()


@pytest.mark.parametrize("start", STARTS.values(), ids=list(STARTS))
def test_every_entry_point_refuses_a_default_secret_in_production(
    start: Callable[[], object], environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mallnet.celery_app  # noqa: F401

    monkeypatch.setenv("MALLNET_ENVIRONMENT", "production")
    monkeypatch.setenv("MALLNET_NETWORK_KEY", "change-me-network-key")
    monkeypatch.setenv("MALLNET_KEY_ENCRYPTION_KEY", "x" * 44)
    get_settings.cache_clear()
    with pytest.raises(SystemExit, match="MALLNET_NETWORK_KEY is a known default"):
        start()


def test_the_celery_signals_pass_a_development_environment_said_explicitly(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mallnet.celery_app  # noqa: F401

    monkeypatch.setenv("MALLNET_ENVIRONMENT", "development")
    get_settings.cache_clear()
    _worker_init()
    _beat_init()


def test_an_app_built_from_settings_is_not_checked(
    environment: dict[str, str], tmp_path: Path
) -> None:
    assert create_hub(Settings(data_dir=tmp_path / "var")) is not None


def test_uvicorn_with_the_hub_factory_exits_saying_why(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    env["MALLNET_DATA_DIR"] = str(tmp_path / "var")
    argv = [sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory", "--port", "0"]
    try:
        ran = subprocess.run(argv, env=env, capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("the hub started serving with MALLNET_ENVIRONMENT unset")
    assert ran.returncode != 0
    assert b"MALLNET_ENVIRONMENT is not set" in ran.stderr
