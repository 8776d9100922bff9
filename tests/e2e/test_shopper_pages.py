"""The shopper app's pages in Debian's headless Chromium, served by a hub whose shopper holds
network value from two shops: home (pooled points first, credit by where it is spent, each
club's balance, what expires), card (QR and number), pay (a PIN set twice, then a payment
code for one shop: its QR, digits and a ticking countdown), history, draws, clubs (consent
switches) and the directory (search reading ك/ک alike) — each at 360 px in Persian and
1280 px in English, without sideways scrolling or a serious accessibility violation, with
a screenshot of each (``<page>-360-fa.png``, ``<page>-1280-en.png`` in the test's tmp_path).

Skipped without chromium or a build (``make web``), failed then under
``MALLNET_REQUIRE_SERVICES=1``, as ``test_web_shell``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hub.db.models import LocalBalance, Membership
from hub.domain.value_rules import GENERAL, POOLED, TARGETED
from hub.services import grants, lotteries, registry, value
from hub.services.value.issuance import IssueInput
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.secrets_store import network_key, pseudonym

from ..hub_pages import in_hub
from .axe import serious_violations
from .browsers import served_hub
from .signin_pages import BOOKS, SHOPPER_PHONE, sign_in_shopper

SHOES = "kafsh-arya"
NAMES = {"fa": ("کتاب‌سرا", "کفش آریا"), "en": ("Ketab Sara", "Kafsh Arya")}
POOLED_POINTS = 1_200
PIN = "2580"
# Another payment code made elsewhere (another tab, say): the one on screen is replaced.
NEW_GRANT = """async pin => {
  const answer = await fetch('/graphql', {
    method: 'POST',
    headers: {'content-type': 'application/json', 'X-Mallnet-CSRF': '1'},
    body: JSON.stringify({
      query: 'mutation($pin: String!) { issueRedemptionGrant(pin: $pin) { __typename } }',
      variables: {pin},
    }),
  });
  return (await answer.json()).data.issueRedemptionGrant.__typename;
}"""
PAID_RIAL = 200_000  # what the shoe shop's till takes with her code: 20,000 toman


def _who(settings: Settings) -> str:
    return pseudonym(network_key(settings), "+98" + SHOPPER_PHONE[1:])


async def _till_takes(settings: Settings, digits: str) -> None:
    """The shoe shop's till holds her value with the code she shows and captures it, as
    its node does through holdNetworkValue and captureNetworkHold."""
    who = _who(settings)

    async def work(session: Any) -> None:
        data = value.HoldInput(
            pseudonym=who,
            amount_rial=PAID_RIAL,
            purchase_ref="R-shoes-1",
            idempotency_key="till-1",
            partial=True,
        )
        held = await grants.hold_with_grant(session, SHOES, data, digits)
        assert isinstance(held, value.HoldOutcome), held
        await value.capture(session, SHOES, held.hold.id, pseudonym=who)

    await in_hub(settings, work)


async def _seed(settings: Settings) -> None:
    """A second shop, and the shopper a member of both clubs with value from each: pooled
    points and general credit from the bookshop, credit only the shoe shop takes (expiring
    in ten days), and each club's own balance as its shop reported it."""
    who = _who(settings)
    now = utcnow()

    async def work(session: Any) -> None:
        shoes = registry.ShopInput(SHOES, "کفش آریا", "Kafsh Arya", "shoes", "2", "214")
        await registry.register_shop(session, shoes)
        lots = [
            (POOLED, BOOKS, POOLED_POINTS, 1_000, (), 60),
            # General credit in twenty lots of 2,500 toman: 50,000 toman, and history
            # enough for two pages.
            *[(GENERAL, BOOKS, 25_000, 1, (), 90)] * 20,
            (TARGETED, SHOES, 300_000, 1, (SHOES,), 10),
        ]
        for number, (kind, issuer, amount, rate, shops, days) in enumerate(lots):
            data = IssueInput(
                pseudonym=who,
                kind=kind,
                issuer=issuer,
                amount=amount,
                expires_at=now + dt.timedelta(days=days),
                reason="purchase",
                origin="test",
                key=f"seed-{number}",
                rial_per_point=rate,
                accepted_shops=shops,
            )
            await value.issue(session, data, now)
        for seq, (shop, points) in enumerate(((BOOKS, 340), (SHOES, 75)), start=1):
            session.add(Membership(pseudonym=who, shop=shop, joined_at=now))
            balance = LocalBalance(
                pseudonym=who,
                shop=shop,
                points=points,
                credit_rial=0,
                as_of_seq=seq,
                updated_at=now,
            )
            if shop == BOOKS:  # silver, 340 of the 500 points gold needs
                balance.tier_code, balance.tier_basis, balance.tier_metric = (
                    "silver",
                    "earned_points",
                    340,
                )
                balance.tier_name_fa, balance.tier_name_en = "نقره‌ای", "Silver"
                balance.next_tier_name_fa, balance.next_tier_name_en = "طلایی", "Gold"
                balance.next_tier_threshold = 500
            session.add(balance)

    await in_hub(settings, work)
    await _lottery(settings, who)


