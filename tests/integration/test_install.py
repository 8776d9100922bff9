"""The wheel ships every package, and a non-editable install of it works on its own.

An editable install serves modules straight from the source tree, so it hides a package the
wheel forgot: a hand-written package list once dropped ``shop_node.services`` and
``shop_node.domain``, and ``pip install .`` (what the Dockerfile does) gave a node that could
not import. Here the wheel is built from a copy of what the Dockerfile copies, compared file
by file with the tree, installed non-editable into a fresh virtual environment and used from
a directory outside the repository.

Installing every dependency from the registry would take minutes, so the fresh environment
gets the wheel alone (``--no-deps``) and sees the project environment's site-packages through a
``.pth`` line. A directory named in a ``.pth`` file joins sys.path, but the ``.pth`` files inside
it are not processed: the editable install's finder never loads, and ``hub`` & co. can only
come from the wheel. The test checks that too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from mallnet.migrations import alembic_config

# Builds a wheel, makes a venv, imports ~150 modules and migrates two databases: ~9 s here.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mallnet", "federation", "settlement", "hub", "shop_node")
# What the Dockerfile copies before `pip install .`. graphql/ is among them on purpose: the
# wheel must leave it out (as a package it would shadow graphql-core).
DOCKER_CONTEXT = ("pyproject.toml", "README.md", *PACKAGES, "graphql")
# Imported only in their own context: running the CLI, or inside an Alembic migration run.
# `python -m mallnet --help` and `mallnet migrate` below exercise them.
NOT_IMPORTABLE_ALONE = {"mallnet.__main__", "hub.db.migrations.env", "shop_node.db.migrations.env"}
SHOP = "shop-a"


def _run(
    args: list[str | Path], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH: the installed environment must find everything by itself.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _source_files(tree: Path) -> set[str]:
    """Every file of the packages in `tree`, as wheel paths (no bytecode)."""
    return {
        path.relative_to(tree).as_posix()
        for package in PACKAGES
        for path in (tree / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _module_name(wheel_path: str) -> str:
    parts = wheel_path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy, so that the build's build/ and egg-info never land in the shared tree (a stale
    # build/lib would also put deleted modules back into the wheel).
    tree = tmp_path_factory.mktemp("source")
    for name in DOCKER_CONTEXT:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(origin, tree / name)
    return tree


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build isolation as `pip install .` does it: the backend comes from [build-system].
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source], source)
    (built,) = out.glob("mallnet-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel, non-editable."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", venv], venv)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel],
        venv,
    )
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], venv
        ).stdout.strip()
    )
    dependencies = sysconfig.get_paths()["purelib"]
    (site / "_mallnet_dependencies.pth").write_text(f"{dependencies}\n")
    return venv


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory with no source tree on it or above it."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    assert not cwd.resolve().is_relative_to(ROOT)
    return cwd


def test_the_wheel_holds_every_package_file_and_no_graphql(source: Path, wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if ".dist-info/" not in name}

    assert not {name for name in shipped if name.startswith("graphql/")}
    # Every module, every package (__init__.py) and every data file of the tree, nothing else.
    expected = _source_files(source)
    assert sorted(expected - shipped) == [], "missing from the wheel"
    assert sorted(shipped - expected) == [], "in the wheel but not in the tree"
    # The ones a hand-written package list or forgotten package data once cost us.
    for name in [
        "hub/services/__init__.py",
        "hub/db/migrations/versions/__init__.py",
        "hub/db/migrations/script.py.mako",
        "hub/web/templates/signin.html",
        "shop_node/services/__init__.py",
        "shop_node/domain/__init__.py",
        "shop_node/db/migrations/script.py.mako",
    ]:
        assert name in shipped
    packages = {p.parent.as_posix() for p in map(Path, expected) if p.name == "__init__.py"}
    assert len(packages) >= 20, sorted(packages)


IMPORT_EVERYTHING = """
import importlib, json, sys
from pathlib import Path

names, site, roots = json.loads(sys.argv[1]), Path(sys.argv[2]).resolve(), set(sys.argv[3:])
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:  # report them all, not only the first
        failed[name] = repr(exc)
loaded = {
    name: module.__file__
    for name, module in sys.modules.items()
    if name.partition(".")[0] in roots and getattr(module, "__file__", None)
}
elsewhere = {n: f for n, f in loaded.items() if not Path(f).resolve().is_relative_to(site)}
print(json.dumps({"failed": failed, "loaded": sorted(loaded), "elsewhere": elsewhere}))
"""


def test_every_module_imports_from_the_installed_wheel(
    wheel: Path, installed: Path, outside: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        modules = sorted(
            _module_name(name)
            for name in archive.namelist()
            if name.endswith(".py") and ".dist-info/" not in name
        )
    importable = [name for name in modules if name not in NOT_IMPORTABLE_ALONE]
    python = installed / "bin" / "python"
    site = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], outside
    ).stdout.strip()

    result = _run(
        [python, "-c", IMPORT_EVERYTHING, json.dumps(importable), site, *PACKAGES], outside
    )
    report = json.loads(result.stdout)

    assert report["failed"] == {}
    # Every module came from the fresh environment, none from the source tree.
    assert report["elsewhere"] == {}
    assert set(importable) <= set(report["loaded"])
    assert len(importable) > 100  # the walk really saw the whole wheel


def test_the_installed_command_runs(installed: Path, outside: Path) -> None:
    bin_dir = installed / "bin"

    helped = _run([bin_dir / "mallnet", "--help"], outside)
    assert "migrate" in helped.stdout
    assert "export-schema" in helped.stdout
    # `python -m mallnet` (mallnet/__main__.py) is the same command under another name.
    module_helped = _run([bin_dir / "python", "-m", "mallnet", "--help"], outside)
    assert "python -m mallnet [OPTIONS] COMMAND" in module_helped.stdout
    assert "export-schema" in module_helped.stdout

    located = _run([bin_dir / "python", "-c", "import hub; print(hub.__file__)"], outside)
    assert Path(located.stdout.strip()).resolve().is_relative_to(installed.resolve())

    # The migrations (env.py, versions/) are package data too: they must run from the wheel
    # and reach the same heads as the tree.
    migrated = _run([bin_dir / "mallnet", "migrate", "--shop", SHOP], outside)
    heads = {
        component: ScriptDirectory.from_config(alembic_config(component)).get_current_head()
        for component in ("hub", "node")
    }
    assert f"hub: at {heads['hub']}" in migrated.stdout
    assert f"node {SHOP}: at {heads['node']}" in migrated.stdout
