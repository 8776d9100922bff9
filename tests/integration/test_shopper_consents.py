"""Consents belong to the shopper: she reads and changes them per shop in the app, with
her own token; a change reaches the shop's node through its inbox and is applied there
once; a withdrawal of partner sharing stops introductions at once, before the node has
heard of it. (The hub, on SQLite and PostgreSQL, a real server; two nodes on their own
databases; shoppers signed in through the hub's sign-in pages.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import func, select, update

from federation.envelope import MemberConsentChanged
from hub.app import create_app as create_hub
from hub.db.models import InboxCommand, NodeCursor
from hub.services import partnerships, registry
from mallnet.config import Settings
from mallnet.db import create_engine
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key, pseudonym
from shop_node.db.models import AppliedCommand, Member, OutboxEvent
from shop_node.domain.earning import Line
from shop_node.services import outbox
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import pull_and_apply
from shop_node.services.members import (
    MemberInput,
    MemberRef,
    MemberUpdate,
    enrol_member,
    update_member,
)
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import relay_all
from shop_node.services.runtime import NodeRuntime

from ..conftest import in_transaction
from ..live_server import LiveServer
from ..oauth_flow import shopper_code
from .conftest import _connection

BOOKS, SHOES = "ketab-sara", "kafsh-arya"
SARA, ALI = "+989121234567", "+989351112233"
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect
BOTH = "shopper:read shopper:consent"

MY_CONSENTS = "{ myConsents { shop partnerSharing promotionalSms pending } }"
SET_CONSENT = """mutation($shop: String!, $partner: Boolean, $promotional: Boolean) {
  setConsent(shop: $shop, partnerSharing: $partner, promotionalSms: $promotional) {
    __typename
    ... on ShopConsent { shop partnerSharing promotionalSms pending }
    ... on HubProblem { code field } } }"""


@dataclass
class Mall:
    settings: Settings
    network: tuple[Settings, dict[str, Any]]
    nodes: dict[str, NodeRuntime]
    app_client: str

    @property
    def hub_url(self) -> str:
        return self.settings.public_hub_url.rstrip("/")

    def who(self, phone: str) -> str:
        return pseudonym(network_key(self.settings), phone)

    async def hub(self, work: Any) -> Any:
        return await in_transaction(self.settings.hub_db_url, work)

    async def relay(self, shop: str) -> None:
        await relay_all(self.nodes[shop], _connection(self.network, shop))

    async def pull(self, shop: str) -> int:
        return await pull_and_apply(self.nodes[shop], _connection(self.network, shop))

    async def enrol(self, shop: str, phone: str, partner: bool, promotional: bool) -> None:
        data = MemberInput(
            phone=phone, consent_partner_sharing=partner, consent_promotional=promotional
        )
        await enrol_member(self.nodes[shop], data, "staff")

    async def buy(self, shop: str, receipt: str, phone: str) -> None:
        purchase = PurchaseInput(receipt, 600_000, [Line("general", 600_000)], phone)
        await record_purchase(self.nodes[shop], purchase, "pos")

    def _sign_in(self, phone: str, scope: str) -> str:
        verifier = generate_token(48)
        params = {
            "response_type": "code",
            "client_id": self.app_client,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "s",
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        outbox = self.settings.data_dir / "sms-outbox.jsonl"
        with httpx.Client(base_url=self.hub_url, timeout=10) as pages:
            code = shopper_code(pages, params, phone, outbox)
            token = pages.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "client_id": self.app_client,
                    "code_verifier": verifier,
                },
            ).json()
        assert set(token["scope"].split()) == set(scope.split()), token
        return str(token["access_token"])

    async def sign_in(self, phone: str, scope: str = BOTH) -> str:
        """The shopper signs in to the app (phone, texted code, PKCE) asking ``scope``."""
        return await asyncio.to_thread(self._sign_in, phone, scope)

    async def ask(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{self.hub_url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        body: dict[str, Any] = response.json()
        return body

    async def app(self, token: str, query: str, **variables: Any) -> Any:
        body = await self.ask(token, query, **variables)
        assert "errors" not in body, body
        return next(iter(body["data"].values()))

    async def set_consent(self, token: str, shop: str, **values: bool) -> Any:
        return await self.app(token, SET_CONSENT, shop=shop, **values)

    async def commands(self, shop: str) -> list[tuple[str, dict[str, Any]]]:
        """The commands the hub queued for ``shop``, oldest first: (type, payload)."""

        async def read(session: Any) -> list[tuple[str, dict[str, Any]]]:
            rows = await session.execute(
                select(InboxCommand.type, InboxCommand.payload)
                .where(InboxCommand.node == shop)
                .order_by(InboxCommand.id)
            )
            return [(kind, dict(payload)) for kind, payload in rows.all()]

        found: list[tuple[str, dict[str, Any]]] = await self.hub(read)
        return found

    async def member(self, shop: str, phone: str) -> Member:
        async def read(session: Any) -> Member:
            return await session.scalar(select(Member).where(Member.phone == phone))

        found: Member = await self.nodes[shop].read(read)
        return found


@pytest.fixture
async def mall(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[Mall]:
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

    client = await in_transaction(settings.hub_db_url, app_client)
    nodes, engines = {}, []
    for slug in (BOOKS, SHOES):
        await prepare_node(settings, slug)
        engine = create_engine(settings.node_db_url(slug))
        engines.append(engine)
        nodes[slug] = await NodeRuntime.start(slug, engine, settings)
    try:
        with LiveServer(create_hub(settings), info["port"]):
            yield Mall(settings, network, nodes, client.client_id)
    finally:
        for engine in engines:
            await engine.dispose()


def _consent(shop: str, partner: bool, promotional: bool, pending: bool) -> dict[str, Any]:
    return {
        "shop": shop,
        "partnerSharing": partner,
        "promotionalSms": promotional,
        "pending": pending,
    }


async def test_a_shopper_changes_a_consent_and_her_shop_applies_it_once(mall: Mall) -> None:
    # Given Sara, a member at the bookshop (partner sharing on) and at the shoe shop
    # (promotional SMS on), both reported to the hub; she signs in to the app.
    await mall.enrol(BOOKS, SARA, partner=True, promotional=False)
    await mall.enrol(SHOES, SARA, partner=False, promotional=True)
    for shop in (BOOKS, SHOES):
        await mall.relay(shop)
    sara = await mall.sign_in(SARA)

    # She reads her consents, shop by shop.
    assert await mall.app(sara, MY_CONSENTS) == [
        _consent(BOOKS, True, False, False),
        _consent(SHOES, False, True, False),
    ]

    # When she accepts the bookshop's promotions, the hub shows it at once, waiting for the
    # shop, and queues the change for the bookshop's node (the shoe shop hears nothing).
    changed = await mall.set_consent(sara, BOOKS, promotional=True)
    assert changed == {"__typename": "ShopConsent", **_consent(BOOKS, True, True, True)}
    assert await mall.commands(BOOKS) == [
        (
            "command.set_consent",
            {"pseudonym": mall.who(SARA), "partner_sharing": None, "promotional": True},
        )
    ]
    assert await mall.commands(SHOES) == []

    # Then the bookshop's node applies it once, even when the command comes twice (its
    # acknowledgement was lost).
    assert await mall.pull(BOOKS) == 1

    async def rewind(session: Any) -> None:
        await session.execute(
            update(NodeCursor).where(NodeCursor.node == BOOKS).values(acked_seq=0)
        )

    await mall.hub(rewind)
    assert await mall.pull(BOOKS) == 1  # delivered again
    member = await mall.member(BOOKS, SARA)
    assert (member.consent_partner_sharing, member.consent_promotional) == (True, True)

    async def applied(session: Any) -> tuple[list[str], list[dict[str, Any]]]:
        outcomes = await session.scalars(
            select(AppliedCommand.outcome).where(AppliedCommand.type == "command.set_consent")
        )
        reports = await session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.type == "member.consent_changed")
        )
        return list(outcomes.all()), [dict(p) for p in reports.all()]

    outcomes, reports = await mall.nodes[BOOKS].read(applied)
    assert outcomes == [
        f"consents of member {member.card_code} set: partner sharing on, promotional SMS on"
    ]
    [report] = reports  # one report, naming the command it answers

    async def command_ids(session: Any) -> list[str]:
        rows = await session.scalars(
            select(InboxCommand.command_id).where(InboxCommand.node == BOOKS)
        )
        return list(rows.all())

    assert [report["command_id"]] == await mall.hub(command_ids)
    assert (report["partner_sharing"], report["promotional"]) == (True, True)

    # And once the node's report reaches the hub, her change is confirmed.
    await mall.relay(BOOKS)
    assert await mall.app(sara, MY_CONSENTS) == [
        _consent(BOOKS, True, True, False),
        _consent(SHOES, False, True, False),
    ]


async def test_a_withdrawal_stops_introductions_before_the_shop_hears_of_it(mall: Mall) -> None:
    # Given the shoe shop welcomes the bookshop's customers, the bookshop refers them, and
    # Sara and Ali consented at the bookshop to be introduced to partners.
    async def agreement(session: Any) -> None:
        offer = await partnerships.publish_offer(
            session, SHOES, partnerships.OfferInput(origin_shops=[BOOKS], welcome_points=40)
        )
        await partnerships.opt_in(session, BOOKS, offer.id)

    await mall.hub(agreement)
    for phone in (SARA, ALI):
        await mall.enrol(BOOKS, phone, partner=True, promotional=False)
    await mall.relay(BOOKS)
    sara = await mall.sign_in(SARA)

    # When Sara withdraws in the app, and before the bookshop's node hears of it its staff
    # record her accepting promotions at the till (a report still saying "sharing on"),
    # and she and Ali buy there:
    withdrawn = await mall.set_consent(sara, BOOKS, partner=False)
    assert withdrawn == {"__typename": "ShopConsent", **_consent(BOOKS, False, False, True)}
    await update_member(
        mall.nodes[BOOKS], MemberRef(phone=SARA), MemberUpdate(consent_promotional=True), "staff"
    )
    await mall.buy(BOOKS, "B-1", SARA)
    await mall.buy(BOOKS, "B-2", ALI)
    await mall.relay(BOOKS)

    # Then only Ali is introduced to the shoe shop; the stale report brought nothing back.
    assert [(kind, payload["pseudonym"]) for kind, payload in await mall.commands(SHOES)] == [
        ("command.enrol_member", mall.who(ALI))
    ]
    assert await mall.app(sara, MY_CONSENTS) == [_consent(BOOKS, False, False, True)]

    # And once the node applies her change and reports it, the hub's view is the node's.
    assert await mall.pull(BOOKS) == 1
    member = await mall.member(BOOKS, SARA)
    assert (member.consent_partner_sharing, member.consent_promotional) == (False, True)
    await mall.relay(BOOKS)
    assert await mall.app(sara, MY_CONSENTS) == [_consent(BOOKS, False, True, False)]
    await mall.buy(BOOKS, "B-3", SARA)
    await mall.relay(BOOKS)
    assert len(await mall.commands(SHOES)) == 1  # still only Ali's


async def test_a_shopper_reads_and_changes_only_her_own_consents(mall: Mall) -> None:
    # Given Sara, a member at the bookshop only, and Ali, at the shoe shop only.
    await mall.enrol(BOOKS, SARA, partner=True, promotional=False)
    await mall.enrol(SHOES, ALI, partner=False, promotional=False)
    for shop in (BOOKS, SHOES):
        await mall.relay(shop)
    ali = await mall.sign_in(ALI)
    sara = await mall.sign_in(SARA)
    sara_before = [_consent(BOOKS, True, False, False)]

    # Ali's token shows Ali's consents; he cannot change Sara's at her shop.
    assert await mall.app(ali, MY_CONSENTS) == [_consent(SHOES, False, False, False)]
    refused = await mall.set_consent(ali, BOOKS, partner=False)
    assert refused == {"__typename": "NotAMember", "code": "NOT_A_MEMBER", "field": "shop"}

    # A token without shopper:consent reads, but changes nothing.
    reader = await mall.sign_in(SARA, "shopper:read")
    assert await mall.app(reader, MY_CONSENTS) == sara_before
    denied = await mall.ask(reader, SET_CONSENT, shop=BOOKS, partner=False)
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "shopper:consent" in denied["errors"][0]["message"]

    # A shop's own client is no shopper: it reads no one's consents.
    async with httpx.AsyncClient() as client:
        node_token = await _connection(mall.network, BOOKS)._access_token(client)
    hidden = await mall.ask(node_token, MY_CONSENTS)
    assert hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # A change that names no consent is refused.
    empty = await mall.set_consent(sara, BOOKS)
    assert empty == {
        "__typename": "InvalidInput",
        "code": "INVALID_INPUT",
        "field": "partnerSharing",
    }

    # Nothing of all that was written: no command for any shop, Sara's consents as before.
    assert await mall.commands(BOOKS) == await mall.commands(SHOES) == []
    assert await mall.app(sara, MY_CONSENTS) == sara_before

    async def count(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(InboxCommand)) or 0)

    assert await mall.hub(count) == 0


async def _partners_welcome_the_bookshops_customers(mall: Mall) -> None:
    async def agreement(session: Any) -> None:
        offer = await partnerships.publish_offer(
            session, SHOES, partnerships.OfferInput(origin_shops=[BOOKS], welcome_points=40)
        )
        await partnerships.opt_in(session, BOOKS, offer.id)

    await mall.hub(agreement)


async def test_a_node_cannot_switch_back_on_a_consent_she_turned_off(mall: Mall) -> None:
    # Given the shoe shop welcomes the bookshop's customers, and Ali consented at the
    # bookshop's till to be introduced to partners; he signs in and turns it off in the app.
    await _partners_welcome_the_bookshops_customers(mall)
    await mall.enrol(BOOKS, ALI, partner=True, promotional=False)
    await mall.relay(BOOKS)
    ali = await mall.sign_in(ALI)
    await mall.set_consent(ali, BOOKS, partner=False)
    [(_, asked)] = await mall.commands(BOOKS)
    assert asked["partner_sharing"] is False

    async def command_id(session: Any) -> str:
        found: str = await session.scalar(
            select(InboxCommand.command_id).where(InboxCommand.node == BOOKS)
        )
        return found

    # When the bookshop's node, having pulled the command (so it knows its id), reports
    # back "sharing on, with his phone" as the command's confirmation,
    forged = MemberConsentChanged(
        pseudonym=mall.who(ALI),
        partner_sharing=True,
        promotional=False,
        phone=ALI,
        command_id=await mall.hub(command_id),
    )

    async def report(session: Any) -> None:
        await outbox.emit(session, mall.nodes[BOOKS].clock(), [forged])

    await mall.nodes[BOOKS].transaction(report)
    await mall.relay(BOOKS)

    # Then the hub keeps his choice: sharing off, still waiting for an honest confirmation,
    # and a purchase there introduces him to no partner.
    assert await mall.app(ali, MY_CONSENTS) == [_consent(BOOKS, False, False, True)]
    await mall.buy(BOOKS, "B-1", ALI)
    await mall.relay(BOOKS)
    assert await mall.commands(SHOES) == []


async def test_a_report_after_her_confirmed_change_cannot_switch_it_back_on(mall: Mall) -> None:
    # Given Ali turned partner sharing off at the bookshop in the app, and the bookshop's
    # node applied it and confirmed it honestly.
    await _partners_welcome_the_bookshops_customers(mall)
    await mall.enrol(BOOKS, ALI, partner=True, promotional=False)
    await mall.relay(BOOKS)
    ali = await mall.sign_in(ALI)
    await mall.set_consent(ali, BOOKS, partner=False)
    assert await mall.pull(BOOKS) == 1
    await mall.relay(BOOKS)
    assert await mall.app(ali, MY_CONSENTS) == [_consent(BOOKS, False, False, False)]

    # When the node later reports him sharing again (a plain report, naming no command)
    # and he buys there,
    await update_member(
        mall.nodes[BOOKS],
        MemberRef(phone=ALI),
        MemberUpdate(consent_partner_sharing=True, consent_promotional=True),
        "staff",
    )
    await mall.buy(BOOKS, "B-1", ALI)
    await mall.relay(BOOKS)

    # Then partner sharing stays off at the hub (promotional SMS, which he never set in
    # the app, follows the node), and no partner hears of him.
    assert await mall.app(ali, MY_CONSENTS) == [_consent(BOOKS, False, True, False)]
    assert await mall.commands(SHOES) == []
