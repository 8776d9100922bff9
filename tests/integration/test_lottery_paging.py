"""The public ticket list of a drawn lottery is read a page at a time, from storage.

Before, every ``lotteryTickets`` call loaded the whole frozen list (40 bytes an entrant:
40 MB at a million entrants) to answer one page, so fifty aliases of it over a large
lottery needed gigabytes. Now a page reads only its own bytes, a page is at most 10,000
entrants, and paging through gives back the whole published list, as the digest says.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app as create_hub
from hub.db.models import Lottery, LotteryTicketList
from hub.domain import draw
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow

from ..conftest import HubDatabases

ENTRANTS = 25_003  # three full pages and a short one; 1 MB of list
PAGE = 10_000


async def _drawn_lottery(url: str) -> draw.TicketList:
    tickets = draw.TicketList.from_pairs(
        (draw.new_entrant_id(), 1 + n % 7) for n in range(ENTRANTS)
    )
    seed, now = draw.new_seed(), utcnow()
    async with engine_scope(url) as engine, session_factory(engine)() as session:
        session.add(
            Lottery(
                id="L-BIG",
                name_fa="قرعه‌کشی بزرگ",
                name_en="big draw",
                starts_at=now - dt.timedelta(days=3),
                ends_at=now - dt.timedelta(days=1),
                draw_at=now - dt.timedelta(days=1),
                rules={"rial_per_ticket": 100_000},
                prizes=[{"count": 1, "description_fa": "کارت هدیه"}],
                seed_hex=seed.hex(),
                commitment=draw.commit(seed),
                public_value="index 1,234",
                status="drawing",
                stage="frozen",
                list_digest=draw.list_digest(tickets),
                entrants=len(tickets),
                total_tickets=tickets.total,
                created_by="test",
                created_at=now - dt.timedelta(days=3),
            )
        )
        await session.flush()
        session.add(
            LotteryTicketList(lottery_id="L-BIG", entrants=len(tickets), data=draw.encode(tickets))
        )
        await session.commit()
    return tickets


QUERY = """query($id: String!, $after: Int!, $first: Int!) {
  lotteryTickets(lotteryId: $id, after: $after, first: $first) { position entrantId tickets } }"""


async def test_lottery_tickets_are_paged_from_storage_and_page_back_to_the_whole_list(
    hub_databases: HubDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a drawn lottery of 25,003 entrants (a 1 MB frozen list),
    url = (await hub_databases.new()).url
    tickets = await _drawn_lottery(url)
    decoded: list[int] = []
    decode = draw.decode

    def counting(data: bytes, *args: Any) -> draw.TicketList:
        decoded.append(len(data))
        return decode(data, *args)

    monkeypatch.setattr(draw, "decode", counting)
    app = create_hub(Settings(data_dir=tmp_path / "var", hub_database_url=url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

            async def page(after: int, first: int = PAGE) -> Any:
                variables = {"id": "L-BIG", "after": after, "first": first}
                answer = await client.post(
                    "/graphql", json={"query": QUERY, "variables": variables}
                )
                return answer.json()

            # when anyone pages through its published list,
            pairs: list[tuple[str, int]] = []
            while entries := (await page(len(pairs)))["data"]["lotteryTickets"]:
                assert [e["position"] for e in entries] == list(
                    range(len(pairs), len(pairs) + len(entries))
                )
                pairs += [(e["entrantId"], e["tickets"]) for e in entries]
            # then it has the whole list, as its digest says (enough to re-run the draw),
            assert pairs == list(tickets.pairs())
            assert draw.list_digest(draw.TicketList.from_pairs(pairs)) == draw.list_digest(tickets)
            # each page read only its own bytes from storage, never the whole list,
            assert decoded == [PAGE * 40, PAGE * 40, 5_003 * 40, 0]
            # a page far past the end is empty,
            assert (await page(2_000_000_000))["data"]["lotteryTickets"] == []
            # and a page over 10,000 entrants is refused, not cut short.
            refused = await page(0, PAGE + 1)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"
