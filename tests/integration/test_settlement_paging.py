"""Settlement statements and periods page on the server: the hub gives a statement's lines
``first`` (1-200) after ``offset`` with ``lineCount`` and totals over every line; a node asks
the hub for just the page its staff ask for, and still renders CSV and PDF from every line
(asked 200 at a time). On both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from federation.client import HubConnection
from federation.ids import new_event_id
from hub.app import create_app as create_hub
from hub.domain.value_rules import GENERAL
from hub.services import registry, settlement, value
from mallnet.cli.sdl import operation_document
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.devtokens import issue
from mallnet.scopes import Scope
from settlement.render import parse_csv_lines
from settlement.statements import CORRECTION, REDEEMED_HERE, SPENT_ELSEWHERE
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _hub_db
from .test_settlement_api import BOOKS, SHOES, _close_due, _gql, _token


def _spend_many(settings: Settings, spends: list[tuple[str, str, int, str]]) -> None:
    """(issuer, redeeming shop, Rial, receipt) captures, each matched by its purchase
    event, in one transaction."""

    async def work(session: Any) -> None:
        for issuer, at, rial, receipt in spends:
            who = receipt.encode().hex().ljust(64, "0")[:64]
            expires = utcnow() + dt.timedelta(days=30)
            await value.issue(
                session,
                value.IssueInput(
                    pseudonym=who,
                    kind=GENERAL,
                    issuer=issuer,
                    amount=rial,
                    expires_at=expires,
                    reason="test",
                    origin="test",
                    key=f"lot-{receipt}",
                ),
            )
            held = await value.hold(session, at, value.HoldInput(who, rial, receipt, receipt))
            await value.capture(session, at, held.hold.id, purchase_ref=receipt)
            claim = value.PurchaseClaim(at, new_event_id(), receipt, who, held.hold.id, rial)
            assert await value.match_purchase(session, claim, utcnow()) is None

    _hub_db(settings, work)


def _close(settings: Settings) -> int:
    period = _hub_db(settings, lambda s: settlement.cut(s, "test"))
    assert _close_due(settings) == [period.id]
    return int(period.id)


def _finance(settings: Settings, hub: str) -> str:
    finance = _hub_db(
        settings,
        lambda s: registry.create_client(
            s, kind="service", name="finance", scopes=[Scope.MALL_SETTLEMENT]
        ),
    )
    return _token(hub, finance.client_id, finance.client_secret, "mall:settlement")


def _statement(hub: str, token: str, period: int, **page: int) -> dict[str, Any]:
    answer = _gql(hub, token, "ShopStatement", periodId=period, shop=BOOKS, **page)
    assert "errors" not in answer, answer
    found: dict[str, Any] = answer["data"]["settlementStatement"]
    return found


def _code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


def _ask(hub: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(
        f"{hub}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return dict(body)


TOTALS = ("grossReceivableRial", "feesRial", "grossPayableRial", "positionRial", "digest")


def test_the_hub_pages_a_statements_lines_and_keeps_its_totals_over_every_line(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    # Given a first period, and a correction of it that the second close books
    _spend_many(settings, [(BOOKS, SHOES, 10_000, "P1-1")])
    first_period = _close(settings)
    fix = settlement.CorrectionInput(BOOKS, 700, "fee over-charged", "fix-paging")
    _hub_db(settings, lambda s: settlement.post_correction(s, fix, "test"))
    # and a second period with captures both ways: seven lines for the bookshop.
    spends = [(BOOKS, SHOES, 10_000 * (n + 1), f"S-{n}") for n in range(4)]
    spends += [(SHOES, BOOKS, 5_000 * (n + 1), f"B-{n}") for n in range(2)]
    _spend_many(settings, spends)
    period = _close(settings)
    whole = _hub_db(settings, lambda s: settlement.statement(s, period, BOOKS))
    assert whole.line_count == len(whole.lines) == 7
    assert [x.kind for x in whole.lines][-1] == CORRECTION
    # The totals the database sums are what the lines add up to.
    assert whole.position_rial == whole.lines_total_rial
    redeemed = [x for x in whole.lines if x.kind == REDEEMED_HERE]
    assert whole.gross_receivable_rial == sum(x.gross_rial for x in redeemed) == 15_000
    assert whole.fees_rial == sum(x.fee_rial for x in redeemed)
    spent = [x for x in whole.lines if x.kind == SPENT_ELSEWHERE]
    assert whole.gross_payable_rial == -sum(x.net_rial for x in spent) == 100_000
    assert whole.corrections_rial == 700

    with LiveServer(create_hub(settings), info["port"]) as live:
        hub = live.url
        mall = _finance(settings, hub)
        # When mall finance reads the statement three lines at a time
        pages = [_statement(hub, mall, period, first=3, offset=n) for n in (0, 3, 6)]
        # then each page holds its lines, in order, with the same totals and count.
        assert [len(p["lines"]) for p in pages] == [3, 3, 1]
        assert [x["ref"] for p in pages for x in p["lines"]] == [x.ref for x in whole.lines]
        assert all(p["lineCount"] == 7 for p in pages)
        for key in TOTALS:
            assert {str(p[key]) for p in pages} == {str(pages[0][key])}, key
        assert int(pages[0]["positionRial"]) == whole.position_rial
        # A page across the captures and the aggregate line, past the end, the default.
        across = _statement(hub, mall, period, first=2, offset=5)["lines"]
        assert [x["ref"] for x in across] == [x.ref for x in whole.lines[5:]]
        assert _statement(hub, mall, period, first=5, offset=7)["lines"] == []
        assert len(_statement(hub, mall, period)["lines"]) == 7
        # A node reads its own shop's the same way.
        creds = info["creds"][BOOKS]
        node = _token(hub, creds.client_id, creds.client_secret, "node:federate")
        own = _gql(hub, node, "ShopStatement", periodId=period, first=1, offset=6)
        assert own["data"]["settlementStatement"]["lines"][0]["memo"] == "fee over-charged"

        # More than 200 lines a page, or a negative offset, is refused with its code.
        assert _code(_gql(hub, mall, "ShopStatement", periodId=period, shop=BOOKS, first=201)) == (
            "PAGE_TOO_LARGE"
        )
        negative = _gql(hub, mall, "ShopStatement", periodId=period, shop=BOOKS, offset=-1)
        assert _code(negative) == "INVALID_INPUT"
        assert _statement(hub, mall, period, first=200)["lineCount"] == 7

        # Two windows of one statement in one query (aliases): each its own page.
        two = _ask(
            hub,
            mall,
            """query($p: Int!, $s: String!) { settlementStatement(periodId: $p, shop: $s) {
              ... on SettlementStatement { lineCount
                a: lines(first: 2) { ref } b: lines(first: 2, offset: 4) { ref } } } }""",
            s=BOOKS,
            p=period,
        )["data"]["settlementStatement"]
        assert [x["ref"] for x in two["a"] + two["b"]] == [
            x.ref for x in whole.lines[:2] + whole.lines[4:6]
        ]

        # The calendar pages too: newest first, `first` after `offset`.
        newest = _gql(hub, mall, "SettlementPeriods", first=1)["data"]["settlementPeriods"]
        older = _gql(hub, mall, "SettlementPeriods", first=2, offset=1)["data"]
        assert [p["status"] for p in newest] == ["open"]
        assert [p["id"] for p in older["settlementPeriods"]] == [period, first_period]
        assert _code(_gql(hub, mall, "SettlementPeriods", offset=-3)) == "INVALID_INPUT"


@contextmanager
def _node(settings: Settings, info: dict[str, Any]) -> Iterator[tuple[TestClient, str]]:
    asyncio.run(prepare_node(settings, BOOKS))
    with TestClient(create_node_app(BOOKS, settings)) as node:
        runtime: NodeRuntime = node.app.state.runtime  # type: ignore[attr-defined]
        creds = info["creds"][BOOKS]
        node.portal.call(connect, runtime, creds.client_id, creds.client_secret)  # type: ignore[union-attr]
        yield node, issue(settings, audience=BOOKS, scopes=["shop:manage"], subject="staff:m")


def test_a_node_asks_the_hub_for_one_page_and_files_hold_every_line(
    network: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, info = network
    # Given a period with more lines for the bookshop than one page of the hub's holds
    receipts = [f"R-{n:03}" for n in range(205)]
    _spend_many(settings, [(BOOKS, SHOES, 1_000 + n, r) for n, r in enumerate(receipts)])
    period = _close(settings)
    asked: list[tuple[str, tuple[Any, ...]]] = []
    for name in ("settlement_statement", "settlement_periods"):
        original = getattr(HubConnection, name)

        def spy(self: HubConnection, *args: Any, _name: str = name, _f: Any = original) -> Any:
            asked.append((_name, args))
            return _f(self, *args)

        monkeypatch.setattr(HubConnection, name, spy)

    with LiveServer(create_hub(settings), info["port"]), _node(settings, info) as (node, manager):

        def op(name: str, **variables: Any) -> dict[str, Any]:
            body = node.post(
                "/graphql",
                json={
                    "query": operation_document("node", name),
                    "operationName": name,
                    "variables": variables,
                },
                headers={"Authorization": f"Bearer {manager}"},
            ).json()
            return dict(body)

        # When the staff read the last page of the statement on their node
        asked.clear()
        page = op("SettlementStatement", periodId=period, first=20, offset=200)
        statement = page["data"]["settlementStatement"]
        # then the node asked the hub for just that page, once.
        assert asked == [("settlement_statement", (period, 20, 200))]
        assert statement["lineCount"] == 205
        assert [x["receipt"] for x in statement["lines"]] == receipts[200:]
        assert int(statement["positionRial"]) == -sum(1_000 + n for n in range(205))
        # A page too large is refused at the node, before it asks the hub.
        asked.clear()
        too_big = op("SettlementStatement", periodId=period, first=201)
        assert too_big["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"
        assert asked == []
        # The calendar's page is forwarded too.
        older = op("SettlementPeriods", first=1, offset=1)["data"]["settlementPeriods"]
        assert [p["id"] for p in older] == [period]
        assert asked == [("settlement_periods", (1, 1))]

        # When they download the statement as CSV, it holds every line (two pages asked).
        asked.clear()
        auth = {"Authorization": f"Bearer {manager}"}
        csv = node.get(f"/settlement/statements/{period}.csv", headers=auth)
        assert csv.status_code == 200, csv.text
        rows = parse_csv_lines(csv.content.decode("utf-8-sig"))
        assert [r["receipt"] for r in rows] == receipts
        assert sum(int(r["net_rial"]) for r in rows) == int(statement["positionRial"])
        assert asked == [
            ("settlement_statement", (period, 200)),
            ("settlement_statement", (period, 200, 200)),
        ]
        pdf = node.get(f"/settlement/statements/{period}.pdf", headers=auth)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
