"""A shop answers the mall's invitations to joint campaigns and lotteries from its own node,
over real HTTP: its manager sees them, accepts one and declines another, and the answers
land at the hub for that shop only; the till may not answer, an invitation to another shop
is refused by the hub, and with the hub down the dashboard gets a clear answer."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from hub.app import create_app as create_hub
from hub.services import campaigns, lotteries
from mallnet.cli.sdl import operation_document
from mallnet.config import Settings
from mallnet.devtokens import issue
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _hub_db

BOOKS, SHOES = "ketab-sara", "kafsh-arya"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _lottery(settings: Settings, name: str, shops: list[str]) -> str:
    async def work(session: AsyncSession) -> str:
        data = lotteries.LotteryInput(
            name_fa=name,
            name_en=name,
            starts_at=NOW - dt.timedelta(days=1),
            ends_at=NOW + dt.timedelta(days=6),
            draw_at=NOW + dt.timedelta(days=7),
            shops=shops,
            rules={"rial_per_ticket": 100_000},
            prizes=[{"count": 1, "description_fa": "دوچرخه", "sponsor": shops[0]}],
        )
        return (await lotteries.create(session, data, "marketing")).id

    return str(_hub_db(settings, work))


def _campaign(settings: Settings, shops: list[str]) -> str:
    async def work(session: AsyncSession) -> str:
        data = campaigns.CampaignInput(
            name_fa="جشنواره پاییز",
            name_en="Autumn festival",
            starts_at=NOW - dt.timedelta(days=1),
            ends_at=NOW + dt.timedelta(days=10),
            shops=shops,
            reward={"pooled_multiplier_bp": 20_000},
            budget_rial=50_000_000,
            cost_rule="equal",
        )
        return (await campaigns.create(session, data, "marketing")).id

    return str(_hub_db(settings, work))


def _answers(settings: Settings, event_id: str) -> dict[str, str]:
    async def work(session: AsyncSession) -> dict[str, str]:
        return {row.shop: row.status for row in await lotteries.shops_of(session, event_id)}

    return dict(_hub_db(settings, work))


def test_a_manager_answers_invitations_from_the_shops_own_node(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    lottery = _lottery(settings, "قرعه‌کشی یلدا", [BOOKS, SHOES])
    campaign = _campaign(settings, [BOOKS, SHOES])
    elsewhere = _lottery(settings, "قرعه‌کشی کفش", [SHOES])  # books is not invited

    asyncio.run(prepare_node(settings, BOOKS))
    with TestClient(create_node_app(BOOKS, settings)) as node:
        runtime: NodeRuntime = node.app.state.runtime  # type: ignore[attr-defined]
        creds = info["creds"][BOOKS]
        node.portal.call(connect, runtime, creds.client_id, creds.client_secret)  # type: ignore[union-attr]
        manager = issue(settings, audience=BOOKS, scopes=["shop:manage"], subject="staff:m")
        till = issue(settings, audience=BOOKS, scopes=["shop:operate"], subject="staff:p")

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

        # Nothing listens on the hub's port yet: a clear answer, not an error.
        down = op(manager, "RespondToInvitation", id=lottery, accept=True)
        assert down["data"]["respondToInvitation"]["__typename"] == "HubAnswer"
        assert down["data"]["respondToInvitation"]["code"] == "HUB_UNAVAILABLE"
        assert op(manager, "Invitations")["data"]["invitations"] == []
        assert _answers(settings, lottery) == {BOOKS: "invited", SHOES: "invited"}

        with LiveServer(create_hub(settings), info["port"]):
            seen = op(till, "Invitations")["data"]["invitations"]  # the till may look
            assert {(i["id"], i["kind"], i["shop"], i["status"]) for i in seen} == {
                (lottery, "lottery", BOOKS, "invited"),
                (campaign, "campaign", BOOKS, "invited"),
            }
            assert {i["nameFa"] for i in seen} == {"قرعه‌کشی یلدا", "جشنواره پاییز"}

            # Only a manager answers: the till is refused by scope, and nothing changes.
            refused = op(till, "RespondToInvitation", id=lottery, accept=True)
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert refused["data"] is None
            assert _answers(settings, lottery) == {BOOKS: "invited", SHOES: "invited"}

            accepted = op(manager, "RespondToInvitation", id=lottery, accept=True)
            answer = accepted["data"]["respondToInvitation"]
            assert {k: answer[k] for k in ("__typename", "id", "kind", "shop", "status")} == {
                "__typename": "CampaignInvitation",
                "id": lottery,
                "kind": "lottery",
                "shop": BOOKS,
                "status": "accepted",
            }
            declined = op(manager, "RespondToInvitation", id=campaign, accept=False)
            assert declined["data"]["respondToInvitation"]["kind"] == "campaign"
            assert declined["data"]["respondToInvitation"]["status"] == "declined"

            # The answers landed at the hub, for this shop only.
            assert _answers(settings, lottery) == {BOOKS: "accepted", SHOES: "invited"}
            assert _answers(settings, campaign) == {BOOKS: "declined", SHOES: "invited"}
            assert _answers(settings, elsewhere) == {SHOES: "invited"}
            now_seen = op(manager, "Invitations")["data"]["invitations"]
            assert {i["id"]: i["status"] for i in now_seen} == {
                lottery: "accepted",
                campaign: "declined",
            }

            # An invitation to another shop is the hub's to refuse.
            other = op(manager, "RespondToInvitation", id=elsewhere, accept=True)
            assert other["data"]["respondToInvitation"]["__typename"] == "HubAnswer"
            assert other["data"]["respondToInvitation"]["code"] == "NOT_INVITED"
            assert _answers(settings, elsewhere) == {SHOES: "invited"}

            # The lotteries as published; no prize to hand over before the draw.
            published = op(till, "NodeLotteries")["data"]["lotteries"]
            assert {x["id"]: (x["status"], x["winners"]) for x in published} == {
                lottery: ("open", []),
                elsewhere: ("open", []),
            }
            assert all(len(x["commitment"]) == 64 for x in published)
            early = op(manager, "RecordPrizeClaim", lotteryId=lottery, place=1)
            assert early["data"]["recordPrizeClaim"]["__typename"] == "HubAnswer"
            assert early["data"]["recordPrizeClaim"]["code"] == "NOT_DRAWN"
            by_till = op(till, "RecordPrizeClaim", lotteryId=lottery, place=1)
            assert by_till["errors"][0]["extensions"]["code"] == "FORBIDDEN"
