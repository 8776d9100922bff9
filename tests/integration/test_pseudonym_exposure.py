"""No answer of the hub gives a shop the pseudonym of a shopper whose phone it does not hold.

The network key stays shared: every node computes pseudonyms offline, HMAC-SHA256(network
key, E.164 phone), so a till names a shopper from her phone without asking the hub. With the
key, and Iranian mobiles few enough (about 10^9) to hash them all, a pseudonym is as good as
a phone to any node. So the rule is the other one: the hub never gives a node, or anyone
without a token, the pseudonym (or the phone) of a shopper that node does not already hold —
she is its member, or she consented to be introduced to it and the command that introduces
her carries her phone.

Here Sara is a member of the bookshop only, with consent to be introduced to partners. She
earns pooled points and campaign value there, enters two lotteries (one drawn as a hub drew
before entrant ids, naming entrants by pseudonym), is introduced to the café (its partner
offer), and spends her network value at the café; a settlement period closes over it. Reza,
also the bookshop's, did not consent; Taha is the shoe shop's own. Then every field of the
hub's GraphQL schema is read — the schema walked, every field selected to the leaves —
anonymously, by each node's client (``node:federate``), with the shoe shop's staff tokens
and by mall management; the shoe shop's staff read every field of their own node too, and
everyone asks for every statement as CSV and PDF. Every pseudonym and phone found in an
answer belongs to a shopper that caller holds (mall management, the hub's operator, holds
everyone): Sara and Reza never reach the shoe shop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pypdf
import strawberry
from joserfc import jwt
from sqlalchemy import select, update
from starlette.testclient import TestClient

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_non_null_type,
)
from hub.api.schema import schema as hub_schema
from hub.app import create_app as create_hub
from hub.db.models import LotteryEntrant, Shopper
from hub.domain import draw
from hub.services import campaigns, keys, lotteries, registry, settlement, value
from hub.services.people import HUB_AUDIENCE
from mallnet.config import Settings
from mallnet.db import create_engine, engine_scope, session_factory, transaction, utcnow
from mallnet.devtokens import issue
from mallnet.keywrap import keyring_for
from mallnet.messaging import FileSender
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key, pseudonym
from shop_node.api.schema import schema as node_schema
from shop_node.app import create_app as create_node_app
from shop_node.db.models import Member
from shop_node.domain.earning import Line
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import pull_and_apply
from shop_node.services.members import MemberInput, enrol_member
from shop_node.services.network import capture_at
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import connect, relay_all
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _connection, _hub_db

BOOKS, SHOES, CAFE = "ketab-sara", "kafsh-arya", "cafe-sepid"
SARA, REZA, TAHA = "09121110001", "09121110002", "09121110003"
STAFF_SCOPES = ["shop:manage", "shop:operate", "shop:read"]
MALL = "mall"  # holders of every shopper: the hub's operator
DEPTH = 6  # as deep as either schema nests (a lottery's winners in a shopper's lotteries)
OFFER = """mutation($input: PartnerOfferInput!) { publishPartnerOffer(input: $input) {
  __typename ... on PartnerOffer { id } ... on HubProblem { code message } } }"""
OPT_IN = """mutation($id: String!) { optInToPartnerOffer(offerId: $id) {
  __typename ... on HubProblem { code message } } }"""


def _e164(phone: str) -> str:
    return "+98" + phone[1:]


# --- walking a schema ---------------------------------------------------------------------


def selection(
    schema: strawberry.Schema,
    kind: GraphQLNamedType,
    depth: int,
    alias: bool = False,
    within: frozenset[str] = frozenset(),
) -> str:
    """Every field of ``kind`` and of every type under it, to ``depth`` (a union or an
    interface: each of its types, its fields aliased by type so that two types' fields of
    one name never conflict). A type met again inside itself (a member's company, a
    member) is read once more, its own leaves only. A field that needs an argument the walk
    cannot give fails the test: a new one must be given a value here, not skipped unseen."""
    if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
        return ""
    assert depth > 0, f"{kind.name} lies deeper than DEPTH: raise it, so every field is read"
    if isinstance(kind, GraphQLUnionType | GraphQLInterfaceType):
        members = schema._schema.get_possible_types(kind)
        return "__typename " + " ".join(
            f"... on {m.name} {{ {selection(schema, m, depth, True, within)} }}" for m in members
        )
    assert isinstance(kind, GraphQLObjectType), kind
    parts = ["__typename"]
    for name, found in kind.fields.items():
        needed = [a for a, arg in found.args.items() if _required(arg.type, arg.default_value)]
        assert not needed, f"{kind.name}.{name} needs {needed}: give the walk a value for it"
        inner_kind = get_named_type(found.type)
        leaf = isinstance(inner_kind, GraphQLScalarType | GraphQLEnumType)
        if kind.name in within and not leaf:
            continue
        inner = selection(schema, inner_kind, depth - 1, False, within | {kind.name})
        named = f"{kind.name}_{name}: {name}" if alias else name
        parts.append(f"{named} {{ {inner} }}" if inner else named)
    return " ".join(parts)


def _required(kind: Any, default: Any) -> bool:
    return bool(is_non_null_type(kind)) and default is Undefined


@dataclass(frozen=True)
class Read:
    label: str
    query: str
    variables: dict[str, Any]


def root_reads(
    schema: strawberry.Schema,
    values: dict[str, list[Any]],
    root: str = "query",
    only: frozenset[str] | None = None,
) -> list[Read]:
    """One read per root field and per choice of its arguments: each required argument
    takes every value ``values`` has for its name; an optional one is left out, then takes
    each of its values (a shop: the caller's own and the others'). ``only``: just those
    root fields."""
    kind = schema._schema.query_type if root == "query" else schema._schema.mutation_type
    assert kind is not None
    reads = []
    for name, found in kind.fields.items():
        if only is not None and name not in only:
            continue
        choices: list[dict[str, Any]] = [{}]
        for arg_name, arg in found.args.items():
            given = values.get(arg_name)
            if _required(arg.type, arg.default_value):
                assert given, f"{root} field {name} needs {arg_name}: give the walk a value"
                choices = [{**c, arg_name: v} for c in choices for v in given]
            elif given:
                choices = [*choices, *({**c, arg_name: v} for c in choices for v in given)]
        inner = selection(schema, get_named_type(found.type), DEPTH)
        body = f" {{ {inner} }}" if inner else ""
        for chosen in choices:
            types = {a: str(found.args[a].type) for a in chosen}
            declared = ", ".join(f"${a}: {t}" for a, t in types.items())
            call = ", ".join(f"{a}: ${a}" for a in chosen)
            query = f"{root}{f'({declared})' if declared else ''} {{ {name}"
            query += f"({call}){body} }}" if call else f"{body} }}"
            label = name + "".join(f" {a}={v}" for a, v in chosen.items())
            reads.append(Read(label, query, chosen))
    return reads


# --- who learns what ----------------------------------------------------------------------


@dataclass
class Exposure:
    """The pseudonyms and phones of every shopper of the network, and what each answer
    showed of them."""

    shoppers: dict[str, str]  # pseudonym -> E.164 phone ("" when the hub has none)
    seen: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # caller -> label -> who
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (caller, label) -> answer

    def look(self, caller: str, label: str, text: str) -> None:
        lowered = text.lower()
        numbers = re.findall(r"\d{10,}", text)
        found = set()
        for who, phone in self.shoppers.items():
            national = phone[3:]  # 912...: the phone in any of its forms (+98, 0, none)
            if who in lowered or (national and any(national in n for n in numbers)):
                found.add(who)
        if found:
            self.seen.setdefault(caller, {})[label] = found

    def leaks(self, holds: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
        """caller -> answer -> shoppers it named whose phone the caller does not hold."""
        out: dict[str, dict[str, list[str]]] = {}
        for caller, answers in self.seen.items():
            for label, found in answers.items():
                if strangers := sorted(found - holds.get(caller, set())):
                    out.setdefault(caller, {})[label] = strangers
        return out


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


# --- the mall -----------------------------------------------------------------------------


@dataclass
class Mall:
    settings: Settings
    network: tuple[Settings, dict[str, Any]]
    nodes: dict[str, NodeRuntime]
    engines: list[Any]
    who: dict[str, str] = field(default_factory=dict)  # name -> pseudonym
    ids: dict[str, Any] = field(default_factory=dict)

    def hub(self, slug: str) -> Any:
        return _connection(self.network, slug)

    async def hub_do(self, work: Any) -> Any:
        return await asyncio.to_thread(_hub_db, self.settings, work)

    async def buy(self, shop: str, phone: str, receipt: str, rial: int) -> None:
        data = PurchaseInput(receipt, rial, [Line("general", rial)], phone)
        await record_purchase(self.nodes[shop], data, "pos")

    async def as_node(self, slug: str, query: str, **variables: Any) -> Any:
        hub = self.hub(slug)
        async with httpx.AsyncClient(timeout=20) as client:
            token = await hub._access_token(client)
            answer = await client.post(
                f"{hub.hub_url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        return answer.json()["data"]


async def _texted_code(mall: Mall, phone: str) -> str:
    """The café's till asks the hub to text Sara a redemption code; she reads it out."""
    await mall.hub(CAFE).send_redemption_code(_e164(phone), mall.who["sara"])
    outbox = mall.settings.data_dir / "sms-outbox.jsonl"
    last = json.loads(outbox.read_text().splitlines()[-1])
    assert (last["to"], last["kind"]) == (_e164(phone), "redemption")
    return str(re.findall(r"(\d{8})", last["text"])[-1])


