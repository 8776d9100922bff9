"""What each shop sent on the mall's account, in the mall console, in real headless Chromium
against the hub as a process: a mall admin opens "Shops' messages" from the navigation,
reads each shop's totals today and over the last 7 days, the relayed messages (phones
masked, a chat only named), filters them by shop and by status, in Persian and English.
Screenshots at 1280, 768 and 360 px; no serious axe violation.

Needs the console built (``make web``) and ``chromium``: skipped without them, failed
without them under ``MALLNET_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from hub.app import create_app as create_hub_app
from hub.db.models import RelayedMessage
from hub.services import registry
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.jalali import tehran_date

from ..conftest import free_ports
from ..hub_pages import in_hub
from ..live_server import LiveServer
from .browsers import launched_chromium, require_browser
from .signin_pages import BOOKS, prepare_hub, sign_in_manager
from .test_console_admin import _messages
from .test_settlement_pages import _choose, _english, _screen

SHOES = "kafsh-arya"
SARA, ALI, CHAT = "+989121234567", "+989351112233", "734519902"
# (shop, days ago, kind, medium, recipient, parts, status, delivered, cost, reason)
ROWS = [
    (SHOES, 3, "campaign", "sms", ALI, 3, "sent", False, 3_600, None),
    (BOOKS, 0, "purchase", "sms", SARA, 2, "sent", False, 2_400, None),
    (BOOKS, 0, "welcome", "telegram", CHAT, 0, "sent", True, None, None),
    (BOOKS, 0, "purchase", "sms", ALI, 1, "failed", False, None, "418: not enough credit"),
]


async def _relayed(settings: Settings) -> None:
    await prepare_hub(settings)
    now = utcnow()

    async def work(session: Any) -> None:
        await registry.register_shop(
            session, registry.ShopInput(SHOES, "کفش آریا", "Kafsh Arya", "shoes")
        )
        for n, (shop, ago, kind, medium, to, parts, status, delivered, cost, why) in enumerate(
            ROWS
        ):
            at = now - dt.timedelta(days=ago, seconds=len(ROWS) - n)
            session.add(
                RelayedMessage(
                    shop=shop,
                    key=f"msg-{n}",
                    digest="0" * 64,
                    kind=kind,
                    medium=medium,
                    line="promotional" if kind == "campaign" else "service",
                    recipient=to,
                    pseudonym=f"pseudonym-{n}",
                    parts=parts,
                    tehran_day=tehran_date(at),
                    status=status,
                    attempts=1,
                    reason=why,
                    provider=None if status == "failed" else "kavenegar",
                    cost_rial=cost,
                    delivered=delivered,
                    created_at=at,
                    sent_at=at if status == "sent" else None,
                )
            )

    await in_hub(settings, work)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    port = free_ports(1)[0]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("console-relayed") / "var",
        hub_url=f"http://127.0.0.1:{port}",
    )
    asyncio.run(_relayed(settings))
    with LiveServer(create_hub_app(settings), port) as hub:
        yield hub.url


def _masked(page: Any) -> None:
    shown = page.get_by_test_id("relayed-log").inner_text()
    for whole in ("+98912", "912123", "۹۱۲۱۲۳", CHAT, "pseudonym"):
        assert whole not in shown, shown


def test_a_mall_admin_reads_what_each_shop_sent(console: str, tmp_path: Path) -> None:
    fa, en = _messages("mallRelayed", "fa"), _messages("mallRelayed", "en")
    with launched_chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        complaints: list[str] = []
        page.on("pageerror", lambda error: complaints.append(str(error)))
        try:
            sign_in_manager(page, f"{console}/console/")
            page.get_by_role("link", name=fa["title"]).click()
            page.get_by_role("heading", name=fa["title"], exact=True).wait_for()

            # Today: the bookshop alone (two sent, one refused); the week adds the shoes.
            today = page.get_by_test_id("relayed-totals-today")
            week = page.get_by_test_id("relayed-totals-week")
            expect(today.get_by_test_id("relayed-shop")).to_have_count(1)
            expect(week.get_by_test_id("relayed-shop")).to_have_count(2)
            # Shop names come with the directory, which may answer after the totals.
            expect(today).to_contain_text("کتاب‌سرا")
            expect(week.get_by_test_id("relayed-shop").first).to_contain_text("کفش آریا")
            assert "۶۰۰" in week.get_by_test_id("relayed-total-cost").inner_text()

            rows = page.get_by_test_id("relayed-row")
            expect(rows).to_have_count(len(ROWS))
            _masked(page)
            assert "۰۹۱۲***۴۵۶۷" in page.get_by_test_id("relayed-log").inner_text()
            _screen(page, tmp_path / "console-relayed-fa-1280.png", 1280)
            _screen(page, tmp_path / "console-relayed-fa-360.png", 360)

            # One shop, then its refused message only.
            page.set_viewport_size({"width": 1280, "height": 900})
            _choose(page, fa["filter"]["shop"], "کفش آریا")
            expect(rows).to_have_count(1)
            assert "shop=kafsh-arya" in page.url
            _choose(page, fa["filter"]["shop"], fa["filter"]["allShops"])
            expect(rows).to_have_count(len(ROWS))
            failed = _messages("mallMessages", "fa")["status"]["FAILED"]
            page.get_by_test_id("relayed-status-filter").get_by_text(failed).click()
            expect(rows).to_have_count(1)
            assert "418" in rows.first.inner_text()
            assert "status=failed" in page.url

            # In English, on a tablet and a phone.
            _english(page)
            page.get_by_role("heading", name=en["title"], exact=True).wait_for()
            page.get_by_test_id("relayed-status-filter").get_by_text(en["filter"]["all"]).click()
            expect(rows).to_have_count(len(ROWS))
            _masked(page)
            assert "Telegram" in page.get_by_test_id("relayed-log").inner_text()
            _screen(page, tmp_path / "console-relayed-en-1280.png", 1280)
            _screen(page, tmp_path / "console-relayed-en-768.png", 768)
            _screen(page, tmp_path / "console-relayed-en-360.png", 360)
            assert complaints == []
        finally:
            context.close()
