"""Secrets handled as secrets (issue 15): ``mallnet config`` shows none, production refuses
missing, default and short ones, the long-running commands refuse to guess their
environment, and docker-compose.yml carries no usable default."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mallnet.cli import commands
from mallnet.config import InsecureSettings, Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "q7Vx2kLp9RzT4wYb8NcH3mJf6GdS1aEu"  # 32 characters, not a default
SECRETS = {
    "MALLNET_NETWORK_KEY": "net-key-Zq81Lm2vXc7Rt5Yp0Wb3",
    "MALLNET_DEV_TOKEN_SECRET": "dev-secret-Hs4Kd9Jf2Lg6Mn1Pq",
    "MALLNET_KEY_ENCRYPTION_KEY": "kek-Rr7Tt3Yy9Uu2Ii8Oo4Pp1Aa5Ss6Dd0Ff",
    "MALLNET_PREVIOUS_KEY_ENCRYPTION_KEY": "old-kek-Gg5Hh2Jj8Kk4Ll1Zz7Xx3Cc9Vv6Bb",
}
REQUIRED_IN_COMPOSE = ("MALLNET_DB_PASSWORD", "MALLNET_NETWORK_KEY", "MALLNET_KEY_ENCRYPTION_KEY")
DB_PASSWORD = "pg-Pw-3kd83jdK"
REDIS_PASSWORD = "redis-Pw-77aLq0"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    for name in list(os.environ):
        if name.startswith("MALLNET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MALLNET_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()  # read again, from this environment


def test_config_output_holds_no_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_settings: None
) -> None:
    _set(
        monkeypatch,
        tmp_path,
        **SECRETS,
        MALLNET_HUB_DATABASE_URL=f"postgresql+asyncpg://mallnet:{DB_PASSWORD}@db/hub",
        MALLNET_NODE_DATABASE_URL=f"postgresql+asyncpg://mallnet:{DB_PASSWORD}@db/node_{{shop}}",
        MALLNET_BROKER_URL=f"redis://:{REDIS_PASSWORD}@redis:6379/0",
        MALLNET_RESULT_BACKEND=f"redis://default:{REDIS_PASSWORD}@redis:6379/1",
        MALLNET_RATE_LIMIT_STORAGE=f"redis://:{REDIS_PASSWORD}@redis:6379/2",
    )
    result = CliRunner().invoke(commands.cli, ["config"])
    assert result.exit_code == 0, result.output
    for secret in [*SECRETS.values(), DB_PASSWORD, REDIS_PASSWORD]:
        assert secret not in result.output
    # What is not secret is still shown, so the output stays useful.
    assert "hub database = postgresql+asyncpg://mallnet:***@db/hub" in result.output
    assert "celery broker = redis://:***@redis:6379/0" in result.output
    assert "rate_limit_storage = redis://:***@redis:6379/2" in result.output
    assert "network_key = ***" in result.output
    assert f"data_dir = {tmp_path}" in result.output


def test_every_secret_setting_is_redacted_by_name() -> None:
    """A secret added later is hidden without anyone remembering to list it."""

    class Later(Settings):
        sms_api_key: str = "s3cr3t-sms"
        telegram_bot_token: str = "s3cr3t-bot"
        smtp_password: str = "s3cr3t-smtp"

    shown = Later(network_key="s3cr3t-net", dev_token_secret="s3cr3t-dev").redacted()
    assert "s3cr3t" not in repr(shown)
    assert shown["redis_key_prefix"] == ""  # a key prefix is no key
    assert shown["key_encryption_key_file"] is None  # where a secret is, is no secret


@pytest.mark.parametrize(
    ("network_key", "reason"),
    [
        (None, "MALLNET_NETWORK_KEY is not set"),
        ("change-me-network-key", "known default"),
        ("change-me", "known default"),
        ("CHANGE-ME-please-0123456789abcdefghij", "known default"),
        ("short-but-random-Xk29", "fewer than 32"),
        ("a" * 40, "too few characters"),
    ],
)
def test_production_refuses_missing_default_and_short_network_keys(
    tmp_path: Path, network_key: str | None, reason: str
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        environment="production",
        network_key=network_key,
        key_encryption_key="x" * 44,
    )
    with pytest.raises(InsecureSettings, match=re.escape(reason)):
        settings.require_safe_secrets("node")


def test_production_hub_needs_a_key_encryption_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, environment="production", network_key=STRONG_KEY)
    settings.require_safe_secrets("node")  # nodes hold no signing key
    with pytest.raises(InsecureSettings, match="MALLNET_KEY_ENCRYPTION_KEY"):
        settings.require_safe_secrets("hub")
    Settings(
        data_dir=tmp_path,
        environment="production",
        network_key=STRONG_KEY,
        key_encryption_key_file=tmp_path / "kek",
    ).require_safe_secrets("hub")


def test_development_needs_no_secret(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, environment="development").production_problems("hub") == []


class _Started(Exception):
    pass


@pytest.fixture
def no_servers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record instead of serving, so a command that should have refused fails fast."""
    from mallnet.celery_app import app

    started: list[str] = []
    monkeypatch.setattr(commands.uvicorn, "run", lambda *a, **k: started.append("uvicorn"))
    monkeypatch.setattr(app, "worker_main", lambda *a, **k: started.append("worker"))
    monkeypatch.setattr(app, "start", lambda *a, **k: started.append("beat"))
    monkeypatch.setattr("hub.app.create_app", lambda *a, **k: None)
    monkeypatch.setattr("shop_node.app.create_app", lambda *a, **k: None)
    return started


