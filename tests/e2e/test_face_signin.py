"""A shopper and a mall manager sign in to the hub's faces in Debian's headless Chromium,
through the hub's own pages (backend-for-frontend, RFC 10017): a page without a session
goes to sign-in; once back, the face says who is signed in, its GraphQL calls work with
the session cookie and the CSRF header, and no token is anywhere a script could read
(localStorage, sessionStorage, a cookie without HttpOnly); signing out ends it.

Skipped without chromium or a build (``make web``), failed then under
``MALLNET_REQUIRE_SERVICES=1``, as ``test_web_shell``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mallnet.config import Settings

from .browsers import served_hub
from .signin_pages import kept_on_device, sign_in_manager, sign_in_shopper

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
    with served_hub(tmp_path_factory, "faces") as served:
        yield served


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
