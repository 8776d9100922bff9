"""graphql/*.graphql is generated from the code; this fails when someone forgot to export."""

from __future__ import annotations

from pathlib import Path

from mallnet.cli.sdl import export_all, render, schemas

GRAPHQL_DIR = Path(__file__).resolve().parents[2] / "graphql"


def test_committed_sdl_matches_the_code() -> None:
    stale = export_all(GRAPHQL_DIR, write=False)
    assert stale == [], f"run 'mallnet export-schema' (make schema): {stale} differ from the code"


def test_drift_is_detected(tmp_path: Path) -> None:
    for name, schema in schemas().items():
        (tmp_path / name).write_text(render(schema).replace("serverInfo", "serverinfo"))
    assert sorted(p.name for p in export_all(tmp_path, write=False)) == [
        "hub.graphql",
        "node.graphql",
    ]


def test_graphql_folder_holds_no_python() -> None:
    # An __init__.py here would shadow graphql-core and break strawberry.
    assert not list(GRAPHQL_DIR.rglob("*.py"))
