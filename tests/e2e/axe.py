"""Accessibility checks with axe-core (web/node_modules/axe-core, from the npm registry):
inject it into a page and list the violations a person would notice — axe's ``serious`` and
``critical`` impacts — with the elements they were found on, so a failing test says what to
fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = frozenset({"serious", "critical"})
# WCAG 2.1 A and AA, and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def violations(page: Any) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now, each with its impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, which the page's
        # Content-Security-Policy (script-src 'self', no inline scripts) does not govern;
        # a <script> tag would be refused, as it should be.
        page.evaluate(f"() => {{ {AXE_JS.read_text(encoding='utf-8')}\n }}")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return list(result["violations"])


def serious_violations(page: Any) -> list[str]:
    """The serious and critical violations as readable lines (empty when there are none)."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"][:5])
        + f" — {v['nodes'][0].get('failureSummary', '')}"
        for v in violations(page)
        if v.get("impact") in SERIOUS
    ]
