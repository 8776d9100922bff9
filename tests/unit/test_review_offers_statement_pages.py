"""Review of commit ecc8e04: the node gathers a statement's lines page by page for its
CSV and PDF (``HubConnection.whole_settlement_statement``) for as long as the hub says
there are more (``lineCount``). A hub (or anything answering as it) that reports a large
lineCount and sends short pages keeps the node asking, one round trip per line, and
holding every line in memory. The review expects the node to refuse a page that is
shorter than it asked for while lines remain (or a lineCount above a sane bound)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from federation.client import STATEMENT_PAGE, HubConnection, HubUnavailable

LINE = {"kind": "redeemed_here", "ref": "redemption:1"}


class ShortPagesHub(HubConnection):
    """Answers every page with one line and a statement of ``count`` lines."""

    def __init__(self, count: int) -> None:
        super().__init__("http://hub.invalid", "node", "secret")
        self.count, self.calls = count, 0

    async def settlement_statement(
        self, period_id: int, first: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(0)  # a real hub is a round trip away
        return {"lineCount": self.count, "lines": [dict(LINE)]}


def test_short_pages_do_not_keep_the_node_asking() -> None:
    hub = ShortPagesHub(5_000)
    # refusing the misbehaving answer is what the review expects
    with contextlib.suppress(HubUnavailable):
        asyncio.run(hub.whole_settlement_statement(7))
    # 5,000 lines at 200 a page is 25 pages; found: 5,000 calls
    assert hub.calls <= -(-5_000 // STATEMENT_PAGE) + 1, f"{hub.calls} calls to the hub"


@pytest.mark.parametrize("count", [2_000_000_000])
def test_an_absurd_line_count_is_refused_up_front(count: int) -> None:
    hub = ShortPagesHub(count)

    async def bounded() -> None:
        # a node that believes the hub asks ten million times; give it a second
        await asyncio.wait_for(hub.whole_settlement_statement(7), timeout=1.0)

    with pytest.raises(HubUnavailable):
        asyncio.run(bounded())
