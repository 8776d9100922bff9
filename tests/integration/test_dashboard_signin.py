"""A shop manager signs in to the shop's dashboard at its node, over real HTTP: the node
runs the code + PKCE flow with the hub as the confidential client ``dashboard-<shop>``,
starts a node session and gives the browser only its token in an HttpOnly SameSite=Strict
cookie; the node's GraphQL takes it only with the CSRF header; the hub's refresh token is
revoked at once; the session keeps working while the hub is down; signing out ends it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from sqlalchemy import select

from hub.app import create_app as create_hub
from hub.db.models import RefreshToken
from hub.services import people, registry
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import upgrade
from shop_node.api.dashboard import _seal
from shop_node.app import create_app as create_node
from shop_node.db.models import HubCredentials
from shop_node.services.bootstrap import prepare_node

from ..conftest import free_ports, in_transaction_sync
from ..live_server import LiveServer
from ..oauth_flow import csrf

BOOKS = "ketab-sara"
PASSWORD = "ali manager pass"
CSRF = {"X-Mallnet-CSRF": "1"}
MEMBERS = {"query": "{ members(first: 1) { totalCount } }"}


async def _network(settings: Settings, node_url: str) -> None:
    """A hub with the shop (its node at ``node_url``) and its manager; the node connected."""
    await upgrade("hub", settings.hub_db_url)
    async with (
        engine_scope(settings.hub_db_url) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        data = registry.ShopInput(BOOKS, BOOKS, BOOKS, "books", node_url=node_url)
        _shop, node = await registry.register_shop(session, data)
        await people.create_user(session, "ali", PASSWORD, "manager", BOOKS)
    await prepare_node(settings, BOOKS)
    async with (
        engine_scope(settings.node_db_url(BOOKS)) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        credentials = HubCredentials(
            id=1, client_id=node.client_id, client_secret=node.client_secret, updated_at=utcnow()
        )
        session.add(credentials)


def _prepared(tmp_path: Path) -> tuple[Settings, int, int, str]:
    """A hub and a node, migrated and connected (not yet served): settings, their ports."""
    hub_port, node_port = free_ports(2)
    hub_url, node_url = f"http://127.0.0.1:{hub_port}", f"http://127.0.0.1:{node_port}"
    settings = Settings(data_dir=tmp_path / "var", hub_url=hub_url)
    asyncio.run(_network(settings, node_url))
    return settings, hub_port, node_port, node_url


def _sign_in(browser: httpx.Client, node_url: str, asked: str | None = None) -> httpx.Response:
    start = browser.get(f"{node_url}/dashboard/login", params={"next": asked} if asked else None)
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    params = {k: v[0] for k, v in parse_qs(urlparse(authorize).query).items()}
    assert params["client_id"] == f"dashboard-{BOOKS}"
    page = browser.get(authorize)
    assert page.status_code == 200, page.text
    form = {**params, **csrf(page), "username": "ali", "password": PASSWORD}
    done = browser.post(authorize.split("?")[0], data=form)
    assert done.status_code == 302, done.text
    back = done.headers["location"]
    assert back.startswith(f"{node_url}/dashboard/callback?")
    return browser.get(back)


def test_a_manager_signs_in_at_the_node_and_keeps_working_through_a_hub_outage(
    tmp_path: Path,
) -> None:
    settings, hub_port, node_port, node_url = _prepared(tmp_path)
    with (
        LiveServer(create_node(BOOKS, settings), node_port),
        httpx.Client(follow_redirects=False, timeout=10) as browser,
    ):
        with LiveServer(create_hub(settings), hub_port):
            done = _sign_in(browser, node_url)
            assert done.status_code == 303, done.text
            assert done.headers["location"] == "/dashboard/"
            cookie = next(
                h
                for h in done.headers.get_list("set-cookie")
                if h.startswith("mallnet-dashboard-ketab-sara=")
            ).lower()
            assert "httponly" in cookie
            assert "samesite=strict" in cookie
            assert "path=/" in cookie
            assert (
                browser.post(f"{node_url}/graphql", json=MEMBERS, headers=CSRF).status_code == 200
            )
            refused = browser.post(f"{node_url}/graphql", json=MEMBERS)
            assert refused.status_code == 403
            assert refused.json()["error"] == "csrf_header_required"
            info = browser.get(f"{node_url}/dashboard/session").json()
            assert info["signedIn"] is True
            assert "shop:manage" in info["scopes"]
            # The header names the manager by the username the hub's token carried.
            assert info["name"] == "ali"
            assert "eyJ" not in done.text + str(info)

            async def revoked(session: Any) -> list[bool]:
                rows = (await session.scalars(select(RefreshToken))).all()
                return [row.revoked_at is not None for row in rows]

            assert in_transaction_sync(settings.hub_db_url, revoked) == [True]
        # The hub is down: the dashboard's session still works.
        answer = browser.post(f"{node_url}/graphql", json=MEMBERS, headers=CSRF)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["members"]["totalCount"] == 0
        # Signing out needs the header too, then ends the session.
        assert browser.post(f"{node_url}/dashboard/logout").status_code == 403
        token = browser.cookies["mallnet-dashboard-ketab-sara"]
        assert browser.post(f"{node_url}/dashboard/logout", headers=CSRF).status_code == 200
        assert "mallnet-dashboard-ketab-sara" not in browser.cookies
        after = httpx.post(
            f"{node_url}/graphql",
            json=MEMBERS,
            headers={**CSRF, "Cookie": f"mallnet-dashboard-ketab-sara={token}"},
        )
        assert after.status_code == 401


def test_a_callback_not_started_in_this_browser_or_at_this_node_is_refused(
    tmp_path: Path,
) -> None:
    hub_port, node_port = free_ports(2)
    node_url = f"http://127.0.0.1:{node_port}"
    settings = Settings(data_dir=tmp_path / "var", hub_url=f"http://127.0.0.1:{hub_port}")
    asyncio.run(_network(settings, node_url))
    with LiveServer(create_node(BOOKS, settings), node_port):
        forged = httpx.get(
            f"{node_url}/dashboard/callback",
            params={"code": "x", "state": "y"},
            headers={"Cookie": "mallnet-dashboard-ketab-sara-login=not-sealed-by-this-node"},
        )
        assert forged.status_code == 400
        assert forged.json()["error"] == "login_state_mismatch"
        # A sign-in another node started (sealed under the same network key) opens only there.
        other = _seal(settings, "kafsh-arya", {"s": "y", "v": "v" * 43, "exp": time.time() + 60})
        moved = httpx.get(
            f"{node_url}/dashboard/callback",
            params={"code": "x", "state": "y"},
            headers={"Cookie": f"mallnet-dashboard-ketab-sara-login={other}"},
        )
        assert moved.status_code == 400
        assert moved.json()["error"] == "login_state_mismatch"


def test_the_dashboard_sign_in_lands_on_the_page_asked_for_and_never_off_it(
    tmp_path: Path,
) -> None:
    settings, hub_port, node_port, node_url = _prepared(tmp_path)
    with (
        LiveServer(create_node(BOOKS, settings), node_port),
        LiveServer(create_hub(settings), hub_port),
    ):
        for asked, lands in (
            ("/dashboard/members/7", "/dashboard/members/7"),
            ("https://evil.example/dashboard/", "/dashboard/"),
            ("/console/", "/dashboard/"),
        ):
            with httpx.Client(follow_redirects=False, timeout=10) as browser:
                done = _sign_in(browser, node_url, asked)
                assert done.status_code == 303, done.text
                assert done.headers["location"] == lands
