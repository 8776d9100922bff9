"""The till (the shop dashboard on its node) in a real headless Chromium, at a 1280 px
till, in Persian and in English: a new shopper is enrolled with every consent asked and
none ticked in advance; a purchase is recorded keyboard-first, its earnings shown before
it is confirmed, in under ten key presses once the member is found; the receipt is shown;
part of the purchase is refunded from the member's purchase list. Each screen has no
serious accessibility violation (axe-core).

Needs the dashboard built (``make web``) and ``chromium``: skipped without them, failed
without them under ``MALLNET_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hub.app import create_app as create_hub_app
from hub.db.models import Membership
from hub.services import value
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.secrets_store import network_key, pseudonym
from shop_node.app import create_app as create_node_app
from shop_node.db.models import Member, Purchase, Refund

from ..conftest import free_ports, in_transaction_sync
from ..live_server import LiveServer
from .axe import serious_violations
from .browsers import launched_chromium, require_browser
from .signin_pages import BOOKS, SHOP_MANAGER, prepare_hub, sign_in_manager

MESSAGES = Path(__file__).resolve().parents[2] / "web" / "src" / "dashboard" / "messages"
# A camera that shows a test pattern, allowed without asking: the QR reader runs.
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# What the cashier types for the amount: 250,000 toman, in the page's own digits.
AMOUNT = {"fa": "۲۵۰۰۰۰", "en": "250000"}
PHONE = {"fa": "۰۹۱۲ ۳۳۳ ۴۴۵۵", "en": "09124445566"}
E164 = {"fa": "+989123334455", "en": "+989124445566"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    port, node_port = free_ports(2)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("till") / "var", hub_url=f"http://127.0.0.1:{port}"
    )
    asyncio.run(prepare_hub(settings, f"http://127.0.0.1:{node_port}"))
    with (
        LiveServer(create_hub_app(settings), port),
        LiveServer(create_node_app(BOOKS, settings), node_port) as node,
    ):
        yield {"dashboard": f"{node.url}/dashboard/", "settings": settings}


@pytest.fixture(scope="module")
def browser(servers: dict[str, Any]) -> Iterator[Any]:
    with launched_chromium(FAKE_CAMERA) as chromium:
        yield chromium


def _till(lang: str) -> dict[str, Any]:
    messages: dict[str, Any] = json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))[
        "till"
    ]
    return messages


def _node_rows(settings: Settings, phone: str) -> dict[str, Any]:
    """What the node recorded for the shopper: consents, purchases and refunds."""

    async def read() -> dict[str, Any]:
        async with (
            engine_scope(settings.node_db_url(BOOKS)) as engine,
            session_factory(engine)() as session,
        ):
            member = await session.scalar(select(Member).where(Member.phone == phone))
            assert member is not None
            purchases = (
                await session.scalars(select(Purchase).where(Purchase.member_id == member.id))
            ).all()
            refunds = (
                await session.scalars(
                    select(Refund).where(Refund.purchase_id.in_([p.id for p in purchases]))
                )
            ).all()
            return {
                "consents": (
                    member.consent_sms,
                    member.consent_promotional,
                    member.consent_partner_sharing,
                ),
                "name": member.name,
                "purchases": [(p.receipt_id, p.total_rial) for p in purchases],
                "refunds": [r.amount_rial for r in refunds],
            }

    # Playwright's synchronous API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def _screen(page: Any, path: Path) -> None:
    page.mouse.move(0, 0)  # the screen as it rests, not a button under the last click
    page.screenshot(path=path, full_page=True)
    assert serious_violations(page) == []


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_enrol_sell_in_few_keys_show_the_receipt_and_refund_part(
    lang: str, servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    till = _till(lang)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        page.get_by_role("status").filter(has_text="نسخهٔ سرور").wait_for()
        page.wait_for_function("document.activeElement?.id === 'find-shopper'")
        if lang == "en":
            page.get_by_role("button", name="English").click()
            page.get_by_role("status").filter(has_text="Server version").wait_for()

        # Given a shopper who is not a member: the one search field says so, and offers
        # to enrol with the phone already typed.
        find = page.get_by_role("textbox", name=till["find"]["label"])
        find.fill(PHONE[lang])
        find.press("Enter")
        page.get_by_role("heading", name=till["enrol"]["title"]).wait_for()
        consents = [
            page.get_by_label(till["enrol"][key])
            for key in ("consentSms", "consentPromotional", "consentPartners")
        ]
        assert [box.is_checked() for box in consents] == [False, False, False]
        _screen(page, tmp_path / f"till-enrol-{lang}.png")
        # When the cashier enrols her with a name, a Jalali birthday and SMS only
        page.get_by_label(till["enrol"]["name"]).fill("سارا" if lang == "fa" else "Sara")
        page.get_by_label(till["enrol"]["birthday"]).fill("۱۳۷۰/۵/۱۲")
        consents[0].check()
        page.get_by_role("button", name=till["enrol"]["submit"], exact=True).click()

        # Then she is served at once, the amount field has the focus, and a purchase with
        # its earnings shown first takes the amount's digits and two Enters.
        amount = page.get_by_test_id("sale-amount")
        amount.wait_for()
        page.wait_for_function("document.activeElement?.dataset.testid === 'sale-amount'")
        keys = 0
        for digit in AMOUNT[lang]:
            page.keyboard.type(digit)  # one key each (a Persian layout types ۲ with one key)
            keys += 1
        page.keyboard.press("Enter")
        keys += 1
        preview = page.get_by_test_id("sale-preview")
        preview.wait_for()
        earned = "۲۵۰" if lang == "fa" else "250"  # 1 point per 1,000 toman at bronze
        assert earned in preview.inner_text()
        _screen(page, tmp_path / f"till-preview-{lang}.png")
        page.keyboard.press("Enter")
        keys += 1
        receipt = page.get_by_test_id("receipt")
        receipt.wait_for()
        assert keys == len(AMOUNT[lang]) + 2 < 10, f"{keys} key presses"
        total = "۲۵۰٬۰۰۰" if lang == "fa" else "250,000"
        assert total in receipt.inner_text()
        _screen(page, tmp_path / f"till-receipt-{lang}.png")
        page.emulate_media(media="print")  # printed, only the receipt shows
        page.screenshot(path=tmp_path / f"till-receipt-print-{lang}.png")
        assert not page.get_by_role("button", name=till["receipt"]["print"]).is_visible()
        page.emulate_media(media="screen")

        rows = _node_rows(servers["settings"], E164[lang])
        assert rows["consents"] == (True, False, False), "what she chose, nothing more"
        assert rows["name"] == ("سارا" if lang == "fa" else "Sara")
        assert [t for _, t in rows["purchases"]] == [2_500_000]

        # When the next shopper is the same member again (her network card scanned), and
        # part of her purchase is refunded
        page.keyboard.press("Enter")  # "next shopper" has the focus on the receipt
        find.fill(f"mallnet:card:{E164[lang]}")  # as a handheld scanner types her card QR
        find.press("Enter")
        # Found: the field empties once her lookup answered (until then, a list on the page
        # may still be the one it replaces, and a refund opened there would vanish with it).
        expect(find).to_have_value("", timeout=30_000)
        page.get_by_test_id("purchase-list").wait_for()
        page.get_by_role("button", name=till["refund"]["button"]).first.click()
        page.get_by_test_id("refund-amount").fill("100000")
        page.get_by_role("button", name=till["refund"]["submit"], exact=True).last.click()
        done = page.get_by_test_id("refund-done")
        done.wait_for()
        assert ("۱۰۰٬۰۰۰" if lang == "fa" else "100,000") in done.inner_text()
        _screen(page, tmp_path / f"till-refund-{lang}.png")
        # A narrower screen (768 px) stacks the same till, without sideways scrolling.
        page.set_viewport_size({"width": 768, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") == 768
        _screen(page, tmp_path / f"till-refund-768-{lang}.png")
        # Then the node recorded one refund of 100,000 toman, and nothing broke
        assert _node_rows(servers["settings"], E164[lang])["refunds"] == [1_000_000]
        assert complaints == []
    finally:
        context.close()


NETWORK_PHONE = "09127778899"
NETWORK_CREDIT_RIAL = 300_000


def _give_network_credit(settings: Settings, phone: str) -> None:
    """The shopper holds 30,000 toman of general credit at the hub, spendable here, and is
    a member of the shop's club there (as the node's enrolment event would tell the hub)."""
    who = pseudonym(network_key(settings), "+98" + phone[1:])

    async def give(session: Any) -> None:
        session.add(Membership(pseudonym=who, shop=BOOKS, joined_at=utcnow()))
        await value.issue(
            session,
            value.IssueInput(
                pseudonym=who,
                kind="general_credit",
                issuer=BOOKS,
                amount=NETWORK_CREDIT_RIAL,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key=f"lot-{phone}",
            ),
        )

    with ThreadPoolExecutor(1) as pool:
        pool.submit(in_transaction_sync, settings.hub_db_url, give).result()


def _network_standing(settings: Settings, phone: str) -> list[tuple[str, int, int]]:
    """The shopper's general credit at the hub: (kind, available, held) per kind."""
    who = pseudonym(network_key(settings), "+98" + phone[1:])

    async def read(session: Any) -> list[tuple[str, int, int]]:
        summary = await value.summary(session, who)
        return [(b.kind, b.available, b.held) for b in summary.credit]

    with ThreadPoolExecutor(1) as pool:
        found: list[tuple[str, int, int]] = pool.submit(
            in_transaction_sync, settings.hub_db_url, read
        ).result()
    return found


