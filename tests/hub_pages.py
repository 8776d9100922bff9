"""A hub on SQLite with its sign-in pages, driven in-process through Starlette's TestClient
as a browser would (cookies kept, each form posted with the fields its page showed).

The TestClient's peer address is chosen per test: a trusted proxy (then each request says
whose it is in ``X-Forwarded-For``) or a client connecting directly."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import httpx2 as httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.testclient import TestClient

from hub.app import create_app
from hub.services import people, registry
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.migrations import upgrade
from mallnet.scopes import Scope

REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the tests read the redirect
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def in_hub(settings: Settings, work: Any) -> Any:
    async with (
        engine_scope(settings.hub_db_url) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        return await work(session)


async def register_signin_clients(session: Any) -> dict[str, registry.IssuedCredentials]:
    """A shop, the shopper app (public) and the staff dashboard (confidential) as clients
    redirecting to ``REDIRECT``, and the shop's manager ``ali`` with ``PASSWORD``."""
    shop = registry.ShopInput("ketab-sara", "کتاب‌سرا", "Ketab Sara", "books")
    await registry.register_shop(session, shop)
    app = await registry.create_app_client(
        session,
        kind="shopper_app",
        name="shopper app",
        scopes=[Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT],
        redirect_uris=[REDIRECT],
        public=True,
    )
    staff = await registry.create_app_client(
        session,
        kind="console",
        name="staff dashboard",
        scopes=[Scope.SHOP_MANAGE, Scope.SHOP_OPERATE, Scope.SHOP_READ],
        redirect_uris=[REDIRECT],
        public=False,
    )
    await people.create_user(session, "ali", PASSWORD, "manager", "ketab-sara")
    return {"app": app, "staff": staff}


async def _prepare(settings: Settings) -> dict[str, str]:
    await upgrade("hub", settings.hub_db_url)
    clients = await in_hub(settings, register_signin_clients)
    return {who: credentials.client_id for who, credentials in clients.items()}


class Page(Protocol):
    @property
    def text(self) -> str: ...


def form_fields(page: Page) -> dict[str, str]:
    """The CSRF field of the page's form ({} on a page without one)."""
    found = _TOKEN.search(page.text)
    return {} if found is None else {"csrf_token": found.group(1)}


class HubPages:
    def __init__(self, http: TestClient, settings: Settings, clients: dict[str, str]) -> None:
        self.http = http
        self.settings = settings
        self.clients = clients

    def params(self, who: str) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.clients[who],
            "redirect_uri": REDIRECT,
            "state": "s",
            "code_challenge": create_s256_code_challenge(generate_token(48)),
            "code_challenge_method": "S256",
        }

    def outbox(self) -> list[str]:
        path = self.settings.data_dir / "sms-outbox.jsonl"
        return path.read_text().splitlines() if path.exists() else []

    def sign_in(self, username: str, password: str, address: str | None = None) -> httpx.Response:
        """Open the staff sign-in page and post it (from ``address``, as forwarded by the
        proxy, when given)."""
        headers = {"X-Forwarded-For": address} if address else {}
        params = self.params("staff")
        page = self.http.get("/oauth/authorize", params=params, headers=headers)
        assert page.status_code == 200, page.text
        data = {**params, **form_fields(page), "username": username, "password": password}
        return self.http.post("/oauth/authorize", data=data, headers=headers)

    def ask_code(self, phone: str, address: str | None = None) -> httpx.Response:
        """Open the shopper sign-in page and ask for a code to ``phone``."""
        headers = {"X-Forwarded-For": address} if address else {}
        params = self.params("app")
        page = self.http.get("/oauth/authorize", params=params, headers=headers)
        assert page.status_code == 200, page.text
        data = {**params, **form_fields(page), "phone": phone}
        return self.http.post("/oauth/otp", data=data, headers=headers)


def signed_in(response: httpx.Response) -> bool:
    """Whether the sign-in ended in a redirect carrying an authorization code."""
    if response.status_code != 302:
        return False
    return "code" in parse_qs(urlparse(response.headers["location"]).query)


@contextmanager
def hub_pages(settings: Settings, peer: str = "testclient") -> Iterator[HubPages]:
    """A fresh hub for ``settings`` (SQLite in its data directory), its pages served to a
    TestClient connecting from ``peer``."""
    clients = asyncio.run(_prepare(settings))
    app = create_app(settings)
    # localhost: Authlib refuses plain HTTP elsewhere.
    with TestClient(
        app, base_url="http://localhost", client=(peer, 50000), follow_redirects=False
    ) as http:
        yield HubPages(http, settings, clients)
