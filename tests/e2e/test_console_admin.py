"""The mall console's admin sections in real headless Chromium, against the hub as a
process: a mall admin signs in, sees the overview with its charts (a redemption between
two shops is on them), registers a shop and sees its node's client secret once (it then
works at the hub's token endpoint, and is gone from the page), suspends and reactivates
it, reads the partnerships, and creates and disables a mall user. Screenshots at 1280 and
768 px in Persian and English; no serious axe violation on any page.

Needs the console built (``make web``) and ``chromium``: skipped without them, failed
without them under ``MALLNET_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app as create_hub_app
from hub.db.models import Referral
from hub.services import partnerships, registry
from mallnet.config import Settings
from mallnet.db import utcnow

from ..conftest import free_ports
from ..hub_pages import in_hub
from ..integration.test_settlement_api import _spend
from ..live_server import LiveServer
from .browsers import launched_chromium, require_browser
from .signin_pages import BOOKS, prepare_hub, sign_in_manager
from .test_settlement_pages import _choose, _screen

WEB = Path(__file__).resolve().parents[2] / "web" / "src"
SHOES = "kafsh-arya"
NEW_SHOP = "gol-sara"


def _messages(part: str, lang: str) -> dict[str, Any]:
    path = WEB / "console" / "messages" / f"{part}.{lang}.json"
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))[part]
    return found


async def _network(settings: Settings) -> None:
    await prepare_hub(settings)

    async def work(session: Any) -> None:
        shoes = registry.ShopInput(SHOES, "کفش آریا", "Kafsh Arya", "shoes", floor="1")
        await registry.register_shop(session, shoes)
        # The shoe shop welcomes the bookshop's customers; the bookshop opted in, and one
        # shopper was introduced.
        terms = partnerships.OfferInput(
            origin_shops=[BOOKS], min_purchase_rial=5_000_000, welcome_points=50
        )
        offer = await partnerships.publish_offer(session, SHOES, terms)
        await partnerships.opt_in(session, BOOKS, offer.id)
        session.add(
            Referral(
                offer_id=offer.id,
                origin_shop=BOOKS,
                pseudonym="a" * 64,
                event_id="e-1",
                month=utcnow().strftime("%Y-%m"),
                created_at=utcnow(),
            )
        )

    await in_hub(settings, work)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    port = free_ports(1)[0]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("console-admin") / "var",
        hub_url=f"http://127.0.0.1:{port}",
    )
    asyncio.run(_network(settings))
    # Value the bookshop issued, spent at the shoe shop: a redemption on today's chart.
    _spend(settings, BOOKS, SHOES, 1_200_000, "S-100")
    with LiveServer(create_hub_app(settings), port) as hub:
        yield hub.url


@pytest.fixture(scope="module")
def browser(console: str) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def _register(page: Any, shops: dict[str, Any], slug: str) -> None:
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(shops["field"]["slug"]).fill(slug)
    dialog.get_by_label(shops["field"]["nameFa"]).fill("گل‌سرا")
    dialog.get_by_label(shops["field"]["nameEn"]).fill("Gol Sara")
    dialog.get_by_label(shops["field"]["floor"]).fill("2")
    dialog.get_by_role("button", name=shops["register"]["submit"]).click()


def test_a_mall_admin_runs_shops_and_users(console: str, browser: Any, tmp_path: Path) -> None:
    fa = {part: _messages(part, "fa") for part in ("mallOverview", "mallShops", "mallUsers")}
    en = {part: _messages(part, "en") for part in ("mallOverview", "mallShops")}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    url = f"{console}/console/"
    try:
        # Given a mall admin signed in, the overview shows the network and its charts.
        sign_in_manager(page, url)
        page.get_by_role("heading", name=fa["mallOverview"]["title"]).wait_for()
        page.locator("[data-testid=chart] svg.recharts-surface").first.wait_for()
        assert page.get_by_test_id("chart").count() == 2
        assert page.locator("[data-testid=chart] .recharts-bar-rectangle").count() >= 1
        liability = page.get_by_test_id("liability").inner_text()
        assert "۰" in liability, liability  # nothing outstanding: the lot was spent whole
        assert page.get_by_test_id("health").locator("tbody tr").count() == 2
        _screen(page, tmp_path / "console-overview-fa-1280.png", 1280)
        _screen(page, tmp_path / "console-overview-fa-768.png", 768)

        # The registry, a page at a time.
        shops = fa["mallShops"]
        page.get_by_role("link", name=shops["title"], exact=True).click()
        table = page.get_by_test_id("shops")
        table.wait_for()
        assert table.locator("tbody tr").count() == 2

        # Registering a slug that exists is refused with a sentence at the field.
        page.get_by_role("button", name=shops["register"]["open"]).click()
        _register(page, shops, BOOKS)
        page.get_by_test_id("problem").wait_for()
        assert "SHOP_EXISTS" not in page.get_by_role("dialog").inner_text()
        # A new one is registered: its node's secret is shown this once, with the command.
        _register(page, shops, NEW_SHOP)
        page.get_by_test_id("registered").wait_for()
        secret = page.get_by_test_id("client-secret").inner_text().strip()
        client_id = page.get_by_test_id("client-id").inner_text().strip()
        assert len(secret) >= 40
        command = page.get_by_test_id("connect-command").inner_text()
        assert command.strip() == f"mallnet node-connect --shop {NEW_SHOP} --client-id {client_id}"
        _screen(page, tmp_path / "console-shop-secret-fa-1280.png", 1280)
        token = httpx.post(
            f"{console}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "node:federate"},
            auth=(client_id, secret),
        )
        assert token.status_code == 200, token.text
        page.get_by_role("button", name=shops["register"]["stored"]).click()
        row = page.get_by_test_id(f"shop-{NEW_SHOP}")
        row.wait_for()
        assert secret not in page.content()  # once: gone when the dialog closed

        # Suspended, then reactivated.
        row.get_by_role("button", name=shops["suspend"]["open"]).click()
        page.get_by_role("button", name=shops["suspend"]["confirm"]).click()
        row.get_by_test_id("status").filter(has_text=shops["suspended"]).wait_for()
        _screen(page, tmp_path / "console-shops-fa-768.png", 768)
        row.get_by_role("button", name=shops["reactivate"]["open"]).click()
        page.get_by_role("button", name=shops["reactivate"]["confirm"]).click()
        row.get_by_test_id("status").filter(has_text=shops["active"]).wait_for()
        _screen(page, tmp_path / "console-shops-fa-1280.png", 1280)

        # Its directory details change.
        row.get_by_role("button", name=shops["edit"]["open"]).click()
        page.get_by_role("dialog").get_by_label(shops["field"]["floor"]).fill("۳")
        page.get_by_role("dialog").get_by_role(
            "button", name=fa["mallOverview"]["common"]["save"]
        ).click()
        row.get_by_text("طبقه‌ی ۳").wait_for()

        # Partnerships: the offer with its opt-in, and who refers to whom.
        words = _messages("mallPartnerships", "fa")
        page.get_by_role("link", name=words["title"], exact=True).click()
        offers = page.get_by_test_id("offers")
        offers.wait_for()
        assert offers.locator("tbody tr").count() == 1
        matrix = page.get_by_test_id("referral-map")
        assert words["map"]["activeCell"].replace("{{n}}", "۱") in matrix.inner_text()
        _screen(page, tmp_path / "console-partnerships-fa-1280.png", 1280)
        _screen(page, tmp_path / "console-partnerships-fa-768.png", 768)

        # A mall user is created, then disabled.
        users = fa["mallUsers"]
        page.get_by_role("link", name=users["title"], exact=True).click()
        page.get_by_test_id("user-boss").wait_for()
        page.get_by_role("button", name=users["create"]["open"]).click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label(users["field"]["username"]).fill("sami")
        dialog.get_by_label(users["field"]["password"]).fill("sami finance password")
        _choose(page, users["field"]["role"], users["role"]["finance"])
        dialog.get_by_role("button", name=users["create"]["submit"]).click()
        created = page.get_by_test_id("user-sami")
        created.wait_for()
        assert users["role"]["finance"] in created.inner_text()
        disable = users["disableLabel"].replace("{{name}}", "sami")
        created.get_by_role("button", name=disable, exact=True).click()
        created.get_by_text(users["disabled"], exact=True).wait_for()
        _screen(page, tmp_path / "console-users-fa-1280.png", 1280)
        _screen(page, tmp_path / "console-users-fa-768.png", 768)

        # The same console in English.
        page.get_by_role("button", name="English").click()
        page.get_by_role("link", name=en["mallOverview"]["title"], exact=True).click()
        page.get_by_role("heading", name=en["mallOverview"]["title"]).wait_for()
        page.locator("[data-testid=chart] svg.recharts-surface").first.wait_for()
        _screen(page, tmp_path / "console-overview-en-1280.png", 1280)
        _screen(page, tmp_path / "console-overview-en-768.png", 768)
        page.get_by_role("link", name=en["mallShops"]["title"], exact=True).click()
        page.get_by_test_id(f"shop-{NEW_SHOP}").wait_for()
        _screen(page, tmp_path / "console-shops-en-1280.png", 1280)
        _screen(page, tmp_path / "console-shops-en-768.png", 768)
        assert complaints == []
    finally:
        context.close()