COMMANDS = [["hub"], ["node", "--shop", "ketab-sara"], ["worker"], ["beat"]]


REFUSED = {
    "unset": ({}, "MALLNET_ENVIRONMENT is not set"),
    "compose-default-key": (
        {
            "MALLNET_ENVIRONMENT": "production",
            "MALLNET_NETWORK_KEY": "change-me-network-key",
            "MALLNET_KEY_ENCRYPTION_KEY": "x" * 44,
        },
        "MALLNET_NETWORK_KEY is a known default",
    ),
}


@pytest.mark.parametrize("refused", REFUSED)
@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_serving_commands_refuse_to_start(
    argv: list[str],
    refused: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fresh_settings: None,
    no_servers: list[str],
) -> None:
    """No environment named, or production with the compose file's default network key:
    every serving command stops before it serves."""
    environment, why = REFUSED[refused]
    _set(monkeypatch, tmp_path, **environment)
    result = CliRunner().invoke(commands.cli, argv)
    assert no_servers == []
    assert result.exit_code == 2
    assert why in result.output


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_serving_commands_start_when_told_the_environment(
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fresh_settings: None,
    no_servers: list[str],
) -> None:
    _set(monkeypatch, tmp_path, MALLNET_ENVIRONMENT="development")
    result = CliRunner().invoke(commands.cli, argv)
    assert result.exit_code == 0, result.output
    assert len(no_servers) == 1


def _environments(compose: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for service_name, service in compose["services"].items():
        for name, value in (service.get("environment") or {}).items():
            yield service_name, name, str(value)


def test_compose_file_has_no_usable_default_secret() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    assert "change-me" not in text
    # Every interpolated variable is required (${X:?...}), never defaulted (${X:-...}).
    assert re.findall(r"\$\{[A-Z_]+:-", text) == []
    secret = re.compile(r"PASSWORD|NETWORK_KEY|ENCRYPTION_KEY|SECRET")
    seen = set()
    for service, name, value in _environments(compose):
        if secret.search(name):
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{service}: {name}={value}"
            seen.add(name)
        for url in re.findall(r"[a-z+]+://[^\s]+", value):
            password = re.match(r"[a-z+]+://[^:/@]*:([^@]*)@", url)
            if password:
                assert password.group(1).startswith("${"), f"{service}: {name} has a password"
    assert {"POSTGRES_PASSWORD", "MALLNET_NETWORK_KEY", "MALLNET_KEY_ENCRYPTION_KEY"} <= seen
    # Only the hub (and the migration that wraps old keys) is given the key-encryption key.
    holders = {s for s, name, _ in _environments(compose) if name == "MALLNET_KEY_ENCRYPTION_KEY"}
    assert holders == {"hub", "migrate"}


def test_env_example_lists_every_required_variable_empty() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", compose))
    example = (ROOT / ".env.example").read_text()
    assigned = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, flags=re.MULTILINE))
    assert required == set(assigned)
    assert set(assigned.values()) == {""}  # nothing usable to copy blindly


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_compose_refuses_to_start_without_the_secrets() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    command = ["docker-compose", "--project-directory", str(ROOT), "config", "-q"]
    refused = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "set MALLNET_" in refused.stderr
    env |= dict.fromkeys(REQUIRED_IN_COMPOSE, "x")
    accepted = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert accepted.returncode == 0, accepted.stderr


def test_production_refuses_weak_webhook_secrets(tmp_path: Path) -> None:
    """A weak webhook secret lets anyone forge a Telegram contact or a «لغو» reply (review
    finding F5): refused in production, as a weak network key is."""
    base = {
        "data_dir": tmp_path,
        "environment": "production",
        "network_key": STRONG_KEY,
        "key_encryption_key": "x" * 44,
    }
    weak = Settings(
        **base,  # type: ignore[arg-type]
        telegram_bot_token="123456:" + "a" * 35,
        telegram_webhook_secret="secret",
        kavenegar_hook_secret="short",
        sms_shop_accounts_secret={"kafsh-arya": {"api_key": "k", "hook_secret": "abc"}},
    )
    problems = " ".join(weak.production_problems("hub"))
    for named in (
        "MALLNET_TELEGRAM_WEBHOOK_SECRET",
        "MALLNET_KAVENEGAR_HOOK_SECRET",
        "hook_secret of kafsh-arya",
    ):
        assert named in problems
    no_secret = Settings(**base, telegram_bot_token="123456:" + "a" * 35)  # type: ignore[arg-type]
    assert "without MALLNET_TELEGRAM_WEBHOOK_SECRET" in " ".join(
        no_secret.production_problems("hub")
    )
    strong = Settings(
        **base,  # type: ignore[arg-type]
        telegram_bot_token="123456:" + "a" * 35,
        telegram_webhook_secret=STRONG_KEY,
        kavenegar_hook_secret=STRONG_KEY[::-1],
    )
    assert strong.production_problems("hub") == []