async def _campaign_and_lottery(mall: Mall) -> None:
    """The bookshop gives half its club's points to the pool; a campaign at the bookshop
    and the shoe shop doubles them; a lottery at both has a prize for every entrant, and
    another one prize (it will be drawn as a hub before entrant ids drew)."""
    await mall.hub_do(
        lambda s: value.set_issuance_policy(s, BOOKS, {"pooled_share_bp": 5_000}, "t")
    )
    now = utcnow()
    drive = campaigns.CampaignInput(
        name_fa="جشنواره",
        name_en="Festival",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=2),
        shops=[BOOKS, SHOES],
        reward={"pooled_multiplier_bp": 20_000},
        budget_rial=10**9,
        cost_rule="equal",
    )
    campaign = await mall.hub_do(lambda s: campaigns.create(s, drive, "test:marketing"))
    plan = lotteries.LotteryInput(
        name_fa="قرعه‌کشی",
        name_en="Draw",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        draw_at=now + dt.timedelta(hours=1),
        shops=[BOOKS, SHOES],
        rules={"rial_per_ticket": 100_000, "bonus_per_shop": 1},
        prizes=[{"count": 3, "description_fa": "کارت هدیه"}],
    )
    lottery = await mall.hub_do(lambda s: lotteries.create(s, plan, "test:marketing"))
    old_plan = dataclasses.replace(plan, name_en="Old draw", prizes=[plan.prizes[0] | {"count": 1}])
    old = await mall.hub_do(lambda s: lotteries.create(s, old_plan, "test:marketing"))
    for event_id in (campaign.id, lottery.id, old.id):
        for shop in (BOOKS, SHOES):
            await mall.hub_do(lambda s, e=event_id, sh=shop: lotteries.respond(s, e, sh, True))
    mall.ids.update(campaign=campaign.id, lottery=lottery.id, old_lottery=old.id)


