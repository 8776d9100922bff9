"""The till-and-app story in real browsers against the demo's processes (hub, three nodes,
worker and beat, as ``make demo`` starts them), signed in with the sign-ins the demo prints:

Sara opens the shopper app on her phone (360 px, Persian) and, with no session yet, lands on
the hub's sign-in; back in the app she sees the points she earned at two shops, sets her
PIN and makes a payment code for the café. The café's till (another browser, 1280 px)
finds her by phone, rings up a sale, types her code's digits, holds her network value and
records the purchase; her phone turns to "paid" with the new balance. Neither browser keeps
a token anywhere a script can read, the app's service worker runs, and the till switches
to English (left to right, Latin digits). Screenshots of each step go to ``shots``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from .axe import serious_violations
from .browsers import launched_chromium
from .signin_pages import SHOPPER_PHONE, kept_on_device, sign_in_manager, sign_in_shopper

ROOT = Path(__file__).resolve().parents[2] / "web" / "src"
PIN = "1357"
SALE_TOMAN = "400000"
PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def demo_sign_in(output: str, shop: str) -> tuple[str, tuple[str, str]]:
    """A till's address and its manager's sign-in, as ``make demo`` prints them."""
    found = re.search(rf"{shop} till and dashboard: (\S+)  \(sign in as (\S+) / (\S+)\)", output)
    assert found is not None, f"the demo prints no sign-in for {shop}'s till"
    return found.group(1), (found.group(2), found.group(3))


def _messages(face: str, lang: str) -> dict[str, Any]:
    folder = ROOT / face / "messages"
    loaded: dict[str, Any] = json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))
    return loaded


def _nothing_within_reach(context: Any, page: Any) -> None:
    """No token in storage or in a cookie a script could read."""
    local, session, readable = kept_on_device(page)
    assert session == {}
    assert set(local) <= {"mallnet.lang"}
    assert readable == ""
    assert all(cookie["httpOnly"] for cookie in context.cookies())


def _shot(page: Any, path: Path) -> None:
    page.mouse.move(0, 0)
    page.screenshot(path=path, full_page=True)
    assert serious_violations(page) == [], path.name


def _app_shows_two_clubs(page: Any, timeout_s: float = 90) -> str:
    """Her home page, once the nodes' events have told the hub of two clubs' balances."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.get_by_test_id("pooled").wait_for()
        clubs = page.get_by_test_id("club-balance")
        if clubs.count() >= 2:
            return " ".join(clubs.all_inner_texts())
        assert time.monotonic() < deadline, "the app never showed two clubs"
        time.sleep(1)
        page.reload()


def _make_code(page: Any, shop: str) -> str:
    """Set the PIN (twice), pick the shop, make a payment code: its digits, Latin."""
    page.get_by_role("navigation", name=re.compile("زبانه")).get_by_role(
        "link", name="پرداخت", exact=True
    ).click()
    page.get_by_label("رمز تازه", exact=True).fill(PIN)
    page.get_by_label("تکرار رمز تازه").fill(PIN)
    page.get_by_role("button", name="ذخیرهٔ رمز").click()
    page.get_by_label("فروشگاه", exact=True).select_option(shop)
    page.get_by_label("رمز شما").fill(PIN)
    page.get_by_role("button", name="ساختن کد پرداخت").click()
    page.locator("[data-testid=grant] canvas[role=img][data-qr=drawn]").wait_for()
    digits: str = page.get_by_test_id("grant-digits").inner_text().strip()
    return digits.translate(PERSIAN_DIGITS).replace(" ", "")


def _till_takes(page: Any, digits: str) -> str:
    """Find Sara, ring up the sale, hold her value with the code, confirm: the receipt."""
    till = _messages("dashboard", "fa")["till"]
    find = page.get_by_role("textbox", name=till["find"]["label"])
    find.fill(SHOPPER_PHONE)
    find.press("Enter")
    page.get_by_test_id("sale-amount").fill(SALE_TOMAN)
    page.get_by_label(till["network"]["code"]).fill(digits)
    page.get_by_role("button", name=till["network"]["hold"], exact=True).click()
    page.get_by_test_id("network-held").wait_for()
    page.get_by_role("button", name=till["sale"]["preview"], exact=True).click()
    page.get_by_test_id("sale-preview").wait_for()
    page.get_by_role("button", name=till["sale"]["confirm"], exact=True).click()
    receipt = page.get_by_test_id("receipt")
    receipt.wait_for()
    text: str = receipt.inner_text()
    return text


def till_and_app_story(hub_url: str, output: str, outbox: Path, shots: Path) -> None:
    cafe_url, cafe_manager = demo_sign_in(output, "cafe-sepid")
    with launched_chromium() as browser:
        phone = browser.new_context(viewport={"width": 360, "height": 780})
        till = browser.new_context(viewport={"width": 1280, "height": 900})
        app = phone.new_page()
        # Given no session: the app sends her to the hub's sign-in, and back.
        sign_in_shopper(app, f"{hub_url}/app/", outbox)
        clubs = _app_shows_two_clubs(app)
        assert "کتاب‌سرا" in clubs or "کفش آریا" in clubs, clubs
        assert app.evaluate("document.documentElement.dir") == "rtl"
        _shot(app, shots / "story-app-home-360-fa.png")
        assert app.evaluate("navigator.serviceWorker.ready.then(r => r.scope)") == (
            f"{hub_url}/app/"
        )
        digits = _make_code(app, "cafe-sepid")
        _shot(app, shots / "story-app-code-360-fa.png")

        counter = till.new_page()
        sign_in_manager(counter, cafe_url, cafe_manager)
        receipt = _till_takes(counter, digits)
        assert "۴۰۰٬۰۰۰" in receipt, receipt
        _shot(counter, shots / "story-till-receipt-1280-fa.png")

        # Then her phone says paid, with what the café took and what is left.
        paid = app.get_by_test_id("paid")
        paid.wait_for(timeout=15_000)
        paid.get_by_text("امتیاز و اعتبار شما اکنون").wait_for()
        assert "پرداخت شد" in paid.inner_text()
        _shot(app, shots / "story-app-paid-360-fa.png")

        # The till in English: left to right.
        counter.get_by_role("button", name="English").click()
        counter.get_by_role("status").filter(has_text="Server version").wait_for()
        assert counter.evaluate("document.documentElement.dir") == "ltr"
        _shot(counter, shots / "story-till-1280-en.png")
        for context, page in ((phone, app), (till, counter)):
            _nothing_within_reach(context, page)
