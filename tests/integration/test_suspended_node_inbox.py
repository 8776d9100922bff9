"""A suspended shop's node still pulls and acknowledges its inbox, and nothing else
(issue 15, from the security review of the staff lifecycle).

Suspending a shop queues the command that ends its staff's sessions at its node, but the
hub refused the node's client outright, so the node could not pull it until the shop was
reactivated: its node sessions (a working day) and its staff's earlier hub tokens lived
on. The node's client may now always get ``node:inbox``; asked for more while its shop is
suspended, it hears why (and only it, having authenticated), and its federation client
falls back to ``node:inbox`` for its inbox.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubUnavailable
from federation.envelope import EnrolMember
from hub.db.models import OAuthClient
from hub.services import inbox as hub_inbox
from hub.services import registry
from mallnet.config import Settings
from mallnet.db import engine_scope, ensure_database, utcnow
from mallnet.migrations import upgrade
from mallnet.scopes import Scope
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import pull_and_apply

from ..conftest import HubDatabases
from ..live_server import LiveServer
from .test_staff_lifecycle import SHOP_A, SHOP_B, Mall, mall

__all__ = ["mall"]  # the fixture, shared with the lifecycle tests

ENROL, REVOKE = "command.enrol_member", "command.revoke_staff_sessions"
SHOP_SUSPENDED = "shop_suspended"  # how the token endpoint says it (mallnet.scopes)
MEMBERS = {"query": "{ members(first: 1) { totalCount } }"}
SUSPEND = 'mutation { suspendShop(slug: "ketab-sara") { __typename } }'
REACTIVATE = 'mutation { reactivateShop(slug: "ketab-sara") { __typename } }'
ELSEWHERE = [  # what a node does at the hub besides its inbox
    "mutation { ingestEvents(events: []) { __typename } }",
    'mutation { voidNetworkHold(holdId: "h-1") { __typename } }',
    "{ shops { slug } }",
    "{ partnerOffers { id } }",
]


async def _empty(url: str) -> None:
    await ensure_database(url)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client_token(mall: Mall, slug: str, scope: str, secret: str | None = None) -> httpx.Response:
    creds = mall.data[slug]
    return mall.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(creds.client_id, secret or creds.client_secret),
    )


async def test_a_suspended_shops_node_pulls_the_revocation_and_its_staff_session_ends(
    mall: Mall, tmp_path: Path
) -> None:
    # Given the manager signed in through the hub and holding a working-day node session
    ali = await mall.sign_in("ali")
    settings = Settings(data_dir=tmp_path / "node", hub_url=mall.url)
    await prepare_node(settings, SHOP_A)
    app = create_node_app(SHOP_A, settings)
    with LiveServer(app) as node_server:
        async with httpx.AsyncClient(base_url=node_server.url) as node:
            started = await node.post("/session", headers=_bearer(ali["access_token"]))
            assert started.status_code == 201, started.text
            session = started.json()["sessionToken"]
            assert (await node.post("/graphql", json=MEMBERS, headers=_bearer(session))).is_success
            hub = mall.node(SHOP_A)
            assert await pull_and_apply(app.state.runtime, hub) == 0  # its token is cached
            # When mall management suspends the shop
            boss = await mall.sign_in("boss")
            assert mall.graphql(boss, SUSPEND).json()["data"]["suspendShop"]["__typename"] == "Shop"
            # Then the node still pulls (and acknowledges) its inbox
            assert await pull_and_apply(app.state.runtime, hub) == 1
            assert await hub.inbox() == []  # acknowledged
            # and the session, good for hours more, is refused at the node
            app.state.verifier.forget_revocations()
            ended = await node.post("/graphql", json=MEMBERS, headers=_bearer(session))
            assert ended.status_code == 401
            assert (
                await node.post("/session", headers=_bearer(ali["access_token"]))
            ).status_code == 401
    # while the node can do nothing else at the hub
    with pytest.raises(HubUnavailable, match="suspended"):
        await hub.ingest([])
    with pytest.raises(HubUnavailable, match="suspended"):
        await hub.void("h-1")


async def test_a_suspended_node_gets_only_node_inbox_and_says_so_only_to_its_own_client(
    mall: Mall,
) -> None:
    earlier = _client_token(mall, SHOP_A, "node:federate").json()["access_token"]
    boss = await mall.sign_in("boss")
    mall.graphql(boss, SUSPEND)
    # Its usual token is refused, saying why, to the client itself
    refused = _client_token(mall, SHOP_A, "node:federate")
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"
    assert refused.json()["error_description"].startswith(SHOP_SUSPENDED)
    for scope in ("node:federate node:inbox", ""):
        assert SHOP_SUSPENDED in _client_token(mall, SHOP_A, scope).text
    # but to no one without the secret: the answer any wrong secret gets
    stranger = _client_token(mall, SHOP_A, "node:inbox", secret="not-the-secret")
    active = _client_token(mall, SHOP_B, "node:inbox", secret="not-the-secret")
    assert stranger.status_code == active.status_code == 401
    assert stranger.json() == active.json()
    assert "suspend" not in stranger.text
    # A token from before the suspension stops at once
    assert mall.http.post("/graphql", json=MEMBERS, headers=_bearer(earlier)).status_code == 401
    # node:inbox is granted, and reaches the inbox only
    granted = _client_token(mall, SHOP_A, "node:inbox")
    assert granted.status_code == 200, granted.text
    assert granted.json()["scope"] == "node:inbox"
    inbox_token = {"access_token": granted.json()["access_token"]}
    pulled = mall.graphql(inbox_token, "{ inbox(limit: 10) { cursor envelope } }").json()
    assert [item["envelope"]["type"] for item in pulled["data"]["inbox"]] == [
        "command.revoke_staff_sessions"
    ]
    assert mall.graphql(inbox_token, "mutation { ackInbox(upTo: 1) }").json()["data"] == {
        "ackInbox": 1
    }
    for query in ELSEWHERE:
        answer = mall.graphql(inbox_token, query).json()
        assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", query
    # Reactivated, the node works as before; a client never given node:inbox cannot ask
    mall.graphql(boss, REACTIVATE)
    assert _client_token(mall, SHOP_A, "node:federate").status_code == 200
    assert _client_token(mall, SHOP_A, "node:inbox").status_code == 200
    # A client never given node:inbox may not ask for it (invalid_scope, never narrowed)

    async def make(session: AsyncSession) -> registry.IssuedCredentials:
        return await registry.create_client(
            session, kind="service", name="relay service", scopes=[Scope.NODE_FEDERATE]
        )

    creds = await mall.db(make)
    refused = mall.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "node:inbox"},
        auth=(creds.client_id, creds.client_secret),
    )
    assert refused.json()["error"] == "invalid_scope"


async def test_a_suspended_node_learns_no_new_shoppers_phone(mall: Mall) -> None:
    """An introduction queued before the suspension is delivered with the revocation; one
    queued since waits (with what comes after it) for the shop's reactivation."""

    def introduce(phone: str) -> Any:
        command = EnrolMember(
            pseudonym=secrets.token_hex(32), origin_shop=SHOP_B, agreement_id="a-1", phone=phone
        )
        return mall.db(lambda s: hub_inbox.enqueue(s, SHOP_A, command))

    await introduce("+989120000001")
    boss = await mall.sign_in("boss")
    mall.graphql(boss, SUSPEND)
    await introduce("+989120000002")
    node = mall.node(SHOP_A)
    delivered = await node.inbox()
    assert [item["envelope"]["type"] for item in delivered] == [ENROL, REVOKE]
    assert delivered[0]["envelope"]["payload"]["phone"] == "+989120000001"
    await node.ack(int(delivered[-1]["cursor"]))
    assert await node.inbox() == []
    mall.graphql(boss, REACTIVATE)
    later = await node.inbox()
    assert [item["envelope"]["payload"]["phone"] for item in later] == ["+989120000002"]


