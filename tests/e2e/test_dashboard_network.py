"""The shop dashboard's Today and Network sections in a real headless Chromium, against a
hub and a node running as servers: the manager reads the week's figures (purchases the
till recorded through the node's API), sets the shop's network issuance policy (a wrong
percent is refused at its field, then a new version is saved at the hub), and opens the
partnerships and invitations tabs; at 1280 px and 768 px, Persian and English, each
screen without serious accessibility violations (axe-core)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openpyxl  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from hub.app import create_app as create_hub_app
from hub.db.models import CampaignShop, IssuancePolicy
from hub.services import campaigns
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.devtokens import issue
from shop_node.app import create_app as create_node_app

from ..conftest import free_ports
from ..hub_pages import in_hub
from ..live_server import LiveServer
from .axe import serious_violations
from .browsers import launched_chromium, require_browser, watched_page
from .signin_pages import BOOKS, SHOP_MANAGER, prepare_hub, sign_in_manager

MESSAGES = Path(__file__).resolve().parents[2] / "web" / "src" / "dashboard" / "messages"
RECORD = """
mutation Record($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { __typename }
}
"""


def _catalogue(part: str, lang: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        (MESSAGES / f"{part}.{lang}.json").read_text(encoding="utf-8")
    )[part]
    return found


async def _autumn_festival(session: Any) -> None:
    """Mall marketing's campaign, the bookshop invited."""
    now = utcnow()
    data = campaigns.CampaignInput(
        name_fa="جشنواره پاییز",
        name_en="Autumn festival",
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=10),
        shops=[BOOKS],
        reward={"pooled_multiplier_bp": 20_000},
        budget_rial=50_000_000,
        cost_rule="equal",
    )
    await campaigns.create(session, data, "marketing")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    port, node_port = free_ports(2)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("network") / "var", hub_url=f"http://127.0.0.1:{port}"
    )
    asyncio.run(prepare_hub(settings, f"http://127.0.0.1:{node_port}"))
    asyncio.run(in_hub(settings, _autumn_festival))
    with (
        LiveServer(create_hub_app(settings), port),
        LiveServer(create_node_app(BOOKS, settings), node_port) as node,
    ):
        till = issue(settings, audience=BOOKS, scopes=["shop:operate"], subject="staff:till")
        for n, (phone, toman) in enumerate([("09121110001", 300_000), ("09121110002", 150_000)]):
            answer = httpx.post(
                f"{node.url}/graphql",
                json={
                    "query": RECORD,
                    "variables": {
                        "input": {
                            "receiptId": f"R-{n}",
                            "totalRial": toman * 10,
                            "lines": [{"productGroup": "general", "amountRial": toman * 10}],
                            "phone": phone,
                        }
                    },
                },
                headers={"Authorization": f"Bearer {till}"},
            ).json()
            assert answer["data"]["recordPurchase"]["__typename"] == "PurchaseRecorded", answer
        yield {"dashboard": f"{node.url}/dashboard/", "settings": settings}


@pytest.fixture(scope="module")
def browser(servers: dict[str, Any]) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def _screen(page: Any, path: Path) -> None:
    page.mouse.move(0, 0)
    page.screenshot(path=path, full_page=True)
    assert serious_violations(page) == []


def _fits(page: Any) -> bool:
    width: bool = page.evaluate(
        "document.scrollingElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )
    return width


def _hub_policies(settings: Settings) -> list[tuple[int, dict[str, Any]]]:
    async def read(session: Any) -> list[tuple[int, dict[str, Any]]]:
        rows = await session.scalars(
            select(IssuancePolicy)
            .where(IssuancePolicy.shop == BOOKS)
            .order_by(IssuancePolicy.version)
        )
        return [(row.version, row.document) for row in rows]

    # Playwright's synchronous API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        found: list[tuple[int, dict[str, Any]]] = pool.submit(
            asyncio.run, in_hub(settings, read)
        ).result()
    return found


def _answers(settings: Settings) -> dict[str, str]:
    async def read(session: Any) -> dict[str, str]:
        rows = await session.scalars(select(CampaignShop))
        return {row.shop: row.status for row in rows}

    with ThreadPoolExecutor(1) as pool:
        found: dict[str, str] = pool.submit(asyncio.run, in_hub(settings, read)).result()
    return found


