"""The built web faces in a real headless Chromium (Debian's package), served by a hub and
a node over HTTP: each face opens in Persian, right to left, asks its own server, switches
to English and left to right in one click and keeps the choice, fits 360 px and 1280 px,
breaks no Content-Security-Policy rule, has no serious accessibility violation
(axe-core), and keeps nothing on the device but the language.

Needs ``make web`` (``make test`` builds first) and ``chromium`` (``.ci/run`` installs it):
skipped without them, failed without them under ``MALLNET_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app as create_hub_app
from mallnet.config import Settings
from shop_node.app import create_app as create_node_app

from ..conftest import free_ports
from ..live_server import LiveServer
from .axe import serious_violations
from .browsers import FACES, require_browser
from .signin_pages import SHOP_MANAGER, prepare_hub, sign_in_manager, sign_in_shopper

CATALOGUES = Path(__file__).resolve().parents[2] / "web" / "src" / "shared" / "i18n"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    require_browser()
    # Every face needs someone signed in (test_face_signin): a migrated hub at the public
    # URL its sign-ins come back to, and the shop's node registered there and connected.
    port, node_port = free_ports(2)
    data_dir = tmp_path_factory.mktemp("web") / "var"
    settings = Settings(data_dir=data_dir, hub_url=f"http://127.0.0.1:{port}")
    asyncio.run(prepare_hub(settings, f"http://127.0.0.1:{node_port}"))
    with (
        LiveServer(create_hub_app(settings), port) as hub,
        LiveServer(create_node_app("ketab-sara", settings), node_port) as node,
    ):
        yield {
            "app": f"{hub.url}/app/",
            "console": f"{hub.url}/console/shops",  # a client route: the page all the same
            "dashboard": f"{node.url}/dashboard/",
            "outbox": str(settings.data_dir / "sms-outbox.jsonl"),
        }


def _titles(lang: str) -> dict[str, str]:
    catalogue = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    return {face: catalogue["face"][face]["title"] for face in FACES}


def _html(page: Any) -> list[Any]:
    return list(
        page.evaluate(
            "[document.documentElement.lang, document.documentElement.dir,"
            " document.documentElement.scrollWidth]"
        )
    )


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("face", FACES)
def test_a_face_opens_in_persian_and_switches_to_english(
    face: str, width: int, servers: dict[str, str], browser: Any, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        if face == "app":
            sign_in_shopper(page, servers["app"], Path(servers["outbox"]))
        elif face == "console":
            sign_in_manager(page, servers["console"].removesuffix("shops"))
        else:
            sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        complaints.clear()  # the hub's sign-in pages (no favicon there) are not the face
        # Given a first visit: Persian, right to left, its server answering.
        page.goto(servers[face])
        # The version's status line (a page may show another status while it loads).
        version = page.get_by_role("status").filter(has_text="نسخهٔ سرور")
        version.wait_for()
        assert page.get_by_role("heading", level=1).inner_text() == _titles("fa")[face]
        assert _html(page) == ["fa", "rtl", width], "no sideways scrolling"
        assert "۰" in version.inner_text(), "the version in Persian digits"
        page.screenshot(path=tmp_path / f"{face}-{width}-fa.png")
        assert serious_violations(page) == []
        # When the visitor picks English: English, left to right, and so on the next visit.
        page.get_by_role("button", name="English").click()
        page.get_by_role("status").filter(has_text="Server version").wait_for()
        assert page.get_by_role("heading", level=1).inner_text() == _titles("en")[face]
        assert _html(page) == ["en", "ltr", width]
        page.screenshot(path=tmp_path / f"{face}-{width}-en.png")
        assert serious_violations(page) == []
        page.reload()
        page.get_by_role("status").filter(has_text="Server version").wait_for()
        assert _html(page) == ["en", "ltr", width]
        # Then the device keeps the language and nothing else; the page broke no rule.
        kept = page.evaluate(
            "JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])"
        )
        assert json.loads(kept) == [{"mallnet.lang": "en"}, {}, ""]
        assert complaints == []
    finally:
        context.close()
