"""The mall console's Network value page in a real headless Chromium against a hub served
as a process: the mall admin reads the value outstanding by issuing shop and what expires
in the coming days, is refused a point value that is no amount (at the field, nothing
written), then sets one that shows in the history; Persian at 1280 px and English at
768 px, each screen without serious accessibility violations (axe-core)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.db.models import Shopper, ValueLot
from mallnet.config import Settings
from mallnet.db import utcnow

from ..hub_pages import in_hub
from .axe import serious_violations
from .browsers import served_hub
from .signin_pages import BOOKS, sign_in_manager

MESSAGES = Path(__file__).resolve().parents[2] / "web" / "src" / "console" / "messages"


def _messages(lang: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        (MESSAGES / f"mallValue.{lang}.json").read_text(encoding="utf-8")
    )["mallValue"]
    return found


async def _value(settings: Settings) -> None:
    """The bookshop issued 12 pooled points (at 1,000 Rial) expiring in five days and
    30,000 Rial of credit expiring in a year."""
    now = utcnow()

    async def work(session: Any) -> None:
        session.add(Shopper(pseudonym="p1", created_at=now))
        await session.flush()
        for kind, amount, rate, days in (
            ("pooled_points", 12, 1_000, 5),
            ("general_credit", 30_000, 1, 365),
        ):
            session.add(
                ValueLot(
                    pseudonym="p1",
                    kind=kind,
                    issuer_shop=BOOKS,
                    amount=amount,
                    remaining=amount,
                    held=0,
                    rial_per_point=rate,
                    accepted_shops=[],
                    accepted_category=None,
                    expires_at=now + dt.timedelta(days=days),
                    reason="purchase",
                    origin="test",
                    issue_key=f"lot:{kind}",
                    created_at=now,
                )
            )

    await in_hub(settings, work)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    with served_hub(tmp_path_factory, "console-value", _value) as served:
        yield served


def _screen(page: Any, path: Path) -> None:
    page.mouse.move(0, 0)
    page.screenshot(path=path, full_page=True)
    assert serious_violations(page) == []


def test_the_admin_reads_the_liability_and_sets_the_point_value(
    hub: tuple[str, Settings], browser: Any, tmp_path: Path
) -> None:
    url, _settings = hub
    fa = _messages("fa")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        # Opened by its address, the page is where the sign-in comes back to
        sign_in_manager(page, f"{url}/console/value")
        page.get_by_role("heading", name=fa["title"], exact=True).wait_for()
        # 12 points at 100 toman and 3,000 toman of credit: 4,200 toman outstanding
        total = page.get_by_test_id("liability-total")
        total.filter(has_text="۴٬۲۰۰").wait_for()
        assert BOOKS in page.get_by_test_id("issuers").inner_text()
        # within 30 days only the points expire (1,200 toman)
        assert "۱٬۲۰۰" in page.get_by_test_id("expiring").inner_text()
        _screen(page, tmp_path / "console-value-fa.png")
        # A point value that is no amount is refused at its field
        field = page.get_by_label(fa["point"]["new"])
        field.fill("صد")
        page.get_by_role("button", name=fa["point"]["set"], exact=True).click()
        page.get_by_text(fa["point"]["bad"]).wait_for()
        assert page.get_by_test_id("point-values").count() == 0
        # then 150 toman a point is set and shows in the history
        field.fill("۱۵۰")
        page.get_by_role("button", name=fa["point"]["set"], exact=True).click()
        page.get_by_test_id("point-values").filter(has_text="۱۵۰").wait_for()
        _screen(page, tmp_path / "console-value-set-fa.png")
        # English at a tablet's width
        page.set_viewport_size({"width": 768, "height": 1000})
        page.get_by_role("button", name="English").click()
        en = _messages("en")
        page.get_by_role("heading", name=en["title"], exact=True).wait_for()
        total.filter(has_text="4,200").wait_for()
        _screen(page, tmp_path / "console-value-en-768.png")
        assert complaints == []
    finally:
        context.close()
