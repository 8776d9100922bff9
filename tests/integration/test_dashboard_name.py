"""The dashboard's header names who is signed in: the hub's staff token carries the
account's username (``preferred_username``), the node session keeps it (cleaned and cut to
fit), and ``GET /dashboard/session`` answers it as ``name``; a token without one answers
null. (The full sign-in through the hub is in test_dashboard_signin.)"""

from __future__ import annotations

from typing import Any

import httpx

from shop_node.app import create_app as create_node_app
from shop_node.services.sessions import NAME_LENGTH, display_name

from ..live_server import LiveServer
from .test_hub_oauth import Hub, _sign_with_hub_key, hub  # noqa: F401 - the hub fixture
from .test_node_sessions import OPERATOR, SHOP, _bearer, _node_settings

COOKIE = f"mallnet-dashboard-{SHOP}"


async def _name_shown(client: httpx.AsyncClient, hub_token: str) -> Any:
    started = await client.post("/session", headers=_bearer(hub_token))
    assert started.status_code == 201, started.text
    session = started.json()["sessionToken"]
    info = await client.get("/dashboard/session", headers={"Cookie": f"{COOKIE}={session}"})
    assert info.json()["signedIn"] is True
    return info.json()["name"]


async def test_the_dashboard_session_names_the_staff_member_as_the_hub_did(
    hub: Hub,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = await _node_settings(hub, tmp_path)
    named = {**OPERATOR, "preferred_username": "ali"}
    hostile = {**OPERATOR, "preferred_username": " \u202eli\x00a\n" + "x" * 200}
    not_text = {**OPERATOR, "preferred_username": ["ali"]}
    with LiveServer(create_node_app(SHOP, settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            assert await _name_shown(client, await _sign_with_hub_key(hub, named)) == "ali"
            kept = await _name_shown(client, await _sign_with_hub_key(hub, hostile))
            assert kept == ("lia" + "x" * 200)[:NAME_LENGTH]
            assert await _name_shown(client, await _sign_with_hub_key(hub, not_text)) is None
            # A token from before the hub named people (or a development token): null.
            assert await _name_shown(client, await _sign_with_hub_key(hub, OPERATOR)) is None


def test_a_kept_name_loses_control_and_format_characters_but_not_persian_joiners() -> None:
    assert display_name("\u0645\u06cc\u200c\u0631\u0645") == "\u0645\u06cc\u200c\u0631\u0645"
    assert display_name("\u200fboss\u2066\t") == "boss"
    assert display_name(" \x01 ") is None
    assert display_name(42) is None
