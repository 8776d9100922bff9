"""The shopper app as an installable PWA, in Debian's headless Chromium against a live hub:
its manifest parses and names fetchable icons; its service worker registers and takes
control of /app/; signed in, then offline, the app's shell still opens (from the service
worker's precache) and says the device is offline, client routes too, while GraphQL and the
server's sign-in routes fail instead of being answered from a cache; back online, the app
checks the session again by itself and works. The only things cached are the built files.

Skipped without chromium or a build (``make web``), failed then under
``MALLNET_REQUIRE_SERVICES=1``, as ``test_web_shell``."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from mallnet.config import Settings

from .axe import serious_violations
from .browsers import served_hub
from .signin_pages import sign_in_shopper
from .test_web_shell import CATALOGUES

MASKED_PHONE = "۰۹۱۲***۴۵۶۷"
OFFLINE = json.loads((CATALOGUES / "fa.json").read_text(encoding="utf-8"))["offline"]
VIEWER = """async () => {
  try {
    const answer = await fetch('/graphql', {
      method: 'POST',
      headers: {'content-type': 'application/json', 'X-Mallnet-CSRF': '1'},
      body: JSON.stringify({query: '{ viewer { subject } }'}),
      signal: AbortSignal.timeout(10000),
    });
    return [answer.status, await answer.text()];
  } catch (error) {
    return [0, String(error)];
  }
}"""
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""
WORKER = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return [registration.scope, registration.active.state, registration.active.scriptURL];
}"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with served_hub(tmp_path_factory, "pwa") as served:
        yield served


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_makes_the_app_installable(hub: tuple[str, Settings], browser: Any) -> None:
    url, _settings = hub
    context = browser.new_context()
    try:
        page = context.request.get(f"{url}/app/")
        link = re.search(r'<link rel="manifest" href="([^"]+)"', page.text())
        assert link, "the page names its manifest"
        manifest_url = urljoin(f"{url}/app/", link.group(1))
        answer = context.request.get(manifest_url)
        assert answer.ok
        assert answer.headers["content-type"] == "application/manifest+json"
        assert answer.headers["cache-control"] == "no-cache"
        manifest = answer.json()
        assert "مال‌نت" in manifest["name"]
        assert manifest["short_name"] == "مال‌نت"
        assert (manifest["lang"], manifest["dir"]) == ("fa", "rtl")
        assert manifest["start_url"] == manifest["scope"] == "/app/"
        assert manifest["display"] == "standalone"
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
        sizes = set()
        for icon in manifest["icons"]:
            image = context.request.get(urljoin(manifest_url, icon["src"]))
            assert image.ok, icon["src"]
            assert image.headers["content-type"] == icon["type"] == "image/png"
            width, height = _png_size(image.body())
            assert icon["sizes"] == f"{width}x{height}"
            sizes.add((icon["sizes"], icon.get("purpose", "any")))
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    finally:
        context.close()


def test_offline_the_shell_opens_and_says_so_but_nothing_is_answered_from_cache(
    hub: tuple[str, Settings], browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import Error as PlaywrightError

    url, settings = hub
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    signed_in = page.get_by_test_id("signed-in").filter(has_text=MASKED_PHONE)
    notice = page.get_by_role("status").filter(has_text=OFFLINE["title"])
    try:
        sign_in_shopper(page, f"{url}/app/", settings.data_dir / "sms-outbox.jsonl")
        signed_in.wait_for()
        # Registered from pwa.ts; active and in control of this page once precached.
        scope, state, script = page.evaluate(WORKER)
        assert scope == f"{url}/app/"
        assert state in ("activating", "activated")
        assert script == f"{url}/app/sw.js"
        page.wait_for_function("navigator.serviceWorker.controller !== null")

        context.set_offline(True)
        page.reload()
        notice.wait_for()
        page.get_by_role("status").filter(has_text=OFFLINE["session"]).wait_for()
        assert signed_in.count() == 0, "offline, nobody is shown as signed in from a cache"
        page.screenshot(path=tmp_path / "app-offline.png")
        assert serious_violations(page) == []
        status, body = page.evaluate(VIEWER)
        assert status == 0, f"GraphQL answered offline: {status} {body}"
        assert "Failed to fetch" in body, "a network error, not a timeout"
        # A client route opens the shell too.
        page.goto(f"{url}/app/history")
        notice.wait_for()

        # Back online: the page checks the session again by itself, and GraphQL works.
        context.set_offline(False)
        signed_in.wait_for()
        notice.wait_for(state="detached")
        status, body = page.evaluate(VIEWER)
        assert status == 200
        assert '"subject":"shopper:' in body

        cached = page.evaluate(CACHED_URLS)
        assert "/app/index.html" in cached
        assert any(path.startswith("/app/assets/") for path in cached)
        assert all(path.startswith("/app/") for path in cached), cached
        assert not [p for p in cached if re.search(r"/(graphql|session|login|logout)", p)]

        # The server's own routes under /app/ are never answered with the shell.
        context.set_offline(True)
        for route in ("/app/login", "/app/session"):
            with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
                page.goto(f"{url}{route}")
    finally:
        context.close()
