"""Finding 1 of issue 14, as an attacker at a till would try it, over real HTTP against the
hub and two shop nodes (SQLite and PostgreSQL hubs): a shopper's network value is seen
(beyond yes/no) and held only with that shopper's redemption grant — from the app after a
PIN, or a code the hub texts — a hold is one shopper's at one shop, and only a purchase of
that shopper captures it. After every refusal the shopper's value is untouched and the
ledger verifies."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import update

from federation.client import HubConnection, HubRefused
from hub.app import create_app as create_hub
from hub.services import registry, value
from mallnet.cli.sdl import GRAPHQL_DIR, schemas
from mallnet.config import Settings
from mallnet.db import create_engine, utcnow
from mallnet.devtokens import issue
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key, pseudonym
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _connection, _hub_db

ALI, SARA = "09121234567", "09351112233"
BOOKS, SHOES = "ketab-sara", "kafsh-arya"
# What a till sends: the point-of-sale's operation documents.
POS = (GRAPHQL_DIR / "operations" / "node" / "pos.graphql").read_text(encoding="utf-8")
REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect
CREDIT_RIAL = 300_000
PIN = "2580"
ISSUE_GRANT = """mutation($pin: String!, $max: Rial) {
  issueRedemptionGrant(pin: $pin, maxRial: $max) {
  __typename ... on RedemptionGrant { digits qrPayload expiresAt maxRial }
  ... on HubProblem { code message field } } }"""
SET_PIN = """mutation($pin: String!, $current: String) {
  setRedemptionPin(pin: $pin, currentPin: $current) {
  __typename ... on HubProblem { code message field } } }"""


def _e164(phone: str) -> str:
    return "+98" + phone[1:]


@dataclass
class Mall:
    """The hub and two nodes running, with Ali and Sara holding network credit."""

    settings: Settings
    network: tuple[Settings, dict[str, Any]]
    hub_url: str
    nodes: dict[str, str]
    http: httpx.Client
    app_client: str
    tills: dict[str, str] = field(default_factory=dict)

    def who(self, phone: str) -> str:
        return pseudonym(network_key(self.settings), _e164(phone))

    def till(self, shop: str, operation: str, **variables: Any) -> Any:
        """A POS call to a shop's node (scope shop:operate), as the till sends it."""
        token = self.tills.setdefault(
            shop, issue(self.settings, audience=shop, scopes=["shop:operate"], subject="pos")
        )
        body = self.http.post(
            f"{self.nodes[shop]}/graphql",
            json={"query": POS, "operationName": operation, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert "errors" not in body, body
        return next(iter(body["data"].values()))

    def hub_as_node(self, shop: str) -> HubConnection:
        """The hub as a node's own client reaches it (scope node:federate)."""
        return _connection(self.network, shop)

    def hold(self, shop: str, phone: str, amount: int, receipt: str, grant: str | None) -> Any:
        data = {"phone": phone, "amountRial": str(amount), "receiptId": receipt}
        if grant is not None:
            data["grantCode"] = grant
        return self.till(shop, "HoldNetworkValue", input=data)

    def buy(self, shop: str, phone: str, receipt: str, hold_id: str, total: int) -> Any:
        return self.till(
            shop,
            "RecordPurchase",
            input={
                "receiptId": receipt,
                "totalRial": str(total),
                "phone": phone,
                "lines": [{"productGroup": "general", "amountRial": str(total)}],
                "networkHoldId": hold_id,
            },
        )

    def sign_in(self, phone: str) -> str:
        """The shopper signs in to the app (code + PKCE, the texted sign-in code)."""
        verifier = generate_token(48)
        params = {
            "response_type": "code",
            "client_id": self.app_client,
            "redirect_uri": REDIRECT,
            "scope": "shopper:read",
            "state": "s",
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        pages = httpx.Client(base_url=self.hub_url, timeout=10)
        with pages:
            assert pages.get("/oauth/authorize", params=params).status_code == 200
            assert pages.post("/oauth/otp", data={**params, "phone": phone}).status_code == 200
            code = self.texts(phone, "otp")[-1]
            done = pages.post("/oauth/authorize", data={**params, "phone": phone, "code": code})
            assert done.status_code == 302, done.text
            auth_code = parse_qs(urlparse(done.headers["location"]).query)["code"][0]
            token = pages.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": auth_code,
                    "redirect_uri": REDIRECT,
                    "client_id": self.app_client,
                    "code_verifier": verifier,
                },
            ).json()
        return str(token["access_token"])

    def app(self, token: str, query: str, **variables: Any) -> Any:
        """The shopper app calling the hub with the shopper's token."""
        body = self.http.post(
            f"{self.hub_url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert "errors" not in body, body
        return next(iter(body["data"].values()))

    def app_grant(self, token: str, max_rial: int | None = None) -> Any:
        made = self.app(
            token, ISSUE_GRANT, pin=PIN, max=None if max_rial is None else str(max_rial)
        )
        assert made["__typename"] == "RedemptionGrant", made
        return made

    def texts(self, phone: str, kind: str) -> list[str]:
        """The codes texted to ``phone`` (the development SMS outbox), oldest first."""
        outbox = self.settings.data_dir / "sms-outbox.jsonl"
        records = [json.loads(line) for line in outbox.read_text().splitlines()]
        found = [r for r in records if r["to"] == _e164(phone) and r["kind"] == kind]
        return [re.findall(r"(\d{6})", r["text"])[-1] for r in found]

    def standing(self, phone: str) -> tuple[Any, list[str]]:
        """The shopper's network value (available and held, per kind) and the ledger's
        own check of itself."""
        who = self.who(phone)

        async def work(session: Any) -> tuple[Any, list[str]]:
            summary = await value.summary(session, who)
            balances = [(summary.pooled.available, summary.pooled.held)] + [
                (b.kind, b.available, b.held) for b in summary.credit
            ]
            return balances, await value.verify(session)

        found: tuple[Any, list[str]] = _hub_db(self.settings, work)
        return found

    def untouched(self, phone: str, before: Any) -> None:
        now, problems = self.standing(phone)
        assert problems == []
        assert now == before


def _give_credit(settings: Settings, phone: str) -> None:
    who = pseudonym(network_key(settings), _e164(phone))

    async def give(session: Any) -> Any:
        return await value.issue(
            session,
            value.IssueInput(
                pseudonym=who,
                kind="general_credit",
                issuer=SHOES,
                amount=CREDIT_RIAL,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key=f"lot-{phone}",
            ),
        )

    _hub_db(settings, give)


def _connect_node(settings: Settings, slug: str, creds: Any) -> None:
    async def go() -> None:
        await prepare_node(settings, slug)
        engine = create_engine(settings.node_db_url(slug))
        try:
            runtime = await NodeRuntime.start(slug, engine, settings)
            await connect(runtime, creds.client_id, creds.client_secret)
        finally:
            await engine.dispose()

    asyncio.run(go())


@pytest.fixture
def mall(network: tuple[Settings, dict[str, Any]]) -> Iterator[Mall]:
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
    for phone in (ALI, SARA):
        _give_credit(settings, phone)
    for slug in (BOOKS, SHOES):
        _connect_node(settings, slug, info["creds"][slug])
    with (
        LiveServer(create_hub(settings), info["port"]) as hub,
        LiveServer(create_node_app(BOOKS, settings)) as books,
        LiveServer(create_node_app(SHOES, settings)) as shoes,
        httpx.Client(timeout=20) as http,
    ):
        yield Mall(
            settings, network, hub.url, {BOOKS: books.url, SHOES: shoes.url}, http, client.client_id
        )


def _signed_in_with_pin(mall: Mall, phone: str) -> str:
    token = mall.sign_in(phone)
    assert mall.app(token, SET_PIN, pin=PIN, current=None) == {"__typename": "RedemptionPinSet"}
    return token


def test_without_a_grant_the_till_learns_yes_or_no_and_holds_nothing(mall: Mall) -> None:
    before = mall.standing(ALI)[0]
    # The node's till: yes or no, no amounts (the type has nothing else to show).
    assert mall.till(BOOKS, "NetworkValue", phone=ALI) == {
        "__typename": "NetworkValue",
        "hasValue": True,
    }
    node_type = schemas()["node.graphql"]._schema.get_type("NetworkValue")
    assert list(node_type.fields) == ["hasValue"]  # type: ignore[union-attr]
    assert mall.till(BOOKS, "NetworkValue", phone="09120000000")["hasValue"] is False
    refused = mall.hold(BOOKS, ALI, 100_000, "B-1", grant=None)
    assert refused["code"] == "GRANT_REQUIRED", refused
    mall.untouched(ALI, before)

    # The node's own client at the hub, asking directly: the same.
    hub = mall.hub_as_node(BOOKS)
    assert asyncio.run(hub.has_value(mall.who(ALI))) is True
    with pytest.raises(HubRefused, match="GRANT_REQUIRED"):
        asyncio.run(
            hub.hold(
                {
                    "pseudonym": mall.who(ALI),
                    "amountRial": 100_000,
                    "purchaseRef": "B-1",
                    "idempotencyKey": "B-1",
                }
            )
        )
    # No field shows a node the amounts any more.
    query = "query($p: String!) { spendableNetworkValue(pseudonym: $p) { worthRial } }"
    old = mall.http.post(
        f"{mall.hub_url}/graphql",
        json={"query": query, "variables": {"p": mall.who(ALI)}},
        headers={"Authorization": f"Bearer {asyncio.run(_token(hub))}"},
    ).json()
    assert "Cannot query field 'spendableNetworkValue'" in old["errors"][0]["message"]
    mall.untouched(ALI, before)


async def _token(hub: HubConnection) -> str:
    async with httpx.AsyncClient() as client:
        return await hub._access_token(client)


def test_another_shoppers_grant_holds_nothing(mall: Mall) -> None:
    sara = _signed_in_with_pin(mall, SARA)
    before = mall.standing(ALI)[0]
    saras = mall.app_grant(sara)
    for code in (saras["digits"], saras["qrPayload"]):
        refused = mall.hold(BOOKS, ALI, 100_000, "B-1", grant=code)
        assert refused["code"] == "GRANT_INVALID", refused
    mall.untouched(ALI, before)
    # Sara's grant is still hers to use (a wrong shopper's try did not spend it).
    held = mall.hold(BOOKS, SARA, 100_000, "B-2", grant=saras["digits"])
    assert held["__typename"] == "NetworkHold", held


def test_a_hold_is_captured_only_by_a_purchase_of_its_own_shopper(mall: Mall) -> None:
    ali = _signed_in_with_pin(mall, ALI)
    grant = mall.app_grant(ali)
    held = mall.hold(BOOKS, ALI, 100_000, "B-1", grant=grant["qrPayload"])
    assert held["__typename"] == "NetworkHold", held
    before = mall.standing(ALI)[0]  # 100,000 held

    # The till records the purchase for Sara with Ali's hold: refused, nothing recorded.
    stolen = mall.buy(BOOKS, SARA, "B-1", held["id"], 100_000)
    assert (stolen["__typename"], stolen["code"], stolen["hubCode"]) == (
        "NetworkValueProblem",
        "HOLD_OF_ANOTHER_SHOPPER",
        "SHOPPER_MISMATCH",
    )
    mall.untouched(ALI, before)
    member = mall.till(BOOKS, "LookupMember", ref={"phone": SARA})
    assert member["__typename"] == "NotFound"  # the refused purchase enrolled no one

    # The node's client at the hub, naming Sara: refused; another shop: not its hold.
    hub = mall.hub_as_node(BOOKS)
    with pytest.raises(HubRefused, match="SHOPPER_MISMATCH"):
        asyncio.run(hub.capture(held["id"], mall.who(SARA), None, "B-1", 100_000))
    with pytest.raises(HubRefused, match="NOT_FOUND"):
        asyncio.run(mall.hub_as_node(SHOES).capture(held["id"], mall.who(ALI), None, "B-1"))
    mall.untouched(ALI, before)

    # Ali's own purchase captures it.
    paid = mall.buy(BOOKS, ALI, "B-1", held["id"], 100_000)
    assert paid["__typename"] == "PurchaseRecorded", paid
    assert int(paid["purchase"]["networkPaidRial"]) == 100_000
    after, problems = mall.standing(ALI)
    assert problems == []
    assert after == [(0, 0), ("general_credit", CREDIT_RIAL - 100_000, 0)]


def test_a_grant_is_used_once(mall: Mall) -> None:
    ali = _signed_in_with_pin(mall, ALI)
    grant = mall.app_grant(ali)
    first = mall.hold(BOOKS, ALI, 50_000, "B-1", grant=grant["digits"])
    assert first["__typename"] == "NetworkHold", first
    before = mall.standing(ALI)[0]
    # The POS retrying the same hold is answered as before, not as a second use.
    again = mall.hold(BOOKS, ALI, 50_000, "B-1", grant=grant["digits"])
    assert (again["id"], again["replayed"]) == (first["id"], True)
    # A second hold with it, here or at another shop: refused.
    for shop, receipt in ((BOOKS, "B-2"), (SHOES, "S-1")):
        refused = mall.hold(shop, ALI, 50_000, receipt, grant=grant["digits"])
        assert refused["code"] == "GRANT_USED", refused
    mall.untouched(ALI, before)


def test_an_expired_grant_and_a_guessed_code_hold_nothing(mall: Mall) -> None:
    ali = _signed_in_with_pin(mall, ALI)
    before = mall.standing(ALI)[0]
    grant = mall.app_grant(ali)
    assert dt.datetime.fromisoformat(grant["expiresAt"]) <= utcnow() + dt.timedelta(minutes=2)

    async def expire(session: Any) -> None:
        from hub.db.models import RedemptionGrant  # (the test runs on the code before it too)

        await session.execute(update(RedemptionGrant).values(expires_at=utcnow()))

    _hub_db(mall.settings, expire)
    refused = mall.hold(BOOKS, ALI, 50_000, "B-1", grant=grant["digits"])
    assert refused["code"] == "GRANT_EXPIRED", refused
    mall.untouched(ALI, before)

    # Guessing: every wrong code costs a try; after five even the right one is refused.
    fresh = mall.app_grant(ali)
    wrong = f"{(int(fresh['digits']) + 1) % 10**8:08d}"
    for _ in range(5):
        assert mall.hold(BOOKS, ALI, 50_000, "B-2", grant=wrong)["code"] == "GRANT_INVALID"
    refused = mall.hold(BOOKS, ALI, 50_000, "B-2", grant=fresh["digits"])
    assert refused["code"] == "TOO_MANY_ATTEMPTS", refused
    mall.untouched(ALI, before)


def test_the_app_grant_needs_the_pin_and_keeps_its_cap(mall: Mall) -> None:
    ali = mall.sign_in(ALI)
    no_pin = mall.app(ali, ISSUE_GRANT, pin=PIN, max=None)
    assert no_pin["code"] == "PIN_REQUIRED"
    weak = mall.app(ali, SET_PIN, pin="1234", current=None)
    assert (weak["code"], weak["field"]) == ("INVALID_INPUT", "pin")
    assert mall.app(ali, SET_PIN, pin=PIN, current=None) == {"__typename": "RedemptionPinSet"}
    wrong = mall.app(ali, ISSUE_GRANT, pin="9999", max=None)
    assert (wrong["code"], wrong["message"]) == ("PIN_INVALID", "wrong PIN; 4 tries left")
    # Changing the PIN needs the current one.
    change = mall.app(ali, SET_PIN, pin="7913", current=None)
    assert (change["code"], change["field"]) == ("INVALID_INPUT", "currentPin")

    before = mall.standing(ALI)[0]
    capped = mall.app_grant(ali, max_rial=40_000)
    assert capped["maxRial"] == 40_000
    refused = mall.hold(BOOKS, ALI, 50_000, "B-1", grant=capped["digits"])
    assert refused["code"] == "GRANT_EXCEEDED", refused
    mall.untouched(ALI, before)
    held = mall.hold(BOOKS, ALI, 40_000, "B-1", grant=capped["digits"])
    assert held["__typename"] == "NetworkHold", held


def test_a_shopper_without_the_app_reads_out_a_texted_code(mall: Mall) -> None:
    before = mall.standing(ALI)[0]
    sent = mall.till(SHOES, "RequestNetworkValueCode", phone=ALI, maxRial="200000")
    assert (sent["__typename"], sent["maxRial"]) == ("RedemptionCodeSent", 200_000)
    [code] = mall.texts(ALI, "redemption")
    assert mall.texts(SARA, "redemption") == []
    # The code is the shoe shop's: typed at the bookshop it holds nothing, nor over its cap.
    assert mall.hold(BOOKS, ALI, 100_000, "B-1", grant=code)["code"] == "GRANT_INVALID"
    assert mall.hold(SHOES, ALI, 250_000, "S-1", grant=code)["code"] == "GRANT_EXCEEDED"
    mall.untouched(ALI, before)
    held = mall.hold(SHOES, ALI, 200_000, "S-1", grant=code)
    assert held["__typename"] == "NetworkHold", held
    paid = mall.buy(SHOES, ALI, "S-1", held["id"], 500_000)
    assert paid["__typename"] == "PurchaseRecorded", paid
    assert int(paid["purchase"]["networkPaidRial"]) == 200_000
    after, problems = mall.standing(ALI)
    assert problems == []
    assert after == [(0, 0), ("general_credit", CREDIT_RIAL - 200_000, 0)]

    # A node asking the hub to text Sara's phone as if it were Ali's: refused, no text.
    hub = mall.hub_as_node(SHOES)
    with pytest.raises(HubRefused, match="PHONE_MISMATCH"):
        asyncio.run(hub.send_redemption_code(_e164(SARA), mall.who(ALI)))
    assert mall.texts(SARA, "redemption") == []
