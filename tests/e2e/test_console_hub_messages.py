"""The hub's delivery log in the mall console, in real headless Chromium against the hub as
a process: a mall admin opens it from the navigation, reads the newest page (phones and
codes masked, the cost of every page above the table), pages to the older messages and
filters the failed ones. Screenshots at 1280 and 390 px; no serious axe violation.

Needs the console built (``make web``) and ``chromium``: skipped without them, failed
without them under ``MALLNET_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hub.app import create_app as create_hub_app
from hub.services.hub_messages import LoggedSender
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.messaging.channels import PermanentFailure

from ..conftest import free_ports
from ..live_server import LiveServer
from .browsers import launched_chromium, require_browser
from .signin_pages import prepare_hub, sign_in_manager
from .test_console_admin import _messages
from .test_settlement_pages import _screen

SENT, FAILED = 26, 2  # 28 messages: a page of 25 and an older one of 3


class _Provider:
    """A provider's line that refuses every message of a phone ending 0000."""

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        if phone.endswith("0000"):
            raise PermanentFailure("418: not enough credit", code="418")


async def _sent(settings: Settings) -> None:
    await prepare_hub(settings)
    async with engine_scope(settings.hub_db_url) as engine:
        sender = LoggedSender(
            _Provider(), session_factory(engine), provider="kavenegar", part_price_rial=1_200
        )
        kinds = ("otp", "redemption", "lottery_win")
        for n in range(SENT):
            text = f"کد شما: {482_900 + n}" if n % 3 != 2 else f"برنده شدید! کد جایزه: {9_000 + n}"
            await sender.send_sms(f"+98912123{4500 + n}", text, kind=kinds[n % 3])
        for _ in range(FAILED):
            with pytest.raises(PermanentFailure):
                await sender.send_sms("+989121110000", "کد برداشت شما: 550071", kind="redemption")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    port = free_ports(1)[0]
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("console-messages") / "var",
        hub_url=f"http://127.0.0.1:{port}",
    )
    asyncio.run(_sent(settings))
    with LiveServer(create_hub_app(settings), port) as hub:
        yield hub.url


def test_a_mall_admin_reads_the_hubs_messages(console: str, tmp_path: Path) -> None:
    words = _messages("mallMessages", "fa")
    with launched_chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        complaints: list[str] = []
        page.on("pageerror", lambda error: complaints.append(str(error)))
        try:
            sign_in_manager(page, f"{console}/console/")
            page.get_by_role("link", name=words["title"]).click()
            page.get_by_role("heading", name=words["title"]).wait_for()
            rows = page.get_by_test_id("message-row")
            rows.first.wait_for()
            assert rows.count() == 25
            shown = page.get_by_test_id("message-log").inner_text()
            for whole in ("+98912", "482900", "۴۸۲۹۰۰"):
                assert whole not in shown
            assert "••••••" in shown
            total = page.get_by_test_id("messages-total").inner_text()
            assert "تومان" in total, total
            _screen(page, tmp_path / "console-messages-fa-1280.png", 1280)
            _screen(page, tmp_path / "console-messages-fa-390.png", 390)

            # The older page holds the rest.
            page.set_viewport_size({"width": 1280, "height": 900})
            page.get_by_test_id("log-older").click()
            expect(rows).to_have_count(3)

            # Only the failed ones: two, each saying so in words, not colour alone.
            choices = page.get_by_test_id("status-filter")
            choices.get_by_text(words["status"]["FAILED"]).click()
            expect(rows).to_have_count(2)
            statuses = page.get_by_test_id("message-status").all_inner_texts()
            assert statuses == [words["status"]["FAILED"]] * 2
            assert "418" in page.get_by_test_id("message-log").inner_text()
            _screen(page, tmp_path / "console-messages-failed-fa-390.png", 390)
            assert complaints == []
        finally:
            context.close()
