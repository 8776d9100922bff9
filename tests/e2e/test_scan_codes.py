"""Scanning by camera, in Debian's headless Chromium with a fake camera playing a video
file: the till's shop code (its "Shop code" button) scanned by the shopper app's Pay page
chooses the bookshop; the app's network card (its Card page) scanned by the till's find
field looks the shopper up; and the card scanned by the Pay page is refused with a sentence,
choosing nothing. Each video is made here from the QR the other face drew on its canvas
(``mallnet:shop:ketab-sara``, ``mallnet:card:+989121234567``), written as a y4m file.

Skipped without chromium or a build (``make web``), failed then under
``MALLNET_REQUIRE_SERVICES=1``, as ``test_web_shell``."""

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
from .browsers import CHROMIUM, CHROMIUM_ARGS, require_browser
from .signin_pages import BOOKS, SHOP_MANAGER, prepare_hub, sign_in_manager, sign_in_shopper

WEB = Path(__file__).resolve().parents[2] / "web" / "src"
PIN = "2468"
WIDTH, HEIGHT = 640, 480
# The canvas a QrCode drew, as rows of "1" (dark) and "0" (light).
CANVAS_BITS = """canvas => {
  const {width, height} = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const rows = [];
  for (let y = 0; y < height; y += 1) {
    let row = '';
    for (let x = 0; x < width; x += 1) row += pixels[(y * width + x) * 4] < 128 ? '1' : '0';
    rows.push(row);
  }
  return rows;
}"""


def _messages(face: str, key: str) -> dict[str, Any]:
    path = WEB / face / "messages" / "en.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))[key]
    return loaded


def _video(rows: list[str], path: Path) -> Path:
    """A y4m video (4:2:0, 640x480, ten frames a second, looped by Chromium) of the QR,
    centred on white."""
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    top, left = (HEIGHT - len(rows)) // 2, (WIDTH - len(rows[0])) // 2
    for y, row in enumerate(rows):
        start = (top + y) * WIDTH + left
        luma[start : start + len(row)] = bytes(16 if bit == "1" else 235 for bit in row)
    chroma = bytes([128]) * (WIDTH * HEIGHT // 4)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 10)
    return path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    port, node_port = free_ports(2)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("scan") / "var", hub_url=f"http://127.0.0.1:{port}"
    )
    asyncio.run(prepare_hub(settings, f"http://127.0.0.1:{node_port}"))
    with (
        LiveServer(create_hub_app(settings), port) as hub,
        LiveServer(create_node_app(BOOKS, settings), node_port) as node,
    ):
        yield {
            "app": f"{hub.url}/app/",
            "dashboard": f"{node.url}/dashboard/",
            "outbox": settings.data_dir / "sms-outbox.jsonl",
        }


def _camera(playwright: Any, video: Path) -> Any:
    """A Chromium whose camera plays ``video``, allowed without asking."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )


def _phone(browser: Any, state: Any = None) -> Any:
    """A page on a 360 px phone, with the session and language kept in ``state``."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, storage_state=state)
    return context.new_page()


def _desk(browser: Any, state: Any = None) -> Any:
    """A page on a 1280 px till."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=state)
    return context.new_page()


def _open_pay(page: Any, app: str) -> Any:
    page.goto(app)
    page.get_by_role("navigation", name="Tabs").get_by_role("link", name="Pay").click()
    return page.get_by_label("Shop", exact=True)


def test_the_app_scans_the_tills_shop_code_and_the_till_scans_her_card(
    servers: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    till = _messages("dashboard", "till")
    pay = _messages("app", "shopper")["pay"]
    with sync_playwright() as playwright:
        # Given the till's shop code and her network card, each drawn by its face
        plain = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            counter = _desk(plain)
            sign_in_manager(counter, servers["dashboard"], SHOP_MANAGER)
            counter.get_by_role("button", name="English").click()
            counter.get_by_role("button", name=till["shopCode"]["open"]).click()
            code = counter.get_by_test_id("shop-code")
            qr = code.locator("canvas[role=img][data-qr=drawn]")
            qr.wait_for()
            assert BOOKS in code.inner_text()
            counter.wait_for_timeout(500)  # the dialog's opening transition
            counter.screenshot(path=tmp_path / "till-shop-code-1280-en.png")
            assert serious_violations(counter) == []
            shop_video = _video(qr.evaluate(CANVAS_BITS), tmp_path / "shop-code.y4m")
            till_state = counter.context.storage_state()

            mobile = _phone(plain)
            sign_in_shopper(mobile, servers["app"], servers["outbox"])
            mobile.get_by_role("button", name="English").click()
            mobile.get_by_role("navigation", name="Tabs").get_by_role("link", name="Card").click()
            card = mobile.locator("main canvas[role=img][data-qr=drawn]")
            card.wait_for()
            card_video = _video(card.evaluate(CANVAS_BITS), tmp_path / "card.y4m")
            _open_pay(mobile, servers["app"])
            mobile.get_by_label(pay["newPin"], exact=True).fill(PIN)
            mobile.get_by_label(pay["newPinAgain"], exact=True).fill(PIN)
            mobile.get_by_role("button", name=pay["savePin"]).click()
            mobile.get_by_label(pay["pin"], exact=True).wait_for()
            app_state = mobile.context.storage_state()
        finally:
            plain.close()

        # When her phone's camera sees the till's shop code, on the Pay page
        camera = _camera(playwright, shop_video)
        try:
            mobile = _phone(camera, app_state)
            complaints: list[str] = []
            mobile.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
            mobile.on("pageerror", lambda error: complaints.append(str(error)))
            shop = _open_pay(mobile, servers["app"])
            assert shop.input_value() == ""
            mobile.get_by_role("button", name=pay["scan"]["open"]).click()
            # Then the bookshop is chosen, with what she can spend there
            mobile.wait_for_function(
                "slug => document.querySelector('main select')?.value === slug", arg=BOOKS
            )
            mobile.get_by_role("dialog").wait_for(state="detached")
            assert mobile.get_by_test_id("scan-problem").count() == 0
            assert mobile.evaluate("document.documentElement.scrollWidth") == 360
            mobile.screenshot(path=tmp_path / "app-pay-scanned-360-en.png", full_page=True)
            assert serious_violations(mobile) == []
            assert complaints == []  # the reader's WebAssembly ran under the app's CSP
        finally:
            camera.close()

        camera = _camera(playwright, card_video)
        try:
            # When the till's camera sees her network card
            counter = _desk(camera, till_state)
            counter.goto(servers["dashboard"])
            counter.get_by_role("button", name=till["scan"]["open"]).click()
            # Then the till looks her up: not yet a member here, so enrolment, her phone in
            counter.get_by_role("heading", name=till["enrol"]["title"]).wait_for()
            entered = counter.get_by_label(till["enrol"]["phone"]).input_value()
            assert entered.replace(" ", "") == "09121234567"
            counter.screenshot(path=tmp_path / "till-card-scanned-1280-en.png")

            # When the app's Pay page sees her card instead of a shop code
            mobile = _phone(camera, app_state)
            shop = _open_pay(mobile, servers["app"])
            mobile.get_by_role("button", name=pay["scan"]["open"]).click()
            # Then it says so, and chooses nothing
            refused = mobile.get_by_test_id("scan-problem")
            refused.wait_for()
            assert refused.inner_text() == pay["scan"]["notShop"]
            assert shop.input_value() == ""
            assert mobile.url.startswith(servers["app"])
            mobile.get_by_role("dialog").wait_for(state="detached")
            mobile.screenshot(path=tmp_path / "app-pay-refused-360-en.png", full_page=True)
        finally:
            camera.close()
