"""Settlement over real HTTP: mall finance sets the policy and closes a period at the hub;
each shop reads its own statement (and never another's) at the hub with its node's client,
and its staff read and download it from their own node, which asks the hub."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from federation.ids import new_event_id
from hub.app import create_app as create_hub
from hub.domain.value_rules import GENERAL
from hub.services import registry, settlement, value
from mallnet.cli.sdl import operation_document
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, transaction, utcnow
from mallnet.devtokens import issue
from mallnet.scopes import Scope
from settlement.render import parse_csv_lines
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _hub_db

BOOKS, SHOES = "ketab-sara", "kafsh-arya"


def _spend(settings: Settings, issuer: str, at: str, rial: int, receipt: str) -> None:
    async def work(session: Any) -> None:
        who = receipt.encode().hex().ljust(64, "0")[:64]
        await value.issue(
            session,
            value.IssueInput(
                pseudonym=who,
                kind=GENERAL,
                issuer=issuer,
                amount=rial,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key=f"lot-{receipt}",
            ),
        )
        held = await value.hold(session, at, value.HoldInput(who, rial, receipt, receipt))
        await value.capture(session, at, held.hold.id, purchase_ref=receipt)
        # The node's purchase event naming the capture, as intake reconciles it.
        claim = value.PurchaseClaim(at, new_event_id(), receipt, who, held.hold.id, rial)
        assert await value.match_purchase(session, claim, utcnow()) is None

    _hub_db(settings, work)


def _token(hub: str, client_id: str, secret: str, scope: str) -> str:
    answer = httpx.post(
        f"{hub}/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _gql(hub: str, token: str, name: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(
        f"{hub}/graphql",
        json={
            "query": operation_document("hub", name),
            "operationName": name,
            "variables": variables,
        },
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return dict(body)


def _close_due(settings: Settings) -> list[int]:
    """What the worker's task does once mall finance has cut the period."""

    async def run() -> list[int]:
        async with engine_scope(settings.hub_db_url) as engine:
            sessions = session_factory(engine)
            return await settlement.close_due(lambda fn: transaction(sessions, fn), "worker")

    return asyncio.run(run())


