"""A till outlives a hub outage: its node session, started once with a hub token, keeps
working for a working day while the hub is down; the hub's revocations end it when the
node next hears from the hub; sessions never start from sessions."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from federation.envelope import RevokeStaffSessions
from hub.services import inbox as hub_inbox
from mallnet.config import InvalidShopSlug, Settings, check_shop_slug
from mallnet.db import utcnow
from mallnet.hubtokens import ByAlgorithm, HubTokenVerifier
from shop_node.api.sessions import NodeVerifier
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.inbox import apply_command

from ..live_server import LiveServer
from .test_hub_oauth import Hub, _sign_with_hub_key, hub  # noqa: F401 - the hub fixture

SHOP = "ketab-sara"
OPERATOR = {"aud": SHOP, "scope": "shop:operate", "sub": "staff:7", "client_id": "dashboard"}


def _purchase(receipt: str) -> dict[str, Any]:
    return {
        "query": "mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { __typename } }",
        "variables": {
            "i": {
                "receiptId": receipt,
                "phone": "09121234567",
                "totalRial": 10_000,
                "lines": [{"productGroup": "general", "amountRial": 10_000}],
            }
        },
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _verifiers(app: Starlette) -> tuple[NodeVerifier, HubTokenVerifier]:
    node: NodeVerifier = app.state.verifier
    inner = node.inner
    signed = inner.verifiers["RS256"] if isinstance(inner, ByAlgorithm) else inner
    assert isinstance(signed, HubTokenVerifier)
    return node, signed


def _move_clocks(app: Starlette, by: dt.timedelta) -> None:
    """Both clocks a node checks credentials with, ``by`` ahead of the real ones."""
    node, signed = _verifiers(app)
    node.clock = lambda: utcnow() + by
    signed.now = lambda: time.time() + by.total_seconds()


async def _recorded(client: httpx.AsyncClient, token: str, receipt: str) -> str:
    answer = await client.post("/graphql", json=_purchase(receipt), headers=_bearer(token))
    if answer.status_code != 200:
        return f"{answer.status_code}: {answer.json().get('error_description')}"
    return str(answer.json()["data"]["recordPurchase"]["__typename"])


async def _node_settings(hub: Hub, tmp_path: Any, **extra: Any) -> Settings:  # noqa: F811
    """A migrated node of SHOP that knows the hub."""
    settings = Settings(data_dir=tmp_path / "node", hub_url=hub.url, **extra)
    await prepare_node(settings, SHOP)
    return settings


async def _start(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/session", headers=_bearer(token))


async def test_a_till_keeps_selling_through_a_hub_outage_for_a_working_day(
    hub: Hub,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = await _node_settings(hub, tmp_path, node_session_hours=8)
    signed_in = await _sign_with_hub_key(hub, OPERATOR)  # 5 minutes of life, as the hub's
    app = create_node_app(SHOP, settings)
    with LiveServer(app) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            started = await _start(client, signed_in)
            assert started.status_code == 201, started.text
            body = started.json()
            session = body["sessionToken"]
            assert body["subject"] == "staff:7"
            assert body["scopes"] == ["shop:operate"]
            assert await _recorded(client, session, "R-1") == "PurchaseRecorded"
            # A session does not start another (no chaining past the working day).
            again = await _start(client, session)
            assert again.status_code == 400
            assert again.json()["error"] == "NOT_A_HUB_TOKEN"

            hub.stop()
            # Two hours into the outage: the hub's token has long expired, the session
            # has not, and the till sells on.
            _move_clocks(app, dt.timedelta(hours=2))
            assert (await _recorded(client, signed_in, "R-2")).startswith("401")
            assert await _recorded(client, session, "R-3") == "PurchaseRecorded"
            # Nearly eight hours after the sign-in, still.
            _move_clocks(app, dt.timedelta(hours=7, minutes=55))
            assert await _recorded(client, session, "R-4") == "PurchaseRecorded"
            # Past the working day: sign in again (which needs the hub).
            _move_clocks(app, dt.timedelta(hours=8, minutes=1))
            expired = await _recorded(client, session, "R-5")
            assert expired.startswith("401")
            assert "expired" in expired


async def test_the_hubs_revocation_ends_sessions_and_earlier_tokens_but_not_later_ones(
    hub: Hub,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = await _node_settings(hub, tmp_path)
    before = await _sign_with_hub_key(hub, {**OPERATOR, "iat": int(time.time()) - 60})
    colleague = await _sign_with_hub_key(hub, {**OPERATOR, "sub": "staff:8"})
    app = create_node_app(SHOP, settings)
    with LiveServer(app) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            session = (await _start(client, before)).json()["sessionToken"]
            theirs = (await _start(client, colleague)).json()["sessionToken"]
            # The hub disables staff:7: the command waits in the shop's inbox until the
            # node pulls it (here: pulled from the hub's database, applied by the node).
            command = RevokeStaffSessions(subject="staff:7", reason="disabled")
            await hub.session().arun(lambda s: hub_inbox.enqueue(s, SHOP, command))
            pulled = await hub.session().arun(lambda s: hub_inbox.pull(s, SHOP, 10))
            outcome = await apply_command(app.state.runtime, pulled[-1])
            assert outcome == "revoked staff:7 (disabled): 1 session(s) ended"
            # Applied twice (a lost acknowledgement), it has one effect.
            assert await apply_command(app.state.runtime, pulled[-1]) == outcome
            app.state.verifier.forget_revocations()

            assert (await _recorded(client, session, "R-1")).startswith("401")
            assert (await _recorded(client, before, "R-2")).startswith("401")
            refused = await _start(client, before)
            assert refused.status_code == 401
            # Others are untouched, and a sign-in after the revocation (a re-enabled
            # account, a new password) works.
            assert await _recorded(client, theirs, "R-3") == "PurchaseRecorded"
            later = await _sign_with_hub_key(hub, {**OPERATOR, "iat": int(time.time()) + 2})
            assert await _recorded(client, later, "R-4") == "PurchaseRecorded"

            # A suspended shop: every session and earlier token at the node ends.
            everyone = RevokeStaffSessions(subject=None, reason="shop_suspended")
            await hub.session().arun(lambda s: hub_inbox.enqueue(s, SHOP, everyone))
            pulled = await hub.session().arun(lambda s: hub_inbox.pull(s, SHOP, 10))
            outcome = await apply_command(app.state.runtime, pulled[-1])
            assert outcome == "revoked all staff (shop_suspended): 1 session(s) ended"
            app.state.verifier.forget_revocations()
            assert (await _recorded(client, theirs, "R-5")).startswith("401")
            assert (await _recorded(client, colleague, "R-6")).startswith("401")


async def test_sign_out_ends_the_session_and_bad_session_tokens_are_refused(
    hub: Hub,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = await _node_settings(hub, tmp_path)
    signed_in = await _sign_with_hub_key(hub, OPERATOR)
    with LiveServer(create_node_app(SHOP, settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            assert (await client.post("/session")).status_code == 401
            session = (await _start(client, signed_in)).json()["sessionToken"]
            forged = session[:-4] + ("AAAA" if not session.endswith("AAAA") else "BBBB")
            assert (await _recorded(client, forged, "R-0")).startswith("401")
            ended = await client.delete("/session", headers=_bearer(session))
            assert ended.status_code == 204
            gone = await _recorded(client, session, "R-1")
            assert gone.startswith("401")
            assert "ended" in gone


async def test_a_person_holds_at_most_twenty_live_sessions_the_oldest_ends(
    hub: Hub,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = await _node_settings(hub, tmp_path)
    signed_in = await _sign_with_hub_key(hub, OPERATOR)
    with LiveServer(create_node_app(SHOP, settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            tokens = [(await _start(client, signed_in)).json()["sessionToken"] for _ in range(21)]
            first = await _recorded(client, tokens[0], "R-1")
            assert first.startswith("401")
            assert "ended" in first
            assert await _recorded(client, tokens[1], "R-2") == "PurchaseRecorded"
            assert await _recorded(client, tokens[-1], "R-3") == "PurchaseRecorded"


async def test_only_a_shops_staff_start_sessions(
    hub: Hub,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = await _node_settings(hub, tmp_path)
    # Signed by the hub for this shop's audience, but not a staff member's sign-in.
    not_staff = {**OPERATOR, "sub": "shopper:abc", "scope": "shopper:read"}
    no_staff_scope = {**OPERATOR, "scope": "node:federate"}
    with LiveServer(create_node_app(SHOP, settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            for claims in (not_staff, no_staff_scope):
                refused = await _start(client, await _sign_with_hub_key(hub, claims))
                assert refused.status_code == 403
                assert refused.json()["error"] == "SESSION_REFUSED"


def test_no_shop_may_take_an_audience_the_hub_issues_tokens_for() -> None:
    with pytest.raises(InvalidShopSlug, match="reserved"):
        check_shop_slug("mallnet-hub")