async def _lottery(settings: Settings, who: str) -> None:
    """An open draw both shops take part in, and her 500,000-toman purchase at the
    bookshop in it: a ticket per 100,000 Rial spent, five."""
    now = utcnow()
    data = lotteries.LotteryInput(
        name_fa="قرعه‌کشی یلدا",
        name_en="Yalda draw",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(days=2),
        draw_at=now + dt.timedelta(days=2),
        shops=[BOOKS, SHOES],
        rules={"rial_per_ticket": 100_000},
        prizes=[{"count": 1, "description_fa": "دوچرخه", "description_en": "A bicycle"}],
    )
    row = await in_hub(settings, lambda s: lotteries.create(s, data, "test:marketing"))
    for shop in (BOOKS, SHOES):
        await in_hub(settings, lambda s, shop=shop: lotteries.respond(s, row.id, shop, True))
    await in_hub(
        settings,
        lambda s: lotteries.enter_purchase(s, BOOKS, "ev-yalda", "R-yalda", who, 500_000, now),
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with served_hub(tmp_path_factory, "shopper", _seed) as served:
        yield served


def _go(page: Any, key: str, lang: str, width: int) -> None:
    """Open a page through the app's own navigation: the tab bar (and its "More" menu) at
    phone width, the header's links at desktop width."""
    labels = {
        "fa": {
            "home": "خانه",
            "card": "کارت",
            "pay": "پرداخت",
            "history": "تاریخچه",
            "lotteries": "قرعه‌کشی‌ها",
            "clubs": "باشگاه‌ها",
            "shops": "فروشگاه‌ها",
            "more": "بیشتر",
        },
        "en": {
            "home": "Home",
            "card": "Card",
            "pay": "Pay",
            "history": "History",
            "lotteries": "Draws",
            "clubs": "Clubs",
            "shops": "Shops",
            "more": "More",
        },
    }[lang]
    if width >= 768:
        nav = page.get_by_role("navigation", name="The app's pages")
        nav.get_by_role("link", name=labels[key], exact=True).click()
        return
    tabs = page.get_by_role("navigation", name="زبانه‌ها" if lang == "fa" else "Tabs")
    if key in ("lotteries", "clubs", "shops"):
        tabs.get_by_role("button", name=labels["more"]).click()
        page.get_by_role("menuitem", name=labels[key]).click()
        page.get_by_role("menu").wait_for(state="detached")
    else:
        tabs.get_by_role("link", name=labels[key], exact=True).click()


def _check(page: Any, name: str, width: int, lang: str, shots: Path) -> None:
    """No sideways scrolling, a screenshot, no serious accessibility violation."""
    width_now = page.evaluate("document.documentElement.scrollWidth")
    assert width_now == width, f"{name}: no sideways scrolling at {width} px"
    page.screenshot(path=shots / f"{name}-{width}-{lang}.png", full_page=True)
    assert serious_violations(page) == [], name


def _visit_all(page: Any, lang: str, width: int, shots: Path) -> None:
    fa = lang == "fa"
    books, shoes = NAMES[lang]
    main = page.locator("main")

    # Home: the pooled points first, in the language's digits; both clubs; the credit only
    # the shoe shop takes, and that it expires within 30 days.
    _go(page, "home", lang, width)
    pooled = page.get_by_test_id("pooled")
    pooled.wait_for()
    assert ("۱٬۲۰۰" if fa else "1,200") in pooled.inner_text()
    clubs = page.get_by_test_id("club-balance")
    assert clubs.count() == 2
    balances = " ".join(clubs.all_inner_texts())
    # The bookshop's tier, and the way to the next: 340 of 500 points.
    assert ("نقره‌ای" if fa else "Silver") in balances
    assert ("طلایی" if fa else "Gold") in balances
    assert clubs.get_by_role("progressbar").get_attribute("aria-valuenow") == "68"
    assert books in balances
    assert shoes in balances
    text = main.inner_text()
    assert shoes in text
    assert books in text
    # The shoe shop's credit in toman: 30,000, then 10,000 once the Persian pass paid 20,000.
    assert ("۳۰٬۰۰۰" if fa else "10,000") in text
    assert ("همهٔ فروشگاه‌ها" if fa else "every shop") in text, "general credit, everywhere"
    _check(page, "home", width, lang, shots)

    # Card: the QR code drawn and the number (her phone) in the language's digits.
    _go(page, "card", lang, width)
    page.locator("canvas[role=img][data-qr=drawn]").wait_for()
    assert ("۰۹۱۲" if fa else "0912") in page.get_by_test_id("card-number").inner_text()
    _check(page, "card", width, lang, shots)

    # History: what was received, from which shop.
    _go(page, "history", lang, width)
    entries = page.get_by_test_id("history-entry")
    entries.first.wait_for()
    if fa:  # twenty on the first page, the two oldest behind "more"
        assert entries.count() == 20
        page.get_by_role("button", name="نمایش قدیمی‌ترها").click()
        entries.nth(21).wait_for()
        assert entries.count() == 22
    history = main.inner_text()
    assert ("دریافت" if fa else "Received") in history
    assert books in history
    assert shoes in history
    _check(page, "history", width, lang, shots)

    # Draws: the open one she has five tickets in, not drawn yet.
    _go(page, "lotteries", lang, width)
    draw = page.get_by_role("heading", name="قرعه‌کشی یلدا" if fa else "Yalda draw")
    draw.wait_for()
    entry = main.inner_text()
    assert ("بلیت‌ها: ۵" if fa else "Tickets: 5") in entry
    assert ("هنوز قرعه‌کشی نشده" if fa else "Not drawn yet") in entry
    _check(page, "lotteries", width, lang, shots)

    # Clubs: both, with the consent switches.
    _go(page, "clubs", lang, width)
    page.get_by_test_id("club").nth(1).wait_for()
    if fa:  # a consent given here is on its way to the shop until it confirms
        first = page.get_by_test_id("club").first
        first.get_by_role("switch", name="پیامک‌های تبلیغاتی").click()
        first.get_by_text("در راه فروشگاه").wait_for()
        assert first.get_by_role("switch", name="پیامک‌های تبلیغاتی").is_checked()
    assert books in main.inner_text()
    assert shoes in main.inner_text()
    _check(page, "clubs", width, lang, shots)

    # Shops: the directory, searched with an Arabic kaf for the bookshop's Persian one.
    _go(page, "shops", lang, width)
    page.get_by_test_id("shop").nth(1).wait_for()
    assert books in main.inner_text()
    assert shoes in main.inner_text()
    _check(page, "shops", width, lang, shots)
    page.get_by_label("جست‌وجوی فروشگاه‌ها" if fa else "Search the shops").fill(
        "كتاب" if fa else "ketab"
    )
    page.get_by_test_id("shop").filter(has_text=shoes).wait_for(state="detached")
    assert page.get_by_test_id("shop").count() == 1
    assert books in page.get_by_test_id("shop").inner_text()


def _pay(
    page: Any, lang: str, width: int, shots: Path, settings: Settings, *, first_time: bool
) -> None:
    """A PIN (the first time), then a payment code for the shoe shop: its QR code, its
    digits and a countdown that ticks; the first time, the till takes 20,000 toman with it
    and the page says so, with her balance after it."""
    fa = lang == "fa"
    _go(page, "pay", lang, width)
    if first_time:
        page.get_by_label("رمز تازه", exact=True).fill(PIN)
        page.get_by_label("تکرار رمز تازه").fill(PIN)
        page.get_by_role("button", name="ذخیرهٔ رمز").click()
    shop = page.get_by_label("فروشگاه" if fa else "Shop", exact=True)
    shop.wait_for()
    shop.select_option(SHOES)
    spendable = page.get_by_test_id("spendable").inner_text()
    # Its own credit (30,000 toman; 10,000 after the Persian pass paid) and the general
    # credit (50,000) are spendable there.
    assert ("۸۰٬۰۰۰" if fa else "60,000") in spendable
    _check(page, "pay", width, lang, shots)
    make = page.get_by_role("button", name="ساختن کد پرداخت" if fa else "Make a payment code")
    if not first_time:  # a wrong PIN reads as a sentence, never its code
        page.get_by_label("Your PIN").fill("9999")
        make.click()
        page.get_by_role("alert").filter(has_text="The PIN is not right.").wait_for()
        assert "PIN_INVALID" not in page.locator("main").inner_text()
    page.get_by_label("رمز شما" if fa else "Your PIN").fill(PIN)
    make.click()
    grant = page.get_by_test_id("grant")
    grant.wait_for()
    page.locator("[data-testid=grant] canvas[role=img][data-qr=drawn]").wait_for()
    digits = page.get_by_test_id("grant-digits").inner_text().strip()
    assert len(digits) >= 6, digits
    assert (digits[0] in "۰۱۲۳۴۵۶۷۸۹") == fa, "the digits in the language's script"
    assert NAMES[lang][1] in grant.inner_text(), "a code for the chosen shop"
    countdown = page.get_by_test_id("countdown")
    before = countdown.inner_text()
    page.wait_for_function(
        "before => document.querySelector('[data-testid=countdown]').innerText !== before",
        arg=before,
        timeout=3_000,
    )
    _check(page, "pay-code", width, lang, shots)
    if not first_time:
        # A newer code ends this one: the page, watching it, says so and offers a new one.
        assert page.evaluate(NEW_GRANT, PIN) == "RedemptionGrant"
        expired = page.get_by_test_id("expired")
        expired.wait_for(timeout=10_000)
        assert "This payment code has expired" in expired.inner_text()
        _check(page, "pay-expired", width, lang, shots)
        expired.get_by_role("button", name="Make a new code").click()
        page.get_by_label("Your PIN").wait_for()
        assert page.get_by_label("Shop", exact=True).input_value() == SHOES, "the shop kept"
        return
    latin = digits.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    # In a thread of its own: Playwright's sync API keeps an event loop on this one.
    with ThreadPoolExecutor(1) as worker:
        worker.submit(asyncio.run, _till_takes(settings, latin)).result()
    paid = page.get_by_test_id("paid")
    paid.wait_for(timeout=10_000)
    paid.get_by_text("امتیاز و اعتبار شما اکنون").wait_for()
    paid_text = paid.inner_text()
    assert "پرداخت شد" in paid_text
    assert "۲۰٬۰۰۰" in paid_text, "the captured amount in toman"
    assert "۱۸۰٬۰۰۰" in paid_text, "200,000 toman before, 180,000 after"
    _check(page, "pay-paid", width, lang, shots)
    paid.get_by_role("button", name="پرداختی دیگر").click()


def test_the_shopper_pages_in_persian_at_360_and_english_at_1280(
    hub: tuple[str, Settings], browser: Any, tmp_path: Path
) -> None:
    url, settings = hub
    context = browser.new_context(viewport={"width": 360, "height": 780})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_shopper(page, f"{url}/app/", settings.data_dir / "sms-outbox.jsonl")
        page.get_by_role("status").filter(has_text="نسخهٔ سرور").wait_for()
        assert page.evaluate("document.documentElement.dir") == "rtl"
        _visit_all(page, "fa", 360, tmp_path)
        _pay(page, "fa", 360, tmp_path, settings, first_time=True)

        # One click to English; then the wide screen.
        page.get_by_role("button", name="English").click()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("status").filter(has_text="Server version").wait_for()
        assert page.evaluate("document.documentElement.dir") == "ltr"
        _visit_all(page, "en", 1280, tmp_path)
        _pay(page, "en", 1280, tmp_path, settings, first_time=False)
        assert complaints == []
    finally:
        context.close()