def test_mall_finance_closes_and_each_shop_reads_only_its_own_statement(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    finance = _hub_db(
        settings,
        lambda s: registry.create_client(
            s, kind="service", name="finance", scopes=[Scope.MALL_SETTLEMENT]
        ),
    )
    _spend(settings, BOOKS, SHOES, 120_000, "S-100")
    _spend(settings, SHOES, BOOKS, 20_000, "B-200")
    with LiveServer(create_hub(settings), info["port"]) as live:
        hub = live.url
        mall = _token(hub, finance.client_id, finance.client_secret, "mall:settlement")
        books_creds, shoes_creds = info["creds"][BOOKS], info["creds"][SHOES]
        books = _token(hub, books_creds.client_id, books_creds.client_secret, "node:federate")
        shoes = _token(hub, shoes_creds.client_id, shoes_creds.client_secret, "node:federate")

        # A bad policy is refused with the field at fault; a good one becomes version 1.
        bad = _gql(hub, mall, "SetSettlementPolicy", policy={"feeBp": 20_000})
        assert bad["data"]["setSettlementPolicy"]["code"] == "INVALID_INPUT"
        good = _gql(
            hub,
            mall,
            "SetSettlementPolicy",
            policy={
                "feeBp": 100,
                "period": "weekly",
                "agreements": [
                    {"issuer": SHOES, "redeemer": BOOKS, "feeBp": 100},
                    {"issuer": SHOES, "feeBp": 100},
                ],
            },
        )
        assert good["data"]["setSettlementPolicy"]["version"] == 1
        seen_by_books = _gql(hub, books, "SettlementPolicy")["data"]["settlementPolicy"]["policy"]
        assert seen_by_books["agreements"] == [{"issuer": SHOES, "redeemer": BOOKS, "fee_bp": 100}]
        # Only mall finance sets it: a node's client is refused by scope.
        refused = _gql(hub, books, "SetSettlementPolicy", policy={"feeBp": 0})
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        # Before the close, the statement is not there yet.
        cut = _gql(hub, mall, "CloseSettlementPeriod")["data"]["closeSettlementPeriod"]
        assert cut["__typename"] == "SettlementPeriod"
        early = _gql(hub, books, "ShopStatement", periodId=cut["id"])
        assert early["data"]["settlementStatement"]["code"] == "PERIOD_OPEN"
        assert _close_due(settings) == [cut["id"]]

        periods = _gql(hub, mall, "SettlementPeriods")["data"]["settlementPeriods"]
        closed = next(p for p in periods if p["id"] == cut["id"])
        assert closed["status"] == "closed"
        assert closed["captures"] == 2
        positions = {p["party"]: int(p["positionRial"]) for p in closed["positions"]}
        # books owes 120,000, is owed 20,000 less 1% (19,800); shoes is owed 118,800, owes 20,000.
        assert positions == {BOOKS: -100_200, SHOES: 98_800, "fund": 1_400}
        instructions = {
            (i["party"], i["direction"], int(i["amountRial"])) for i in closed["instructions"]
        }
        assert instructions == {(BOOKS, "to_fund", 100_200), (SHOES, "from_fund", 98_800)}
        # A node sees the calendar, not the network's positions.
        as_node = _gql(hub, books, "SettlementPeriods")
        assert as_node["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        calendar = httpx.post(
            f"{hub}/graphql",
            json={"query": "{ settlementPeriods { id status label } }"},
            headers={"Authorization": f"Bearer {books}"},
        ).json()["data"]["settlementPeriods"]
        assert [p["status"] for p in calendar] == ["open", "closed"]

        # Each shop reads its own statement; asking for another's is refused.
        own = _gql(hub, books, "ShopStatement", periodId=cut["id"])["data"]["settlementStatement"]
        assert own["shop"] == BOOKS
        assert int(own["positionRial"]) == -100_200
        assert sum(int(x["netRial"]) for x in own["lines"]) == -100_200
        assert {x["receipt"] for x in own["lines"]} == {"S-100", "B-200"}
        other = _gql(hub, books, "ShopStatement", periodId=cut["id"], shop=SHOES)
        assert other["data"]["settlementStatement"]["code"] == "FORBIDDEN"
        anyone = _gql(hub, mall, "ShopStatement", periodId=cut["id"], shop=SHOES)
        assert int(anyone["data"]["settlementStatement"]["positionRial"]) == 98_800
        audit = _gql(hub, mall, "SettlementAudit", periodId=cut["id"])["data"]["settlementAudit"]
        assert audit["differences"] == []
        journal = _gql(hub, mall, "SettlementJournal", periodId=cut["id"])["data"]
        entries = journal["settlementJournal"]
        assert all(sum(int(x["amountRial"]) for x in e["lines"]) == 0 for e in entries)
        pair = next(e for e in entries if e["ref"] == f"{BOOKS}>{SHOES}")
        fix = {
            "party": SHOES,
            "amountRial": 500,
            "reason": "fee over-charged",
            "idempotencyKey": "fix-1",
            "correctsEntryId": pair["id"],
        }
        posted = _gql(hub, mall, "PostSettlementCorrection", input=fix)
        assert posted["data"]["postSettlementCorrection"]["correctsEntryId"] == pair["id"]
        denied = _gql(hub, books, "PostSettlementCorrection", input=fix)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        # Files at the hub: the shop's own node client or mall finance; nobody else.
        files = f"{hub}/settlement/statements/{cut['id']}"
        as_books = {"Authorization": f"Bearer {books}"}
        csv = httpx.get(f"{files}/{BOOKS}.csv", headers=as_books)
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        rows = parse_csv_lines(csv.content.decode("utf-8-sig"))
        assert sum(int(r["net_rial"]) for r in rows) == -100_200
        assert httpx.get(f"{files}/{SHOES}.csv", headers=as_books).status_code == 403
        pdf = httpx.get(f"{files}/{SHOES}.pdf", headers={"Authorization": f"Bearer {mall}"})
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert httpx.get(f"{files}/{SHOES}.pdf").status_code == 401
        assert httpx.get(f"{files}/{BOOKS}.xlsx", headers=as_books).status_code == 404
        assert (
            httpx.get(f"{hub}/settlement/statements/999/{BOOKS}.csv", headers=as_books).status_code
            == 404
        )
        # Closing a closed period again changes nothing (the worker's task, replayed).
        assert _close_due(settings) == []
        assert (
            _gql(hub, shoes, "ShopStatement", periodId=cut["id"])["data"]["settlementStatement"][
                "digest"
            ]
            == closed["digest"]
        )

        # Prepayments: a shop the hub does not know is refused, and nothing is written.
        unknown = _gql(
            hub, mall, "RecordPrepayment", shop="no-such-shop", amountRial=5, reference="X"
        )
        assert unknown["data"]["recordPrepayment"]["code"] == "NOT_FOUND"
        accounts = _gql(hub, mall, "PrepaidAccounts")["data"]["prepaidAccounts"]
        assert accounts == []  # the refused deposit wrote nothing
        paid = _gql(
            hub, mall, "RecordPrepayment", shop=BOOKS, amountRial=1_000_000, reference="TR-1"
        )
        assert paid["data"]["recordPrepayment"]["balanceRial"] == 1_000_000
        mine = httpx.post(
            f"{hub}/graphql",
            json={"query": "{ prepaidAccounts { shop balanceRial } }"},
            headers={"Authorization": f"Bearer {shoes}"},
        ).json()["data"]["prepaidAccounts"]
        assert mine == []  # the shoe shop sees its own account only (it has none)

        _staff_read_their_statement_on_their_node(settings, info, cut["id"])


def _staff_read_their_statement_on_their_node(
    settings: Settings, info: dict[str, Any], period_id: int
) -> None:
    asyncio.run(prepare_node(settings, BOOKS))
    with TestClient(create_node_app(BOOKS, settings)) as node:
        runtime: NodeRuntime = node.app.state.runtime  # type: ignore[attr-defined]
        creds = info["creds"][BOOKS]
        node.portal.call(connect, runtime, creds.client_id, creds.client_secret)  # type: ignore[union-attr]
        manager = issue(settings, audience=BOOKS, scopes=["shop:manage"], subject="staff:m")
        pos = issue(settings, audience=BOOKS, scopes=["shop:operate"], subject="staff:p")

        def op(token: str, name: str, **variables: Any) -> dict[str, Any]:
            body = node.post(
                "/graphql",
                json={
                    "query": operation_document("node", name),
                    "operationName": name,
                    "variables": variables,
                },
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            return dict(body)

        periods = op(manager, "SettlementPeriods")["data"]["settlementPeriods"]
        closed = next(p for p in periods if p["id"] == period_id)
        assert closed["csvPath"] == f"/settlement/statements/{period_id}.csv"
        statement = op(manager, "SettlementStatement", periodId=period_id)["data"][
            "settlementStatement"
        ]
        assert statement["shopNameFa"]
        assert int(statement["positionRial"]) == -100_200
        assert [p["payer"] for p in statement["payments"]] == [BOOKS]
        # The till does not see the shop's money.
        assert (
            op(pos, "SettlementStatement", periodId=period_id)["errors"][0]["extensions"]["code"]
            == "FORBIDDEN"
        )

        pdf = node.get(closed["pdfPath"], headers={"Authorization": f"Bearer {manager}"})
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        csv = node.get(closed["csvPath"], headers={"Authorization": f"Bearer {manager}"})
        rows = parse_csv_lines(csv.content.decode("utf-8-sig"))
        assert sorted(r["receipt"] for r in rows) == ["B-200", "S-100"]
        assert (
            node.get(closed["csvPath"], headers={"Authorization": f"Bearer {pos}"}).status_code
            == 403
        )


@pytest.mark.parametrize("kind", ["csv", "pdf"])
def test_a_node_not_connected_to_the_hub_says_so(settings: Settings, kind: str) -> None:
    asyncio.run(prepare_node(settings, BOOKS))
    with TestClient(create_node_app(BOOKS, settings)) as node:
        manager = issue(settings, audience=BOOKS, scopes=["shop:read"], subject="staff:a")
        answer = node.get(
            f"/settlement/statements/1.{kind}", headers={"Authorization": f"Bearer {manager}"}
        )
        assert answer.status_code == 503
        assert answer.json()["error"] == "NOT_CONNECTED"