async def _partner_offers(mall: Mall) -> None:
    """The café welcomes the bookshop's customers who spend 500,000 Rial there; the shoe
    shop those who spend 800,000. The bookshop refers to both."""
    for host, least in ((CAFE, 500_000), (SHOES, 800_000)):
        made = await mall.as_node(
            host, OFFER, input={"originShops": [BOOKS], "minPurchaseRial": least}
        )
        offer_id = made["publishPartnerOffer"]["id"]
        opted = await mall.as_node(BOOKS, OPT_IN, id=offer_id)
        assert opted["optInToPartnerOffer"]["__typename"] == "PartnerOffer", opted


async def _draw(mall: Mall, lottery_id: str, *, as_before_entrant_ids: bool = False) -> Any:
    """Draw a lottery. ``as_before_entrant_ids``: as a hub did before issue 14 — its list
    and record name the entrants by pseudonym — which is what migration hub_0014 keeps of
    a lottery already frozen (its entrants' ids are their pseudonyms)."""
    await mall.hub_do(lambda s: lotteries.set_public_value(s, lottery_id, "TSE 2,345"))

    async def due(session: Any) -> None:
        row = await lotteries.get(session, lottery_id)
        row.ends_at = row.draw_at = utcnow() - dt.timedelta(seconds=1)
        if as_before_entrant_ids:
            await session.execute(
                update(LotteryEntrant)
                .where(LotteryEntrant.lottery_id == lottery_id)
                .values(entrant_id=LotteryEntrant.pseudonym)
            )

    await mall.hub_do(due)

    async def run() -> Any:
        async with engine_scope(mall.settings.hub_db_url) as engine:
            sender = FileSender(mall.settings.data_dir / "sms-outbox.jsonl")
            return await lotteries.run_draw(session_factory(engine), lottery_id, sender)

    drawn = await asyncio.to_thread(asyncio.run, run())
    assert drawn.stage == "done"
    return drawn


