"""The test vector the console's in-browser verification is checked against
(web/src/console/lotteries/drawVector.json, read by fairDraw.test.ts): made by the hub's
own draw (``hub.domain.draw``), so the browser's re-run and the hub's draw agree on one
published record. Regenerate with ``python -m tests.unit.test_draw_vector``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hub.domain import draw

VECTOR = Path(__file__).resolve().parents[2] / "web/src/console/lotteries/drawVector.json"


def vector() -> dict[str, Any]:
    """57 entrants (1-9 tickets), five winners, a public value in Persian (UTF-8), and an
    entrant id ending in a zero byte (numpy drops those; the published id keeps them)."""
    ids = [hashlib.sha256(f"entrant {n}".encode()).hexdigest() for n in range(56)]
    ids.append("ab" * 31 + "00")
    tickets = draw.TicketList.from_pairs((entrant, 1 + n % 9) for n, entrant in enumerate(ids))
    seed = bytes(range(32))
    result = draw.draw(seed, "شاخص بورس ۱۴۰۵/۰۹/۱۴: 2,345,678", tickets, 5)
    return {**draw.published_record(result), "tickets": [list(p) for p in tickets.pairs()]}


def test_the_browsers_vector_is_what_the_hub_draws() -> None:
    published = json.loads(VECTOR.read_text(encoding="utf-8"))
    assert published == vector()
    assert draw.verify(published) == []
    assert len(published["winners"]) == 5


if __name__ == "__main__":
    VECTOR.write_text(json.dumps(vector(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
