"""The shopper app's offers page in Debian's headless Chromium (issue 18), served by a hub
whose nodes' offer events went through its intake service: first empty (she has no offers
yet), then her one-time offer from the bookshop and both her clubs' permanent offers —
never the withdrawn offer, the expired grant, nor the offer of a shop she is no member of —
each with its shop, what it gives and until when in Jalali; at 360 px in Persian and
1280 px in English, reached through the app's navigation, without sideways scrolling or a
serious accessibility violation, with screenshots (``offers-<state>-<width>-<lang>.png``
in the test's tmp_path).

Skipped without chromium or a build (``make web``), as ``test_shopper_pages``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from federation.envelope import (
    MemberEnrolled,
    OfferGranted,
    OfferPublished,
    OfferWithdrawn,
    make_envelope,
)
from federation.ids import new_event_id
from hub.services import intake, registry
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.secrets_store import network_key, pseudonym

from ..hub_pages import in_hub
from .axe import serious_violations
from .browsers import served_hub
from .signin_pages import BOOKS, SHOPPER_PHONE, sign_in_shopper

SHOES, CAFE = "kafsh-arya", "kafe-gol"
OTHER = "+989350000000"  # another member of the bookshop
# Noon in Tehran, so the Jalali day is the same in every time zone the test may run in.
ENDS = dt.datetime(2027, 3, 10, 8, 30, tzinfo=dt.UTC)  # ۱۹ اسفند ۱۴۰۵
EXPIRES = dt.datetime(2027, 2, 1, 8, 30, tzinfo=dt.UTC)  # ۱۲ بهمن ۱۴۰۵


def _offer(kind: str, fa: str, en: str, summary_fa: str, summary_en: str, **more: Any) -> Any:
    return OfferPublished(
        offer_id=new_event_id(),
        kind=kind,
        name_fa=fa,
        name_en=en,
        summary_fa=summary_fa,
        summary_en=summary_en,
        **more,
    )


async def _shops(settings: Settings) -> None:
    async def work(session: Any) -> None:
        for shop in (
            registry.ShopInput(SHOES, "کفش آریا", "Kafsh Arya", "shoes"),
            registry.ShopInput(CAFE, "کافه گل", "Kafe Gol", "cafe"),
        ):
            await registry.register_shop(session, shop)

    await in_hub(settings, work)


async def _offers(settings: Settings) -> None:
    """What the nodes report, through the hub's intake as their relays deliver it."""
    key = network_key(settings)
    she, other = pseudonym(key, "+98" + SHOPPER_PHONE[1:]), pseudonym(key, OTHER)
    now = utcnow()

    def joined(who: str) -> MemberEnrolled:
        return MemberEnrolled(pseudonym=who, joined_via="purchase", partner_sharing=False)

    loyal = _offer(
        "permanent",
        "مشتری وفادار",
        "Loyal customer",
        "۱۰٪ اعتبار بیشتر برای خرید بالای ۳۰۰ هزار تومان",
        "10% more credit on purchases over 300,000 toman",
        ends_at=ENDS,
    )
    comeback = _offer(
        "one_time",
        "برگرد، منتظرت هستیم",
        "We miss you",
        "۳۵٪ اعتبار بیشتر اگر تا ۷ روز دیگر بیایید",
        "35% more credit if you come within 7 days",
    )
    gone = _offer("permanent", "آفر تمام‌شده", "A stopped offer", "", "")
    shoes = _offer(
        "permanent",
        "کفش دوم",
        "Second pair",
        "۵٪ تخفیف برای خرید بالای ۵ میلیون تومان",
        "5% off purchases over 5,000,000 toman",
    )
    cafe = _offer("permanent", "قهوهٔ دوم", "Second coffee", "", "")

    def grant(offer: OfferPublished, who: str, expires: dt.datetime) -> OfferGranted:
        return OfferGranted(
            pseudonym=who, offer_id=offer.offer_id, grant_id=new_event_id(), expires_at=expires
        )

    streams = {
        BOOKS: [
            joined(she),
            joined(other),
            loyal,
            comeback,
            gone,
            OfferWithdrawn(offer_id=gone.offer_id),
            grant(comeback, she, EXPIRES),
            grant(comeback, other, EXPIRES),  # another member's: not on her page
            grant(loyal, she, now - dt.timedelta(days=1)),  # expired: not shown
        ],
        SHOES: [joined(she), shoes],
        CAFE: [cafe],  # she is no member of the cafe's club
    }
    for node, payloads in streams.items():
        batch = [
            make_envelope(
                event_id=new_event_id(), node=node, seq=seq, occurred_at=now, payload=payload
            )
            for seq, payload in enumerate(payloads, start=1)
        ]

        async def work(session: Any, node: str = node, batch: list[Any] = batch) -> None:
            await intake.ingest(session, node, batch, key=key)

        await in_hub(settings, work)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with served_hub(tmp_path_factory, "offers", _shops) as served:
        yield served