def _texts(settings: Settings) -> list[str]:
    outbox = settings.data_dir / "sms-outbox.jsonl"
    return outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []


def _texted_code(settings: Settings, before: int) -> str:
    """The code of the text sent after the first ``before`` (the development outbox)."""
    deadline = time.monotonic() + 10
    while len(records := _texts(settings)) <= before:
        assert time.monotonic() < deadline, "no text was sent"
        time.sleep(0.05)
    text = json.loads(records[-1])["text"]
    return str(re.findall(r"(?<!\d)(\d{8}|\d{6})(?!\d)", text)[-1])


def test_network_value_by_a_texted_code_pays_part_of_a_sale(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    till = _till("fa")
    settings: Settings = servers["settings"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        # Given a member with network value at the hub
        find = page.get_by_role("textbox", name=till["find"]["label"])
        find.fill(NETWORK_PHONE)
        find.press("Enter")
        page.get_by_role("button", name=till["enrol"]["submit"], exact=True).click()
        page.get_by_test_id("sale-amount").wait_for()
        _give_network_credit(settings, NETWORK_PHONE)
        full = [("general_credit", NETWORK_CREDIT_RIAL, 0)]
        assert _network_standing(settings, NETWORK_PHONE) == full

        def hold_with_a_texted_code() -> Any:
            page.get_by_test_id("sale-amount").fill("100000")
            sent = len(_texts(settings))
            page.get_by_role("button", name=till["network"]["sendCode"]).click()
            page.get_by_text(till["network"]["codeSent"]).wait_for()
            page.get_by_label(till["network"]["code"]).fill(_texted_code(settings, sent))
            page.get_by_role("button", name=till["network"]["hold"], exact=True).click()
            held = page.get_by_test_id("network-held")
            held.wait_for()
            return held

        # When a sale with value held is abandoned, the hold is released
        assert "۳۰٬۰۰۰" in hold_with_a_texted_code().inner_text()
        assert _network_standing(settings, NETWORK_PHONE) == [
            ("general_credit", 0, NETWORK_CREDIT_RIAL)
        ]
        page.get_by_role("button", name=till["sale"]["cancel"]).click()
        page.get_by_test_id("network-held").wait_for(state="detached")
        assert _network_standing(settings, NETWORK_PHONE) == full
        # When the till asks the hub to text her a code, and types it in
        assert "۳۰٬۰۰۰" in hold_with_a_texted_code().inner_text()
        page.get_by_role("button", name=till["sale"]["preview"]).click()
        page.get_by_test_id("sale-preview").wait_for()
        _screen(page, tmp_path / "till-network-fa.png")
        page.keyboard.press("Enter")
        # Then the purchase captured the hold: 30,000 of the 100,000 toman
        receipt = page.get_by_test_id("receipt")
        receipt.wait_for()
        assert till["receipt"]["network"] in receipt.inner_text()
        assert "۷۰٬۰۰۰" in receipt.inner_text()  # paid at the till
    finally:
        context.close()


def test_the_camera_reader_loads_zxing_from_our_own_origin(
    servers: dict[str, Any], browser: Any
) -> None:
    till = _till("fa")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        page.get_by_role("status").filter(has_text="نسخهٔ سرور").wait_for()
        complaints.clear()  # the hub's sign-in pages are not the till
        if page.evaluate("'BarcodeDetector' in window"):
            pytest.skip("this Chromium has its own BarcodeDetector: no polyfill to load")
        # When the cashier opens the camera (a fake one, showing a test pattern)
        with page.expect_response(lambda r: r.url.endswith(".wasm"), timeout=15_000) as wasm:
            page.get_by_role("button", name=till["scan"]["open"]).click()
        # Then ZXing's WebAssembly comes from the node itself, and runs under its CSP
        assert wasm.value.url.startswith(servers["dashboard"].removesuffix("dashboard/"))
        assert wasm.value.status == 200
        assert wasm.value.headers["content-type"] == "application/wasm"
        page.get_by_role("dialog").wait_for()
        page.wait_for_timeout(1_500)  # a few frames read (no QR in a test pattern)
        assert serious_violations(page) == []
        assert complaints == []
    finally:
        context.close()
