"""The shopper's offers over real HTTP (issue 18; SQLite and PostgreSQL hubs): nodes deliver
their offer events through the hub's federation API as their relay does, and the app asks
``me.offers`` with the shopper's own token — her grants and her clubs' permanent offers,
a page at a time, never another shopper's; bad paging is an ``InvalidInput``; mall
management's tokens read no one's offers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from federation.envelope import (
    MemberEnrolled,
    OfferGranted,
    OfferPublished,
    make_envelope,
)
from federation.ids import new_event_id
from hub.app import create_app as create_hub
from hub.services import registry
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.scopes import Scope

from ..live_server import LiveServer
from .conftest import _hub_db
from .test_redemption_grants import ALI, BOOKS, REDIRECT, SARA, SHOES, Mall
from .test_shopper_app_api import _mall_reports_token

OFFERS = """query($first: Int!, $after: String) { me { offers(first: $first, after: $after) {
  __typename
  ... on ShopperOfferPage { hasMore endCursor items {
    id kind offerId grantId nameFa nameEn summaryFa summaryEn expiresAt at
    shop { slug nameFa nameEn } } }
  ... on InvalidInput { code field message } } } }"""


@pytest.fixture
def hub_only(network: tuple[Settings, dict[str, Any]]) -> Iterator[Mall]:
    """The hub alone, served, with the shopper app's client (the nodes' events come
    through its federation API as their relay sends them)."""
    settings, info = network

    async def app_client(session: Any) -> Any:
        return await registry.create_app_client(
            session,
            kind="shopper_app",
            name="shopper app",
            scopes=[Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT],
            redirect_uris=[REDIRECT],
            public=True,
        )

    client = _hub_db(settings, app_client)
    with (
        LiveServer(create_hub(settings), info["port"]) as hub,
        httpx.Client(timeout=20) as http,
    ):
        yield Mall(settings, network, hub.url, {}, http, client.client_id)


class Relay:
    """A node's relay: its events, numbered, delivered over HTTP with its credentials."""

    def __init__(self, mall: Mall, shop: str) -> None:
        self.mall, self.shop, self.seq = mall, shop, 0

    def send(self, *payloads: Any, at: dt.datetime | None = None) -> dict[str, Any]:
        events = []
        for payload in payloads:
            self.seq += 1
            envelope = make_envelope(
                event_id=new_event_id(),
                node=self.shop,
                seq=self.seq,
                occurred_at=at or utcnow(),
                payload=payload,
            )
            events.append(envelope.model_dump(mode="json"))
        answer: dict[str, Any] = asyncio.run(self.mall.hub_as_node(self.shop).ingest(events))
        return answer


def _enrolled(who: str) -> MemberEnrolled:
    return MemberEnrolled(pseudonym=who, joined_via="purchase", partner_sharing=False)


def _offer(offer_id: str, kind: str, name_en: str) -> OfferPublished:
    return OfferPublished(
        offer_id=offer_id,
        kind=kind,
        name_fa=f"آفر {name_en}",
        name_en=name_en,
        summary_fa="۲۰٪ تخفیف رنگ مو تا ۳۰ روز",
        summary_en="20% off colour within 30 days",
    )


def test_me_offers_lists_her_grants_and_her_clubs_offers_a_page_at_a_time(
    hub_only: Mall,
) -> None:
    mall = hub_only
    ali, sara = mall.who(ALI), mall.who(SARA)
    books, shoes = Relay(mall, BOOKS), Relay(mall, SHOES)
    loyal, colour, weekend = new_event_id(), new_event_id(), new_event_id()
    grant = new_event_id()
    start = utcnow() - dt.timedelta(minutes=10)
    expires = utcnow() + dt.timedelta(days=30)

    # Given: both shoppers members of the bookshop, Sara of the shoe shop too; each shop's
    # permanent offer, and the bookshop's one-time offer granted to Ali (and, by the shoe
    # shop, which may not, to her too: she is no member there)
    books.send(_enrolled(ali), _enrolled(sara), _offer(loyal, "permanent", "Loyal"), at=start)
    books.send(_offer(colour, "one_time", "Colour"), at=start + dt.timedelta(minutes=1))
    answer = books.send(
        OfferGranted(pseudonym=ali, offer_id=colour, grant_id=grant, expires_at=expires),
        at=start + dt.timedelta(minutes=2),
    )
    assert (answer["__typename"], answer["accepted"]) == ("IngestResult", 1), answer
    shoes.send(_enrolled(sara), _offer(weekend, "permanent", "Weekend"), at=start)
    refused_grant = OfferGranted(
        pseudonym=ali, offer_id=weekend, grant_id=new_event_id(), expires_at=expires
    )
    shoes.send(refused_grant, at=start + dt.timedelta(minutes=5))

    # When Ali asks for her offers, one at a time
    token = mall.sign_in(ALI)
    first = mall.app(token, OFFERS, first=1)["offers"]
    assert first["__typename"] == "ShopperOfferPage"
    assert first["hasMore"] is True
    [item] = first["items"]
    # Then her grant comes first, with its offer's texts, the shop and her deadline
    assert (item["kind"], item["grantId"], item["offerId"]) == ("ONE_TIME", grant, colour)
    assert (item["nameEn"], item["summaryFa"]) == ("Colour", "۲۰٪ تخفیف رنگ مو تا ۳۰ روز")
    assert item["shop"] == {"slug": BOOKS, "nameFa": BOOKS, "nameEn": BOOKS}
    assert dt.datetime.fromisoformat(item["expiresAt"]) == expires
    rest = mall.app(token, OFFERS, first=10, after=first["endCursor"])["offers"]
    assert [(i["kind"], i["offerId"], i["grantId"]) for i in rest["items"]] == [
        ("PERMANENT", loyal, None)
    ]
    assert (rest["hasMore"], rest["items"][0]["expiresAt"]) == (False, None)

    # Sara sees both her clubs' permanent offers, newest first, and not Ali's grant
    sara_page = mall.app(mall.sign_in(SARA), OFFERS, first=10)["offers"]
    assert sorted(i["offerId"] for i in sara_page["items"]) == sorted([loyal, weekend])
    assert all(i["grantId"] is None for i in sara_page["items"])

    # Bad paging is a typed problem naming the argument
    for variables, field in (({"first": 0}, "first"), ({"first": 5, "after": "x"}, "after")):
        problem = mall.app(token, OFFERS, **variables)["offers"]
        assert (problem["__typename"], problem["code"], problem["field"]) == (
            "InvalidInput",
            "INVALID_INPUT",
            field,
        )


def test_mall_management_reads_no_shoppers_offers(hub_only: Mall) -> None:
    mall = hub_only
    books = Relay(mall, BOOKS)
    offer = new_event_id()
    books.send(_enrolled(mall.who(ALI)), _offer(offer, "permanent", "Loyal"))
    mall.sign_in(ALI)  # she is known to the hub, and in its list of shoppers
    token = _mall_reports_token(mall)
    body = mall.http.post(
        f"{mall.hub_url}/graphql",
        json={"query": "{ shoppers { pseudonym offers { __typename } } }"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert "shopper:read" in body["errors"][0]["message"]