def _open_offers(page: Any, lang: str, width: int) -> None:
    """Through the app's navigation: the header's links at desktop width, the tab bar's
    "More" menu at phone width."""
    label = "آفرها" if lang == "fa" else "Offers"
    if width >= 768:
        nav = page.get_by_role("navigation", name="The app's pages")
        nav.get_by_role("link", name=label, exact=True).click()
    else:
        tabs = page.get_by_role("navigation", name="زبانه‌ها" if lang == "fa" else "Tabs")
        tabs.get_by_role("button", name="بیشتر" if lang == "fa" else "More").click()
        page.get_by_role("menuitem", name=label).click()
        page.get_by_role("menu").wait_for(state="detached")
    page.get_by_role("heading", name="آفرهای من" if lang == "fa" else "My offers").wait_for()


def _check(page: Any, name: str, width: int, lang: str, shots: Path) -> None:
    """No sideways scrolling, a screenshot, no serious accessibility violation."""
    assert page.evaluate("document.documentElement.scrollWidth") == width, name
    page.screenshot(path=shots / f"{name}-{width}-{lang}.png", full_page=True)
    assert serious_violations(page) == [], name


def _her_offers(page: Any, lang: str, width: int, shots: Path) -> None:
    fa = lang == "fa"
    offers = page.get_by_test_id("offer")
    offers.nth(2).wait_for()
    assert offers.count() == 3
    texts = offers.all_inner_texts()
    # Her one-time offer, with its shop, what it gives, and once until its Jalali deadline
    comeback = next(t for t in texts if ("برگرد" if fa else "We miss you") in t)
    assert ("کتاب‌سرا" if fa else "Ketab Sara") in comeback
    assert ("فقط برای شما" if fa else "Just for you") in comeback
    assert ("۳۵٪ اعتبار بیشتر" if fa else "35% more credit") in comeback
    assert ("یک بار، تا ۱۲ بهمن ۱۴۰۵" if fa else "Once, until 12 Bahman 1405") in comeback
    # The bookshop's permanent offer until its end; the shoe shop's, with none
    loyal = next(t for t in texts if ("مشتری وفادار" if fa else "Loyal customer") in t)
    assert ("برای همهٔ اعضا" if fa else "For all members") in loyal
    assert ("تا ۱۹ اسفند ۱۴۰۵" if fa else "Until 19 Esfand 1405") in loyal
    shoes = next(t for t in texts if ("کفش آریا" if fa else "Kafsh Arya") in t)
    assert ("بدون تاریخ پایان" if fa else "No end date") in shoes
    page_text = page.locator("main").inner_text()
    for absent in ("آفر تمام‌شده", "A stopped offer", "قهوهٔ دوم", "Second coffee"):
        assert absent not in page_text
    _check(page, "offers", width, lang, shots)


def test_the_offers_page_in_persian_at_360_and_english_at_1280(
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

        # No offers yet: the page says so
        _open_offers(page, "fa", 360)
        empty = page.get_by_test_id("offers-empty")
        empty.wait_for()
        assert "هنوز آفری برای شما نیست" in empty.inner_text()
        _check(page, "offers-empty", 360, "fa", tmp_path)

        # The nodes' offer events arrive (in a thread: Playwright keeps a loop on this one)
        with ThreadPoolExecutor(1) as worker:
            worker.submit(asyncio.run, _offers(settings)).result()
        page.reload()
        _her_offers(page, "fa", 360, tmp_path)

        page.get_by_role("button", name="English").click()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("status").filter(has_text="Server version").wait_for()
        page.goto(f"{url}/app/")
        page.get_by_role("status").filter(has_text="Server version").wait_for()
        _open_offers(page, "en", 1280)
        _her_offers(page, "en", 1280, tmp_path)
        assert complaints == []
    finally:
        context.close()
