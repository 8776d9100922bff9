"""A shopper and a mall manager sign in to the hub's faces in Debian's headless Chromium,
through the hub's own pages (backend-for-frontend, RFC 10017): a page without a session
goes to sign-in; once back, the face says who is signed in, its GraphQL calls work with
the session cookie and the CSRF header, and no token is anywhere a script could read
(localStorage, sessionStorage, a cookie without HttpOnly); signing out ends it.

Skipped without chromium or a build (``make web``), failed then under
``MALLNET_REQUIRE_SERVICES=1``, as ``test_web_shell``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app as create_hub_app
from mallnet.config import Settings

from ..conftest import REQUIRE_SERVICES, free_ports
from ..live_server import LiveServer
from .signin_pages import kept_on_device, prepare_hub, sign_in_manager, sign_in_shopper
from .test_web_shell import CHROMIUM, CHROMIUM_ARGS, _missing

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
VIEWER = """async () => {
  const answer = await fetch('/graphql', {
    method: 'POST',
    headers: {'content-type': 'application/json', ...HEADERS},
    body: JSON.stringify({query: '{ viewer { subject } }'}),
  });
  return [answer.status, await answer.text()];
}"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    if problem := _missing():
        if REQUIRE_SERVICES:
            pytest.fail(f"MALLNET_REQUIRE_SERVICES=1 but {problem}", pytrace=False)
        pytest.skip(problem)
    port = free_ports(1)[0]
    data_dir = tmp_path_factory.mktemp("faces") / "var"
    # The hub's public URL is where its faces' sign-ins come back to.
    settings = Settings(data_dir=data_dir, hub_url=f"http://127.0.0.1:{port}")
    asyncio.run(prepare_hub(settings))
    with LiveServer(create_hub_app(settings), port) as server:
        yield server.url, settings


@pytest.fixture(scope="module")
def browser(hub: tuple[str, Settings]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _viewer(page: Any, headers: str) -> list[Any]:
    return list(page.evaluate(VIEWER.replace("...HEADERS", headers)))


def _no_token_within_reach(context: Any, page: Any) -> None:
    local, session, readable = kept_on_device(page)
    assert session == {}
    assert set(local) <= {"mallnet.lang"}
    assert readable == "", "every cookie is HttpOnly"
    for cookie in context.cookies():
        assert cookie["httpOnly"], cookie["name"]
        assert cookie["sameSite"] == "Strict", cookie["name"]
        assert not JWT.search(cookie["value"]), cookie["name"]


def test_a_shopper_signs_in_and_no_token_reaches_the_page(
    hub: tuple[str, Settings], browser: Any, tmp_path: Path
) -> None:
    url, settings = hub
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        sign_in_shopper(page, f"{url}/app/", settings.data_dir / "sms-outbox.jsonl")
        page.get_by_test_id("signed-in").filter(has_text="۰۹۱۲***۴۵۶۷").wait_for()
        page.screenshot(path=tmp_path / "app-signed-in.png")
        _no_token_within_reach(context, page)
        status, body = _viewer(page, "'X-Mallnet-CSRF': '1'")
        assert status == 200
        assert '"subject":"shopper:' in body
        assert not JWT.search(body)
        # The cookie alone, as a cross-site form would send it, is refused.
        status, body = _viewer(page, "")
        assert status == 403
        assert "csrf_header_required" in body

        page.get_by_role("button", name="خروج").click()
        page.get_by_role("status").filter(has_text="خارج شدید").wait_for()
        assert _viewer(page, "'X-Mallnet-CSRF': '1'")[1].find('"subject"') == -1
        # With the session gone, the app sends the visitor to sign in again.
        page.goto(f"{url}/app/")
        page.wait_for_url("**/oauth/authorize**")
    finally:
        context.close()


def test_a_manager_signs_in_to_the_console(
    hub: tuple[str, Settings], browser: Any, tmp_path: Path
) -> None:
    url, _settings = hub
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        sign_in_manager(page, f"{url}/console/")
        page.get_by_test_id("signed-in").filter(has_text="boss").wait_for()
        page.get_by_role("status").filter(has_text="نسخهٔ سرور").wait_for()
        page.screenshot(path=tmp_path / "console-signed-in.png")
        _no_token_within_reach(context, page)
        status, body = _viewer(page, "'X-Mallnet-CSRF': '1'")
        assert status == 200
        assert '"subject":"mall:' in body
    finally:
        context.close()