def test_today_and_the_network_policy(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    today, network = _catalogue("today", "fa"), _catalogue("shopNetwork", "fa")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        nav = page.get_by_role("navigation", name="بخش‌های فروشگاه")
        # Today: the two purchases of this week, in Persian digits, beside the week before
        nav.get_by_role("link", name=today["title"]).click()
        page.wait_for_url("**/dashboard/today")
        purchases = page.get_by_test_id("figure-purchases")
        purchases.filter(has_text="۲").wait_for()
        assert "۴۵۰٬۰۰۰" in page.get_by_test_id("figure-salesRial").inner_text()
        assert "۲" in page.get_by_test_id("figure-newMembers").inner_text()
        page.locator(".recharts-surface").first.wait_for()
        _screen(page, tmp_path / "dashboard-today-fa-1280.png")

        # Members: the two shoppers the till enrolled, each a row (the page loads and pages
        # on the server)
        nav.get_by_role("link", name=_catalogue("members", "fa")["title"]).click()
        page.wait_for_url("**/dashboard/members")
        page.get_by_test_id("member-row").nth(1).wait_for()
        assert page.get_by_test_id("member-row").count() == 2
        _screen(page, tmp_path / "dashboard-members-fa.png")

        # Network: a share that is no percent is refused at its field; nothing is sent
        nav.get_by_role("link", name=network["title"]).click()
        page.wait_for_url("**/dashboard/network")
        share = page.get_by_label(network["issuance"]["share"])
        share.fill("پنجاه")
        page.get_by_role("button", name=network["issuance"]["save"]).click()
        page.get_by_text(network["issuance"]["badPercent"]).wait_for()
        assert _hub_policies(servers["settings"]) == []
        _screen(page, tmp_path / "dashboard-network-error-fa.png")
        # then 10% pooled and a credit rule of 5% from 100,000 toman, saved as version 1
        share.fill("۱۰")
        page.get_by_role("button", name=network["issuance"]["addRule"]).click()
        page.get_by_label(network["issuance"]["minPurchaseOf"].replace("{{row}}", "۱")).fill(
            "۱۰۰۰۰۰"
        )
        page.get_by_label(network["issuance"]["percentOf"].replace("{{row}}", "۱")).fill("5")
        page.get_by_role("button", name=network["issuance"]["save"]).click()
        page.get_by_test_id("issuance-saved").wait_for()
        page.get_by_test_id("issuance-version").filter(has_text="۱").wait_for()
        [(version, document)] = _hub_policies(servers["settings"])
        assert version == 1
        assert document["pooled_share_bp"] == 1_000
        [rule] = document["credit_rules"]
        assert (rule["min_purchase_rial"], rule["credit_bp"]) == (1_000_000, 500)
        _screen(page, tmp_path / "dashboard-network-fa.png")
        page.get_by_role("tab", name=network["tab"]["offers"]).click()
        page.get_by_role("heading", name=network["offers"]["publish"]).wait_for()
        _screen(page, tmp_path / "dashboard-network-offers-fa.png")
        # The mall's autumn festival: the manager accepts it, and the hub has the answer
        page.get_by_role("tab", name=network["tab"]["invitations"]).click()
        invitation = page.get_by_test_id("invitation").filter(has_text="جشنواره پاییز")
        invitation.get_by_role("button", name=network["invitations"]["accept"], exact=True).click()
        invitation.filter(has_text=network["invitations"]["accepted"]).wait_for()
        assert _answers(servers["settings"]) == {BOOKS: "accepted"}
        _screen(page, tmp_path / "dashboard-network-invitations-fa.png")

        # At 768 px the same pages fit without sideways scrolling; in English too
        page.set_viewport_size({"width": 768, "height": 1000})
        nav.get_by_role("link", name=today["title"]).click()
        purchases.filter(has_text="۲").wait_for()
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-today-fa-768.png")
        page.get_by_role("button", name="English").click()
        en = _catalogue("today", "en")
        page.get_by_role("heading", name=en["title"], exact=True).wait_for()
        assert "450,000" in page.get_by_test_id("figure-salesRial").inner_text()
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-today-en-768.png")
        assert complaints == []
    finally:
        context.close()


def _number(text: str) -> int:
    """An integer as the page writes it (Persian digits, Persian thousands separators)."""
    western = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    return int("".join(c for c in western if c.isdigit() or c == "-"))


def test_a_manager_adjusts_a_member_tags_her_and_exports_the_list(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    """Members: a search by phone finds one member; an adjustment without a reason is
    refused at its field and writes nothing; with a reason it is recorded and heads the
    history; a tag is added; the list filtered by that tag downloads as XLSX, which openpyxl
    opens and which holds exactly her row."""
    words = _catalogue("members", "fa")
    with watched_page(browser, downloads=True) as (page, complaints):
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        page.goto(f"{servers['dashboard']}members")
        rows = page.get_by_test_id("member-row")
        rows.nth(1).wait_for()
        page.get_by_test_id("member-search").fill("۰۹۱۲۱۱۱۰۰۰۱")
        page.get_by_role("button", name=words["search"]["submit"], exact=True).click()
        page.get_by_test_id("member-count").filter(has_text="۱").wait_for()
        assert rows.count() == 1
        rows.first.get_by_role("link").click()
        page.get_by_test_id("member-name").wait_for()
        points = page.get_by_test_id("member-points")
        before = _number(points.inner_text())

        # 50 points without a reason: refused at the reason's field, nothing recorded
        page.get_by_test_id("adjust-amount").fill("۵۰")
        page.get_by_test_id("adjust-submit").click()
        page.get_by_text(words["adjust"]["reasonRequired"]).wait_for()
        reason = page.get_by_label(words["adjust"]["reason"])
        assert reason.get_attribute("aria-invalid") == "true"
        assert _number(points.inner_text()) == before
        _screen(page, tmp_path / "dashboard-member-adjust-error-fa.png")
        # With a reason: recorded, the balance moves, the history says why
        reason.fill("جبران تأخیر در تحویل")
        page.get_by_test_id("adjust-submit").click()
        page.get_by_test_id("adjust-saved").wait_for()
        page.wait_for_function(
            "([el, want]) => el.innerText.includes(want)",
            arg=[
                points.element_handle(),
                f"{before + 50:,}".translate(str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")),
            ],
        )
        history = page.get_by_test_id("member-history")
        history.filter(has_text="جبران تأخیر در تحویل").wait_for()
        latest = history.locator("tbody tr").first.inner_text()
        assert words["reason"]["ADJUSTMENT"] in latest
        assert "جبران تأخیر در تحویل" in latest
        assert "+۵۰" in latest

        # A tag, then the list of members with that tag, exported as XLSX
        page.get_by_test_id("tag-input").fill("مشتری-ویژه")
        page.get_by_role("button", name=words["tags"]["add"]).click()
        page.get_by_test_id("member-tags").filter(has_text="مشتری-ویژه").wait_for()
        _screen(page, tmp_path / "dashboard-member-fa.png")
        page.get_by_role("link", name=words["detail"]["back"]).click()
        page.get_by_test_id("member-search").fill("")
        page.get_by_label(words["filter"]["tag"]).fill("مشتری-ویژه")
        page.get_by_role("button", name=words["search"]["submit"], exact=True).click()
        page.get_by_test_id("member-count").filter(has_text="۱").wait_for()
        with page.expect_download() as download:
            page.get_by_test_id("export-xlsx").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        book = openpyxl.load_workbook(saved, read_only=True)
        header, *found = [list(r) for r in book.active.iter_rows(values_only=True)]
        assert len(found) == 1
        row = dict(zip(header, found[0], strict=True))
        assert row["phone"] == "09121110001"
        assert row["points"] == before + 50
        assert row["tags"] == "مشتری-ویژه"
        _screen(page, tmp_path / "dashboard-members-filtered-fa.png")

        # In English at 768 px the member list still fits
        page.set_viewport_size({"width": 768, "height": 1000})
        page.get_by_role("button", name="English").click()
        en = _catalogue("members", "en")
        page.get_by_role("heading", name=en["title"], exact=True).wait_for()
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-members-en-768.png")
        assert complaints == []
