"""Cross-shop auto-enrolment: a purchase at A that meets B's offer (which A opted in to)
enrols a consenting shopper at B once, with B's welcome — and not at a shop with no
agreement (hub and two nodes over real HTTP, real databases)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from hub.app import create_app as create_hub
from hub.services import inbox as hub_inbox
from hub.services import registry
from mallnet.config import Settings
from mallnet.db import create_engine
from mallnet.devtokens import issue
from shop_node.app import create_app as create_node_app
from shop_node.db.models import Member
from shop_node.domain.earning import Line
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import pull_and_apply
from shop_node.services.ledger import member_accounts
from shop_node.services.members import MemberInput, enrol_member
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import connect, relay_all
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _connection, _hub_db

OFFER = """mutation($input: PartnerOfferInput!) { publishPartnerOffer(input: $input) {
  __typename ... on PartnerOffer { id hostShop } ... on HubProblem { code } } }"""
OPT_IN = """mutation($id: String!) { optInToPartnerOffer(offerId: $id) {
  __typename ... on HubProblem { code } } }"""


async def _as_node(
    network: tuple[Settings, dict[str, Any]], slug: str, body: dict[str, Any]
) -> Any:
    hub = _connection(network, slug)
    async with httpx.AsyncClient() as client:
        token = await hub._access_token(client)
        response = await client.post(
            f"{hub.hub_url}/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    return response.json()["data"]


async def _node(settings: Settings, slug: str) -> tuple[NodeRuntime, Any]:
    await prepare_node(settings, slug)
    engine = create_engine(settings.node_db_url(slug))
    return await NodeRuntime.start(slug, engine, settings), engine


async def _buy(node: NodeRuntime, receipt: str, phone: str, amount: int) -> None:
    await record_purchase(
        node, PurchaseInput(receipt, amount, [Line("general", amount)], phone), "pos"
    )


async def test_a_purchase_at_a_enrols_a_consenting_shopper_at_partner_b_once(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    cafe = registry.ShopInput("cafe-sepid", "کافه", "Cafe", "cafe")
    _shop, creds = await asyncio.to_thread(
        _hub_db, settings, lambda s: registry.register_shop(s, cafe)
    )
    info["creds"]["cafe-sepid"] = creds
    shop_a, engine_a = await _node(settings, "ketab-sara")
    shop_b, engine_b = await _node(settings, "kafsh-arya")
    try:
        # Sara consents at A to be introduced to partners; Ali does not.
        for phone, consent in (("09121234567", True), ("09351112233", False)):
            data = MemberInput(phone=phone, consent_partner_sharing=consent)
            await enrol_member(shop_a, data, "staff")
        with LiveServer(create_hub(settings), info["port"]):
            offer = await _as_node(
                network,
                "kafsh-arya",
                {
                    "query": OFFER,
                    "variables": {
                        "input": {
                            "originShops": ["ketab-sara"],
                            "minPurchaseRial": 500_000,
                            "welcomePoints": 40,
                            "welcomeCreditRial": 100_000,
                            "monthlyCap": 5,
                        }
                    },
                },
            )
            offer_id = offer["publishPartnerOffer"]["id"]
            opted = await _as_node(
                network, "ketab-sara", {"query": OPT_IN, "variables": {"id": offer_id}}
            )
            assert opted["optInToPartnerOffer"]["__typename"] == "PartnerOffer"
            refused = await _as_node(
                network, "cafe-sepid", {"query": OPT_IN, "variables": {"id": offer_id}}
            )
            assert refused["optInToPartnerOffer"]["code"] == "NOT_ELIGIBLE"

            await _buy(shop_a, "A-1", "09121234567", 600_000)  # meets the offer, consented
            await _buy(shop_a, "A-2", "09351112233", 600_000)  # meets it, but no consent
            await _buy(shop_a, "A-3", "09121234567", 700_000)  # Sara again: no second referral
            await relay_all(shop_a, _connection(network, "ketab-sara"))

            async def waiting(session: Any) -> dict[str, int]:
                return {
                    slug: len(await hub_inbox.pull(session, slug, 100))
                    for slug in ("kafsh-arya", "cafe-sepid", "ketab-sara")
                }

            found = await asyncio.to_thread(_hub_db, settings, waiting)
            assert found == {"kafsh-arya": 1, "cafe-sepid": 0, "ketab-sara": 0}
            assert await pull_and_apply(shop_b, _connection(network, "kafsh-arya")) == 1
            # B reports its new member like any other; the hub's index now has both shops.
            await relay_all(shop_b, _connection(network, "kafsh-arya"))

        async def sara_at_b(session: Any) -> tuple[Member, Any]:
            member = await session.scalar(select(Member).where(Member.phone == "+989121234567"))
            return member, await member_accounts(session, member.id)

        member, accounts = await shop_b.read(sara_at_b)
        assert member.joined_via == "partner"
        assert (accounts.points, accounts.rial) == (40, 100_000)

        async def members_at_b(session: Any) -> int:
            return len((await session.scalars(select(Member))).all())

        assert await shop_b.read(members_at_b) == 1  # Ali was not introduced
    finally:
        await engine_a.dispose()
        await engine_b.dispose()


async def test_a_manager_manages_partnerships_from_the_shops_own_dashboard(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    creds = info["creds"]["kafsh-arya"]
    node, engine = await _node(settings, "kafsh-arya")
    await connect(node, creds.client_id, creds.client_secret)
    await engine.dispose()
    publish = {
        "query": """mutation($input: PartnerOfferInput!) { publishPartnerOffer(input: $input) {
          __typename ... on PartnerOffer { hostShop originShops welcomePoints }
          ... on HubAnswer { code } } }""",
        "variables": {"input": {"originShops": ["ketab-sara"], "welcomePoints": 25}},
    }
    manager = issue(settings, audience="kafsh-arya", scopes=["shop:manage"], subject="m")
    operator = issue(settings, audience="kafsh-arya", scopes=["shop:operate"], subject="o")
    app = create_node_app("kafsh-arya", settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:

            async def ask(token: str) -> Any:
                response = await client.post(
                    "/graphql", json=publish, headers={"Authorization": f"Bearer {token}"}
                )
                return response.json()

            # The hub is down: a clear answer, nothing else breaks.
            down = await ask(manager)
            assert down["data"]["publishPartnerOffer"]["code"] == "HUB_UNAVAILABLE"
            with LiveServer(create_hub(settings), info["port"]):
                made = await ask(manager)
                assert made["data"]["publishPartnerOffer"] == {
                    "__typename": "PartnerOffer",
                    "hostShop": "kafsh-arya",
                    "originShops": ["ketab-sara"],
                    "welcomePoints": 25,
                }
                refused = await ask(operator)
                assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