async def _close_period(mall: Mall) -> None:
    await mall.hub_do(lambda s: settlement.cut(s, "test:finance"))

    async def run() -> list[int]:
        async with engine_scope(mall.settings.hub_db_url) as engine:
            sessions = session_factory(engine)
            return await settlement.close_due(lambda fn: transaction(sessions, fn), "worker")

    closed = await asyncio.to_thread(asyncio.run, run())
    assert len(closed) == 1
    mall.ids["period"] = closed[0]


async def _story(mall: Mall) -> None:
    """Sara at the bookshop (consenting), introduced to the café and spending there; Reza
    at the bookshop (not consenting); Taha at the shoe shop; a lottery drawn, a period
    closed."""
    books, cafe = mall.nodes[BOOKS], mall.nodes[CAFE]
    await _campaign_and_lottery(mall)
    await _partner_offers(mall)
    await enrol_member(books, MemberInput(phone=SARA, consent_partner_sharing=True), "staff")
    await enrol_member(books, MemberInput(phone=REZA, consent_partner_sharing=False), "staff")
    await mall.buy(BOOKS, SARA, "A-1", 600_000)  # meets the café's offer only
    await mall.buy(BOOKS, REZA, "A-2", 900_000)  # meets both, but Reza did not consent
    await mall.buy(SHOES, TAHA, "B-1", 400_000)
    for shop in (BOOKS, SHOES):
        await relay_all(mall.nodes[shop], mall.hub(shop))
    # The café is told to welcome Sara (her phone comes with it), and reports its member.
    waiting = await mall.as_node(CAFE, "{ inbox { cursor envelope } }")
    mall.ids["cafe_inbox"] = json.dumps(waiting, ensure_ascii=False)
    assert await pull_and_apply(cafe, mall.hub(CAFE)) == 1
    await relay_all(cafe, mall.hub(CAFE))

    # Sara spends her network value at the café with a texted code: a capture the
    # bookshop (and the campaign's shops) will settle. A second hold stays open.
    code = await _texted_code(mall, SARA)
    hold = await mall.hub(CAFE).hold(
        {
            "pseudonym": mall.who["sara"],
            "amountRial": 20_000,
            "purchaseRef": "C-1",
            "idempotencyKey": "C-1",
            "grant": code,
            "partial": True,
        }
    )
    paid = await record_purchase(
        cafe,
        PurchaseInput("C-1", 300_000, [Line("general", 300_000)], SARA, network_hold_id=hold["id"]),
        "pos",
        capture_at(mall.hub(CAFE)),
    )
    assert paid.purchase.network_paid_rial > 0
    await relay_all(cafe, mall.hub(CAFE))
    open_hold = await mall.hub(CAFE).hold(
        {
            "pseudonym": mall.who["sara"],
            "amountRial": 5_000,
            "purchaseRef": "C-2",
            "idempotencyKey": "C-2",
            "grant": await _texted_code(mall, SARA),
            "partial": True,
        }
    )
    mall.ids.update(captured_hold=hold["id"], open_hold=open_hold["id"])
    drawn = await _draw(mall, mall.ids["lottery"])
    assert len(drawn.record["winners"]) == 3
    old = await _draw(mall, mall.ids["old_lottery"], as_before_entrant_ids=True)
    assert old.record["winners"][0]["entrant_id"] in mall.who.values()
    await _close_period(mall)


