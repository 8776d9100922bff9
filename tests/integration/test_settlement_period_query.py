"""The console opens one settlement period by id (``settlementPeriod``): mall finance reads
it with its positions and instructions; an unknown id is null; a shop's node may not."""

from __future__ import annotations

from typing import Any

import httpx

from hub.app import create_app as create_hub
from hub.services import registry
from mallnet.config import Settings
from mallnet.scopes import Scope

from ..live_server import LiveServer
from .conftest import _hub_db
from .test_settlement_api import BOOKS, SHOES, _close_due, _spend, _token

PERIOD = """query($id: Int!) { settlementPeriod(id: $id) {
  id status captures positions { party positionRial } instructions { party direction } } }"""
CLOSE = "mutation { closeSettlementPeriod { __typename ... on SettlementPeriod { id } } }"


def _ask(hub: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(
        f"{hub}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return dict(body)


def test_mall_finance_opens_one_period_and_a_node_may_not(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    finance = _hub_db(
        settings,
        lambda s: registry.create_client(
            s, kind="service", name="finance", scopes=[Scope.MALL_SETTLEMENT]
        ),
    )
    _spend(settings, BOOKS, SHOES, 120_000, "S-1")
    with LiveServer(create_hub(settings), info["port"]) as live:
        mall = _token(live.url, finance.client_id, finance.client_secret, "mall:settlement")
        cut = _ask(live.url, mall, CLOSE)["data"]["closeSettlementPeriod"]
        assert _close_due(settings) == [cut["id"]]

        period = _ask(live.url, mall, PERIOD, id=cut["id"])["data"]["settlementPeriod"]
        assert period["status"] == "closed"
        assert period["captures"] == 1
        positions = {p["party"]: int(p["positionRial"]) for p in period["positions"]}
        assert positions[BOOKS] == -120_000
        assert positions[SHOES] == 120_000
        assert {i["party"] for i in period["instructions"]} == {BOOKS, SHOES}
        assert _ask(live.url, mall, PERIOD, id=9_999)["data"]["settlementPeriod"] is None

        creds = info["creds"][BOOKS]
        node = _token(live.url, creds.client_id, creds.client_secret, "node:federate")
        refused = _ask(live.url, node, PERIOD, id=cut["id"])
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