async def test_node_clients_are_given_node_inbox_and_ask_for_it_by_name(mall: Mall) -> None:
    async def scopes(session: AsyncSession) -> dict[str, str]:
        rows = await session.execute(select(OAuthClient.client_id, OAuthClient.allowed_scopes))
        return dict(rows.all())

    allowed = await mall.db(scopes)
    assert allowed[f"node-{SHOP_A}"] == allowed[f"node-{SHOP_B}"] == "node:federate node:inbox"
    # A request without a scope gets what the client works with, not the fallback
    default = _client_token(mall, SHOP_B, "").json()
    assert default["scope"] == "node:federate"


async def test_the_migration_gives_existing_node_clients_node_inbox(
    hub_databases: HubDatabases,
) -> None:
    url = (await hub_databases.new(_empty)).url
    await upgrade("hub", url, "hub_0021_sealed_signing_keys")
    insert = text(
        "INSERT INTO oauth_clients (client_id, secret_hash, kind, name, allowed_scopes,"
        " grant_types, redirect_uris, created_at) VALUES (:id, 'x', :kind, :id, :scopes,"
        " '[\"client_credentials\"]', '[]', :at)"
    )
    before = {
        "node-a": ("node", "node:federate"),
        "node-b": ("node", "node:federate node:inbox"),
        "service": ("service", "node:federate"),
        "console": ("console", "mall:admin mall:reports"),
    }
    async with engine_scope(url) as engine, engine.begin() as conn:
        for client_id, (kind, scopes) in before.items():
            await conn.execute(
                insert, {"id": client_id, "kind": kind, "scopes": scopes, "at": utcnow()}
            )
    await upgrade("hub", url)
    async with engine_scope(url) as engine, engine.connect() as conn:
        rows = await conn.execute(text("SELECT client_id, allowed_scopes FROM oauth_clients"))
        after: dict[str, str] = dict(rows.all())
    assert after == {
        "node-a": "node:federate node:inbox",
        "node-b": "node:federate node:inbox",
        "service": "node:federate",
        "console": "mall:admin mall:reports",
    }
