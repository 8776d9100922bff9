"""docker-compose.yml is validated offline (no Docker engine here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from mallnet.cli.commands import cli

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def test_compose_file_matches_the_compose_spec() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_whole_network_with_real_commands() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"postgres", "redis", "hub", "worker", "beat"} <= services.keys()
    nodes = [name for name in services if name.startswith("node-")]
    assert len(nodes) >= 3
    commands = {
        c.name or c.callback.__name__.replace("_", "-")
        for c in cli.registered_commands
        if c.callback is not None
    }
    for name, service in services.items():
        command = service.get("command")
        if isinstance(command, list) and command[:1] == ["mallnet"]:
            assert command[1] in commands, f"{name} runs unknown 'mallnet {command[1]}'"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on undefined {dependency}"
    for name in ["hub", *nodes, "worker", "beat"]:
        environment = services[name]["environment"]
        assert environment["MALLNET_ENVIRONMENT"] == "production"
        assert environment["MALLNET_BROKER_URL"].startswith("redis://")
