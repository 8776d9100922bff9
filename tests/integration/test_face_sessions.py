"""The hub's faces as a backend-for-frontend (RFC 10017), over real HTTP: a shopper signs
in through /app/login and the hub's pages, the browser gets only an HttpOnly SameSite=Strict
cookie with an opaque id, GraphQL takes that cookie only with the CSRF header, and signing
out revokes the refresh token. No response ever carries a token."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import select, update

from hub.app import create_app
from hub.db.models import FaceSession, RefreshToken, User
from hub.services import people, registry
from hub.web.bff.faces import FACES, client_secret
from hub.web.bff.store import load
from mallnet.config import Settings
from mallnet.db import create_engine, session_factory
from mallnet.keywrap import keyring_for
from mallnet.migrations import upgrade

from ..conftest import HubDatabases, free_ports, in_transaction, in_transaction_sync
from ..live_server import LiveServer
from ..oauth_flow import csrf, shopper_code

PHONE = "09121234567"
PASSWORD = "correct horse battery"
CSRF = {"X-Mallnet-CSRF": "1"}
ME = {"query": "{ me { phoneMasked } viewer { subject scopes } }"}
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


async def _hub(url: str) -> dict[str, Any]:
    await upgrade("hub", url)

    async def work(session: Any) -> dict[str, Any]:
        shop = registry.ShopInput("ketab-sara", "کتاب‌سرا", "Ketab Sara", "books")
        await registry.register_shop(session, shop)
        await people.create_user(session, "boss", PASSWORD, "mall_admin", None)
        return {}

    result: dict[str, Any] = await in_transaction(url, work)
    return result


class Hub:
    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self.browser = httpx.Client(base_url=url, follow_redirects=False, timeout=10)
        self.seen: list[httpx.Response] = []

    def get(self, path: str, **kw: Any) -> httpx.Response:
        response = self.browser.get(path, **kw)
        self.seen.append(response)
        return response

    def post(self, path: str, **kw: Any) -> httpx.Response:
        response = self.browser.post(path, **kw)
        self.seen.append(response)
        return response

    def sign_in(self) -> httpx.Response:
        """/app/login, the hub's sign-in pages, /app/callback: the callback's response."""
        start = self.get("/app/login")
        assert start.status_code == 302, start.text
        location = urlparse(start.headers["location"])
        assert location.path == "/oauth/authorize"
        params = {k: v[0] for k, v in parse_qs(location.query).items()}
        code = shopper_code(
            self.browser, params, PHONE, self.settings.data_dir / "sms-outbox.jsonl"
        )
        return self.get("/app/callback", params={"code": code, "state": params["state"]})

    def console_sign_in(self, asked: str | None = None) -> httpx.Response:
        start = self.get("/console/login", params={"next": asked} if asked else None)
        params = {k: v[0] for k, v in parse_qs(urlparse(start.headers["location"]).query).items()}
        page = self.get("/oauth/authorize", params=params)
        form = {**params, **csrf(page), "username": "boss", "password": PASSWORD}
        done = self.post("/oauth/authorize", data=form)
        assert done.status_code == 302, done.text
        query = parse_qs(urlparse(done.headers["location"]).query)
        return self.get("/console/callback", params={k: v[0] for k, v in query.items()})

    def graphql(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.post("/graphql", json=ME, headers=headers or {})

    def db(self, work: Any) -> Any:
        return in_transaction_sync(self.settings.hub_db_url, work)


@pytest.fixture
def hub(tmp_path: Path, hub_databases: HubDatabases) -> Iterator[Hub]:
    port = free_ports(1)[0]
    data_dir, hub_url = tmp_path / "var", f"http://127.0.0.1:{port}"
    settings, _ = hub_databases.settings_for(_hub, data_dir, hub_url)
    with LiveServer(create_app(settings), port) as server:
        hub = Hub(server.url, settings)
        try:
            yield hub
        finally:
            hub.browser.close()


def _set_cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


def test_sign_in_sets_only_an_httponly_strict_cookie_and_graphql_needs_the_header(
    hub: Hub,
) -> None:
    done = hub.sign_in()
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/app/"
    cookie = _set_cookie(done, "mallnet-app").lower()
    # Development over http: no __Host- prefix, no Secure (a browser would refuse both).
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    assert "domain=" not in cookie
    assert "secure" not in cookie

    signed_in = hub.graphql(CSRF)
    assert signed_in.status_code == 200, signed_in.text
    data = signed_in.json()["data"]
    assert data["viewer"]["subject"].startswith("shopper:")
    assert set(data["viewer"]["scopes"]) == {"shopper:read", "shopper:consent"}
    assert data["me"]["phoneMasked"]

    # The same cookie without the header: refused, with a code saying why.
    forged = hub.graphql()
    assert forged.status_code == 403
    assert forged.json()["error"] == "csrf_header_required"

    # The session says who, never a token.
    info = hub.get("/app/session").json()
    assert info["signedIn"] is True
    assert info["who"] == "shopper"
    assert info["name"] == "0912***4567"
    for response in hub.seen:
        assert not JWT.search(response.text), response.request.url
        for header in response.headers.get_list("set-cookie"):
            assert not JWT.search(header)


def test_a_forged_or_ended_session_cookie_is_refused(hub: Hub) -> None:
    forged = httpx.post(
        f"{hub.url}/graphql", json=ME, headers=CSRF, cookies={"mallnet-app": "x" * 43}
    )
    assert forged.status_code == 401
    assert forged.json()["error"] == "invalid_token"

    assert hub.sign_in().status_code == 303

    async def expire(session: Any) -> None:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        await session.execute(update(FaceSession).values(expires_at=past))

    hub.db(expire)
    ended = hub.graphql(CSRF)
    assert ended.status_code == 401
    assert hub.get("/app/session").json()["signedIn"] is False


def test_the_cookie_is_not_a_credential_outside_graphql(hub: Hub) -> None:
    """At /oauth/* the session cookie is nobody: the token endpoint wants a client."""
    assert hub.sign_in().status_code == 303
    answer = hub.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=CSRF)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_an_expired_access_token_is_refreshed_server_side(hub: Hub) -> None:
    assert hub.sign_in().status_code == 303

    async def stale(session: Any) -> str:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        await session.execute(update(FaceSession).values(access_expires_at=past))
        return str(await session.scalar(select(FaceSession.sealed_tokens)))

    before = hub.db(stale)
    again = hub.graphql(CSRF)
    assert again.status_code == 200, again.text
    assert again.json()["data"]["viewer"]["subject"].startswith("shopper:")

    async def sealed(session: Any) -> str:
        return str(await session.scalar(select(FaceSession.sealed_tokens)))

    assert hub.db(sealed) != before


def test_sign_out_revokes_the_refresh_token_and_clears_the_cookie(hub: Hub) -> None:
    assert hub.sign_in().status_code == 303
    session_id = hub.browser.cookies["mallnet-app"]

    async def held() -> Any:
        engine = create_engine(hub.settings.hub_db_url)
        try:
            return await load(session_factory(engine), keyring_for(hub.settings), session_id)
        finally:
            await engine.dispose()

    tokens = asyncio.run(held()).tokens
    # Without the CSRF header a sign-out is refused (a cross-site form cannot sign out).
    assert hub.post("/app/logout").status_code == 403
    out = hub.post("/app/logout", headers=CSRF)
    assert out.status_code == 200
    cleared = _set_cookie(out, "mallnet-app").lower()
    assert "max-age=0" in cleared or "expires=" in cleared

    async def revoked(session: Any) -> bool:
        rows = (await session.scalars(select(RefreshToken))).all()
        return bool(rows) and all(row.revoked_at is not None for row in rows)

    assert hub.db(revoked)
    refreshed = httpx.post(
        f"{hub.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        auth=("hub-app", client_secret(keyring_for(hub.settings), FACES["app"])),
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    # The old cookie value names no session any more.
    assert (
        httpx.post(
            f"{hub.url}/graphql", json=ME, headers=CSRF, cookies={"mallnet-app": session_id}
        ).status_code
        == 401
    )


def test_a_code_is_taken_only_by_the_browser_that_started_the_sign_in(hub: Hub) -> None:
    """Login CSRF: an attacker's own code and state, fed to a victim's browser, sign the
    victim into nothing (the state is bound to the browser that went to /app/login)."""
    start = hub.get("/app/login")
    params = {k: v[0] for k, v in parse_qs(urlparse(start.headers["location"]).query).items()}
    code = shopper_code(hub.browser, params, PHONE, hub.settings.data_dir / "sms-outbox.jsonl")
    victim = httpx.get(f"{hub.url}/app/callback", params={"code": code, "state": params["state"]})
    assert victim.status_code == 400
    assert victim.json()["error"] == "login_state_mismatch"
    assert "mallnet-app=" not in " ".join(victim.headers.get_list("set-cookie"))


def test_mall_management_signs_in_to_the_console_and_a_disabled_account_stops_at_once(
    hub: Hub,
) -> None:
    done = hub.console_sign_in()
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/console/"
    viewer = hub.graphql(CSRF).json()["data"]["viewer"]
    assert viewer["subject"].startswith("mall:")
    assert "mall:admin" in viewer["scopes"]
    info = hub.get("/console/session").json()
    assert info["name"] == "boss"
    # The console's cookie is not the app's: the app's shell sees nobody.
    assert hub.get("/app/session").json()["signedIn"] is False
    # The cookie is a credential at /graphql only: elsewhere (a statement download, which
    # mall management may make with a bearer token) it is nobody, header or not.
    download = hub.get("/settlement/statements/1/ketab-sara.csv", headers=CSRF)
    assert download.status_code == 401
    assert download.json()["error"] == "UNAUTHENTICATED"

    async def disable(session: Any) -> None:
        await session.execute(update(User).values(disabled_at=dt.datetime.now(dt.UTC)))

    hub.db(disable)
    assert hub.graphql(CSRF).status_code == 401
    assert hub.get("/console/session").json()["signedIn"] is False


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/console/lotteries/abc", "/console/lotteries/abc"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/", "/console/"),
        ("/app/history", "/console/"),
    ],
)
def test_the_sign_in_lands_on_the_page_asked_for_and_never_off_the_face(
    hub: Hub, asked: str, lands: str
) -> None:
    done = hub.console_sign_in(asked)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == lands
