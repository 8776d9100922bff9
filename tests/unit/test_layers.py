"""The import rules of the house plan hold, and the check that enforces them really bites.

The contracts live in pyproject.toml ([tool.importlinter]); `lint-imports` checks them. A
contract that can never fail protects nothing, so each one is shown to break on a copy of
the tree with one forbidden import added, and the report must name that import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("mallnet", "federation", "settlement", "hub", "shop_node")


def _contract_names() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return {contract["id"]: contract["name"] for contract in contracts}


def _lint_imports(cwd: Path, *options: str) -> subprocess.CompletedProcess[str]:
    # lint-imports puts its working directory first on sys.path, so in a copy of the tree it
    # analyses the copy, not the editable install of the repo.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", *options],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_repository_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for name in _contract_names().values():
        assert f"{name} KEPT" in report, report


@dataclass(frozen=True)
class Breach:
    contract_id: str
    path: str  # relative to the repository root
    line: str  # appended to the file (or its whole content when the file is new)
    reported: str  # how lint-imports names the offending import
    # Contracts the import breaks on the way: the apps import the core, so an app reached
    # from the core closes a loop that other contracts see as well.
    also_breaks: tuple[str, ...] = ()


BREACHES = [
    Breach(
        "core-no-apps",
        "mallnet/config.py",
        "import hub",
        "mallnet.config -> hub",
        also_breaks=("apps-independent",),
    ),
    Breach(
        "core-no-cli",
        "mallnet/config.py",
        "import mallnet.cli.commands",
        "mallnet.config -> mallnet.cli.commands",
        also_breaks=("hub-layers", "node-layers", "apps-independent"),
    ),
    Breach("hub-layers", "hub/domain/__init__.py", "import hub.api", "hub.domain -> hub.api"),
    Breach("hub-layers", "hub/db/__init__.py", "import hub.services", "hub.db -> hub.services"),
    # A module outside every declared layer escapes the layer check: it must be refused.
    Breach("hub-layers", "hub/helpers.py", "", "hub.helpers"),
    Breach(
        "node-layers",
        "shop_node/domain/__init__.py",
        "import shop_node.services",
        "shop_node.domain -> shop_node.services",
    ),
    Breach(
        "apps-independent",
        "hub/services/__init__.py",
        "import shop_node.domain",
        "hub.services -> shop_node.domain",
    ),
    Breach("federation-no-apps", "federation/__init__.py", "import hub", "federation -> hub"),
    Breach(
        "settlement-alone",
        "settlement/__init__.py",
        "import federation",
        "settlement -> federation",
    ),
    Breach(
        "pure-domains",
        "shop_node/domain/__init__.py",
        "import sqlalchemy",
        "shop_node.domain -> sqlalchemy",
    ),
]


@pytest.fixture(scope="module")
def pristine_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("pristine")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


@pytest.mark.parametrize("breach", BREACHES, ids=lambda b: f"{b.contract_id}:{b.reported}")
def test_an_injected_import_breaks_its_contract(
    breach: Breach, pristine_tree: Path, tmp_path: Path
) -> None:
    # Given a copy of the tree with one forbidden import added
    tree = tmp_path / "tree"
    shutil.copytree(pristine_tree, tree)
    target = tree / breach.path
    if breach.line:
        assert target.is_file(), f"{breach.path} moved: point this case at a file that exists"
        source = target.read_text()
        lines = [*source.splitlines(), breach.line]
        target.write_text("\n".join(lines) + "\n")
        reported = f"{breach.reported} (l.{len(lines)})"
    else:
        target.write_text('"""A module placed in no layer."""\n')
        reported = breach.reported

    # When the linter runs there
    result = _lint_imports(tree, "--no-cache")
    report = result.stdout + result.stderr

    # Then that contract (and only the ones it drags along) is broken, naming the import
    names = _contract_names()
    assert result.returncode == 1, report
    assert reported in report, report
    broken = {cid for cid, name in names.items() if f"{name} BROKEN" in report}
    kept = {cid for cid, name in names.items() if f"{name} KEPT" in report}
    assert broken == {breach.contract_id, *breach.also_breaks}, report
    assert kept == names.keys() - broken, report