async def _holders(mall: Mall) -> dict[str, set[str]]:
    """Each shop's members, by pseudonym: whom its node holds the phone of."""
    held = {}
    for slug, node in mall.nodes.items():

        async def members(session: Any) -> list[str]:
            return list(await session.scalars(select(Member.phone)))

        phones = await node.read(members)
        held[slug] = {pseudonym(node.network_key, p) for p in phones}
    return held


# --- the callers --------------------------------------------------------------------------


async def _staff_token(mall: Mall, audience: str) -> str:
    """A token for the shoe shop's staff signed with the hub's own key, as its sign-in
    issues them (audience: the shop's node) — or, with the hub's audience, one the hub
    never issues to staff, to show its fields refuse them anyway."""
    keyring = keyring_for(mall.settings)
    active: keys.ActiveKey = await mall.hub_do(lambda s: keys.active_key(s, keyring))
    now = int(time.time())
    claims = {
        "iss": mall.settings.public_hub_url.rstrip("/"),
        "aud": audience,
        "sub": "staff:shoes-manager",
        "client_id": "node-dashboard",
        "scope": " ".join(STAFF_SCOPES),
        "shop": SHOES,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": keys.ALGORITHM, "kid": active.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, active.key)


async def _callers(mall: Mall) -> dict[str, tuple[str | None, str | None]]:
    """caller -> (bearer token or None, the shop whose members it holds: None for no one,
    ``MALL`` for mall management, the hub's operator, trusted with the key)."""
    callers: dict[str, tuple[str | None, str | None]] = {"anonymous": (None, None)}
    reports = await mall.hub_do(
        lambda s: registry.create_client(
            s, kind="service", name="reports", scopes=[Scope.MALL_REPORTS]
        )
    )
    async with httpx.AsyncClient(timeout=20) as client:
        for slug in (BOOKS, SHOES, CAFE):
            callers[f"{slug} node"] = (await mall.hub(slug)._access_token(client), slug)
        answer = await client.post(
            f"{mall.settings.public_hub_url.rstrip('/')}/oauth/token",
            data={"grant_type": "client_credentials", "scope": Scope.MALL_REPORTS.value},
            auth=(reports.client_id, reports.client_secret),
        )
        callers["mall reports"] = (answer.json()["access_token"], MALL)
    callers["kafsh-arya staff"] = (await _staff_token(mall, SHOES), SHOES)
    callers["kafsh-arya staff, hub audience"] = (await _staff_token(mall, HUB_AUDIENCE), SHOES)
    dev = issue(mall.settings, audience=SHOES, scopes=STAFF_SCOPES, subject="staff:dev")
    callers["kafsh-arya staff, development token"] = (dev, SHOES)
    return callers


def _auth(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


async def _read_hub(
    mall: Mall, exposure: Exposure, callers: dict[str, tuple[str | None, str | None]]
) -> dict[str, dict[str, int]]:
    """Every caller reads every root field of the hub (and probes the two mutations that
    answer with a hold, on Sara's open hold), then every statement as CSV and PDF.
    Returns caller -> label -> HTTP status."""
    who, ids = mall.who, mall.ids
    queries = root_reads(
        hub_schema,
        {
            "lotteryId": [ids["lottery"], ids["old_lottery"]],
            "campaignId": [ids["campaign"]],
            "periodId": [ids["period"]],
            # hasNetworkValue: the caller names her itself (from her phone); yes or no.
            "pseudonym": [who["sara"]],
            "shop": [BOOKS, SHOES, CAFE],
            # staffAccountHistory: an account's changes (no shopper in them).
            "id": ["1"],
            # relayedMessageStatuses: a node's own relayed SMS only.
            "providerIds": [["1", "2"]],
        },
    )
    probes = root_reads(
        hub_schema,
        {"holdId": [ids["open_hold"]], "pseudonym": [who["taha"]]},
        root="mutation",
        only=frozenset({"captureNetworkHold", "voidNetworkHold"}),
    )
    assert len(probes) == 2
    base = mall.settings.public_hub_url.rstrip("/")
    statuses: dict[str, dict[str, int]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for caller, (token, _shop) in callers.items():
            got = statuses.setdefault(caller, {})
            for read in [*queries, *probes]:
                body = {"query": read.query, "variables": read.variables}
                answer = await http.post("/graphql", json=body, headers=_auth(token))
                got[read.label] = answer.status_code
                exposure.look(caller, read.label, answer.text)
                exposure.texts[(caller, read.label)] = answer.text
            for slug in (BOOKS, SHOES, CAFE):
                for kind in ("csv", "pdf"):
                    label = f"statement {slug}.{kind}"
                    path = f"/settlement/statements/{ids['period']}/{slug}.{kind}"
                    answer = await http.get(path, headers=_auth(token))
                    got[label] = answer.status_code
                    ok = answer.status_code == 200
                    text = (
                        answer.content.decode("utf-8-sig")
                        if ok and kind == "csv"
                        else pdf_text(answer.content)
                        if ok
                        else answer.text
                    )
                    exposure.look(caller, label, text)
                    if ok:
                        exposure.texts[(caller, label)] = text
    return statuses


def _read_node(mall: Mall, exposure: Exposure, token: str) -> dict[str, Any]:
    """The shoe shop's staff read every root field of their own node (its answers from
    the hub included: lotteries, offers, statements)."""
    reads = root_reads(
        node_schema,
        {
            "periodId": [mall.ids["period"]],
            "ref": [{"phone": TAHA}],
            "totalRial": ["100000"],
            "lines": [[{"productGroup": "shoes", "amountRial": "100000"}]],
            "basket": [[{"productGroup": "shoes", "amountRial": "100000"}]],
            "document": [{}],  # a draft policy or offer: the answers are its problems
            "phone": [TAHA],
            # offer, offerResponse: an offer id of the right shape (none such: null)
            "id": ["01M94JMDQ5482B7H4JVRZ8XQYB"],
            # messagePreview, broadcastPreview: a kind, a language, a text, the whole list
            "kind": ["purchase"],
            "lang": ["fa"],
            "text": ["Two for one"],
            "filter": [{}],
        },
    )
    answers = {}
    with TestClient(create_node_app(SHOES, mall.settings)) as node:
        for read in reads:
            body = {"query": read.query, "variables": read.variables}
            answer = node.post("/graphql", json=body, headers=_auth(token))
            exposure.look("kafsh-arya staff on its node", read.label, answer.text)
            answers[read.label] = answer.json()
    return answers


async def test_no_answer_gives_a_shop_the_pseudonym_of_a_shopper_it_does_not_hold(
    network: tuple[Settings, dict[str, Any]],
) -> None:
    settings, info = network
    cafe = registry.ShopInput(CAFE, "کافه سپید", "Cafe Sepid", "cafe")
    info["creds"][CAFE] = (
        await asyncio.to_thread(_hub_db, settings, lambda s: registry.register_shop(s, cafe))
    )[1]
    key = network_key(settings)
    nodes, engines = {}, []
    for slug in (BOOKS, SHOES, CAFE):
        await prepare_node(settings, slug)
        engines.append(create_engine(settings.node_db_url(slug)))
        nodes[slug] = await NodeRuntime.start(slug, engines[-1], settings)
    creds = info["creds"][SHOES]
    await connect(nodes[SHOES], creds.client_id, creds.client_secret)
    mall = Mall(settings, network, nodes, engines)
    phones = {"sara": SARA, "reza": REZA, "taha": TAHA}
    mall.who = {name: pseudonym(key, _e164(phone)) for name, phone in phones.items()}
    try:
        with LiveServer(create_hub(settings), info["port"]):
            # Given the story: Sara and Reza the bookshop's, Sara also the café's (she was
            # introduced with her consent), Taha the shoe shop's;
            await _story(mall)

            async def network_shoppers(session: Any) -> dict[str, str]:
                rows = await session.scalars(select(Shopper))
                return {row.pseudonym: row.phone or "" for row in rows}

            known = await mall.hub_do(network_shoppers)
            assert set(mall.who.values()) <= set(known)
            everyone = {**known, **{mall.who[n]: _e164(p) for n, p in phones.items()}}
            exposure = Exposure(everyone)

            # when everyone reads everything the hub answers them, and the shoe shop's
            # staff read everything their node shows them,
            callers = await _callers(mall)
            statuses = await _read_hub(mall, exposure, callers)
            exposure.look("cafe-sepid node", "inbox, before applying", mall.ids["cafe_inbox"])
            node_answers = await asyncio.to_thread(
                _read_node, mall, exposure, callers["kafsh-arya staff"][0] or ""
            )
            holds = await _holders(mall)
    finally:
        for engine in engines:
            await engine.dispose()

    # then every shopper an answer names is one whose phone that caller holds: the shoe
    # shop (its node, its staff) and anyone without a token learn of no one else.
    holds[MALL] = set(everyone)
    holders = {
        caller: holds[shop] if shop is not None else set()
        for caller, (_token, shop) in callers.items()
    }
    holders["kafsh-arya staff on its node"] = holds[SHOES]
    names = {p: n for n, p in mall.who.items()}
    leaks = {
        caller: {label: [names.get(p, p) for p in found] for label, found in answers.items()}
        for caller, answers in exposure.leaks(holders).items()
    }
    assert leaks == {}, json.dumps(leaks, indent=1)
    assert holds[SHOES] == {mall.who["taha"]}
    assert holds[CAFE] == {mall.who["sara"]}
    assert holds[BOOKS] == {mall.who["sara"], mall.who["reza"]}

    # The walk did reach what it had to: the shoe shop's inbox tells it of its own Taha's
    # win; the café's carried Sara's introduction, and its void of her hold names her
    # (it holds her); the bookshop's statement traces her capture at the café.
    seen = exposure.seen
    assert seen["kafsh-arya node"] == {"inbox": {mall.who["taha"]}}
    assert seen["cafe-sepid node"]["inbox, before applying"] == {mall.who["sara"]}
    assert _e164(SARA) in mall.ids["cafe_inbox"]
    assert (
        mall.who["sara"]
        in seen["cafe-sepid node"]["voidNetworkHold holdId=" + mall.ids["open_hold"]]
    )
    books_csv = exposure.texts[("ketab-sara node", "statement ketab-sara.csv")]
    assert mall.ids["captured_hold"] in books_csv
    assert "spent_elsewhere" in books_csv
    shoes_pdf = exposure.texts[("kafsh-arya node", "statement kafsh-arya.pdf")]
    assert "kafsh-arya" in shoes_pdf  # the PDF's text was read, not only its bytes
    # A node reads only its own statement; staff tokens do not open the hub at all.
    node_statuses = statuses["kafsh-arya node"]
    assert [node_statuses[f"statement {s}.csv"] for s in (BOOKS, SHOES, CAFE)] == [403, 200, 403]
    for caller in ("kafsh-arya staff", "kafsh-arya staff, development token"):
        assert set(statuses[caller].values()) == {401}, caller
    # A person's token at the hub names an account the hub holds (hub.services.staff):
    # this made-up staff member's is refused outright, before any field's scope check.
    assert set(statuses["kafsh-arya staff, hub audience"].values()) == {401}
    drawn = node_answers["lotteries"]["data"]["lotteries"]
    assert sorted(len(lottery["winners"]) for lottery in drawn) == [1, 3]

    # The lottery drawn under pseudonyms still re-runs for mall management, which reads
    # its list; to anyone else the hub no longer hands that list out (its digest and
    # record stay published: a copy kept from before still checks against them). The new
    # lottery's list, naming entrant ids, is anyone's.
    old = mall.ids["old_lottery"]

    def answer(caller: str, label: str) -> Any:
        return json.loads(exposure.texts[(caller, label)])

    record = answer("mall reports", f"lottery lotteryId={old}")["data"]["lottery"]["record"]
    listed = answer("mall reports", f"lotteryTickets lotteryId={old}")["data"]["lotteryTickets"]
    pairs = [(t["entrantId"], t["tickets"]) for t in listed]
    assert {who for who, _tickets in pairs} == set(mall.who.values())
    assert draw.verify({**record, "tickets": pairs}) == []
    refused = answer("anonymous", f"lotteryTickets lotteryId={old}")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    public = answer("anonymous", f"lotteryTickets lotteryId={mall.ids['lottery']}")
    assert len(public["data"]["lotteryTickets"]) == 3
