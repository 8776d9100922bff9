"""The faces' cookies in production, over https: ``__Host-`` names, Secure, HttpOnly,
SameSite=Strict, Path=/ and no Domain (a browser then keeps them to this exact host); a
mall manager signs in to the console through the hub's password page. In development over
plain http the same cookies carry no prefix and no Secure (test_face_sessions)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

from hub.app import create_app
from hub.services import people
from mallnet.config import Settings
from mallnet.keywrap import new_kek
from mallnet.migrations import upgrade

from ..hub_pages import form_fields, in_hub

HUB = "https://hub.mall.example"
PASSWORD = "correct horse battery"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        environment="production",
        data_dir=tmp_path / "var",
        hub_url=HUB,
        network_key=secrets.token_urlsafe(48),
        key_encryption_key=new_kek(),
    )

    async def prepare() -> None:
        await upgrade("hub", settings.hub_db_url)

        async def work(session: Any) -> None:
            await people.create_user(session, "boss", PASSWORD, "mall_admin", None)

        await in_hub(settings, work)

    asyncio.run(prepare())
    with TestClient(create_app(settings), base_url=HUB, follow_redirects=False) as client:
        yield client


def _cookie(response: Any, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return str(header).lower()
    raise AssertionError(f"no {name} in {response.headers.get_list('set-cookie')}")


def _host_cookie(header: str) -> None:
    assert "; secure" in header
    assert "; httponly" in header
    assert "; samesite=strict" in header
    assert "; path=/" in header
    assert "domain=" not in header


def test_production_cookies_are_host_only_secure_httponly_and_strict(
    browser: TestClient,
) -> None:
    start = browser.get("/console/login")
    assert start.status_code == 302
    _host_cookie(_cookie(start, "__Host-mallnet-console-login"))
    params = {k: v[0] for k, v in parse_qs(urlparse(start.headers["location"]).query).items()}
    assert params["redirect_uri"] == f"{HUB}/console/callback"
    page = browser.get("/oauth/authorize", params=params)
    form = {**params, **form_fields(page), "username": "boss", "password": PASSWORD}
    done = browser.post("/oauth/authorize", data=form)
    assert done.status_code == 302, done.text
    query = {k: v[0] for k, v in parse_qs(urlparse(done.headers["location"]).query).items()}
    back = browser.get("/console/callback", params=query)
    assert back.status_code == 303, back.text
    _host_cookie(_cookie(back, "__Host-mallnet-console"))
    # The development name is not a credential in production.
    session_id = browser.cookies.get("__Host-mallnet-console")
    assert session_id
    viewer = {"query": "{ viewer { subject } }"}
    ok = browser.post("/graphql", json=viewer, headers={"X-Mallnet-CSRF": "1"})
    assert ok.json()["data"]["viewer"]["subject"].startswith("mall:")
    browser.cookies.clear()
    plain = browser.post(
        "/graphql",
        json=viewer,
        headers={"X-Mallnet-CSRF": "1", "Cookie": f"mallnet-console={session_id}"},
    )
    assert plain.status_code == 200
    assert plain.json()["data"] is None, "anonymous: viewer needs someone signed in"
