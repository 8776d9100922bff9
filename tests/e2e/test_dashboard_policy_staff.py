"""The shop dashboard's Club policy and Staff sections in a real headless Chromium, against a
hub and a node running as servers.

Club policy: the manager edits the policy in force; a number that is no number is refused
at its field by the page, tiers out of order are refused at the tier's field by the node,
and nothing is saved; the preview prices the 600,000 toman basket under the draft before
saving; saving makes version 2, listed first in the history.

Staff: the manager adds an operator, who signs in on another browser and finds no manager
section; the manager disables her, and once the node has heard from the hub (its worker
pulls the inbox) her open dashboard notices at its next call (no reload) and her password
no longer signs her in. A reset shows the new password once; enabled again with a new
role, she signs in with it.

At 1280 px and 768 px, Persian and English, each screen without serious accessibility
violations (axe-core); screenshots under the test's tmp_path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app as create_hub_app
from mallnet.config import Settings
from mallnet.db import engine_scope
from mallnet.devtokens import issue
from shop_node.app import create_app as create_node_app
from shop_node.services.inbox import pull_and_apply
from shop_node.services.relay import hub_connection
from shop_node.services.runtime import NodeRuntime

from ..conftest import free_ports
from ..live_server import LiveServer
from .browsers import launched_chromium, require_browser
from .signin_pages import BOOKS, SHOP_MANAGER, prepare_hub, sign_in_manager
from .test_dashboard_network import _catalogue, _fits, _screen

SARA = ("sara", "sara operator pass")
POLICY = "{ clubPolicy { version document } }"


def _fill(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", value)
    return template


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    port, node_port = free_ports(2)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("policy-staff") / "var",
        hub_url=f"http://127.0.0.1:{port}",
    )
    asyncio.run(prepare_hub(settings, f"http://127.0.0.1:{node_port}"))
    with (
        LiveServer(create_hub_app(settings), port),
        LiveServer(create_node_app(BOOKS, settings), node_port) as node,
    ):
        yield {"dashboard": f"{node.url}/dashboard/", "node": node.url, "settings": settings}


@pytest.fixture(scope="module")
def browser(servers: dict[str, Any]) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def _policy(servers: dict[str, Any]) -> dict[str, Any]:
    """The policy in force, as the node's API gives it to any staff member."""
    token = issue(servers["settings"], audience=BOOKS, scopes=["shop:read"], subject="staff:x")
    answer = httpx.post(
        f"{servers['node']}/graphql",
        json={"query": POLICY},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    found: dict[str, Any] = answer["data"]["clubPolicy"]
    return found


def _pull_inbox(settings: Settings) -> int:
    """What the node's worker does every few seconds (``node.relay_outbox``): pull the
    hub's commands for this shop and apply them."""

    async def pull() -> int:
        async with engine_scope(settings.node_db_url(BOOKS)) as engine:
            runtime = await NodeRuntime.start(BOOKS, engine, settings)
            hub = await hub_connection(runtime, settings.public_hub_url)
            assert hub is not None
            return await pull_and_apply(runtime, hub)

    # Playwright's synchronous API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, pull()).result()


def _sign_in(page: Any, account: tuple[str, str]) -> None:
    """On the hub's sign-in page (where the dashboard sends someone not signed in), sign
    in; the page the hub answers with has loaded on return."""
    page.wait_for_url("**/oauth/authorize**")
    page.locator("#username").fill(account[0])
    page.locator("#password").fill(account[1])
    with page.expect_navigation():
        page.locator("#password").press("Enter")


def _sign_in_at_till(page: Any, dashboard: str, account: tuple[str, str]) -> None:
    """A staff member opens the dashboard and signs in (it may send her on to her first
    page: an auditor's is today's figures)."""
    page.goto(dashboard)
    _sign_in(page, account)
    page.wait_for_url(f"{dashboard}**")
    page.get_by_test_id("signed-in").wait_for()


def _graphql_status(page: Any) -> int:
    """What the node answers the open page's next call (the page's own cookie and header)."""
    status: int = page.evaluate(
        """async () => (await fetch('/graphql', {
            method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-Mallnet-CSRF': '1'},
            body: JSON.stringify({query: '{ clubPolicy { version } }'}),
        })).status"""
    )
    return status


def _staff_list_refused(page: Any) -> bool:
    """Whether the node refuses the open page's own call for the staff list (a manager's)."""
    answer: dict[str, Any] = page.evaluate(
        """async () => (await fetch('/graphql', {
            method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-Mallnet-CSRF': '1'},
            body: JSON.stringify({query: '{ staffAccounts { __typename } }'}),
        })).json()"""
    )
    errors = [e["message"] for e in answer.get("errors", [])]
    return answer.get("data") is None and any("needs one of the scopes" in e for e in errors)


def test_a_manager_edits_previews_and_saves_the_club_policy(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    policy = _catalogue("policy", "fa")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        nav = page.get_by_role("navigation", name="بخش‌های فروشگاه")
        nav.get_by_role("link", name=policy["title"]).click()
        page.wait_for_url("**/dashboard/policy")
        page.get_by_test_id("policy-history-row").first.wait_for()
        assert page.get_by_test_id("policy-history-row").count() == 1
        _screen(page, tmp_path / "dashboard-policy-fa-1280.png")

        # Welcome points typed as a word: refused at that field by the page itself
        welcome = page.get_by_label(policy["welcomePoints"])
        welcome.fill("صد")
        page.get_by_test_id("policy-save").click()
        page.get_by_text(policy["error"]["points"]).wait_for()
        assert welcome.get_attribute("aria-invalid") == "true"
        # The silver tier at 0 points, no higher than the base tier: the node refuses it
        # at that tier's threshold (the page leaves order across tiers to the node)
        welcome.fill("۱۰۰")
        silver = page.get_by_label(
            _fill(policy["ofRow"], what=policy["tier"]["threshold"], row="۲")
        )
        silver.fill("۰")
        page.get_by_test_id("policy-save").click()
        page.get_by_text(policy["error"]["threshold"]).wait_for()
        assert silver.get_attribute("aria-invalid") == "true"
        assert welcome.get_attribute("aria-invalid") != "true"
        assert _policy(servers)["version"] == 1
        _screen(page, tmp_path / "dashboard-policy-error-fa.png")

        # Fixed, with 8% credit: the 600,000 toman basket (the preview's default) earns, by
        # tier, 600 points and 48,000 toman of credit ×1, ×1.25, ×1.5 — before saving
        silver.fill("۵۰۰")
        page.get_by_label(policy["creditPercent"]).fill("۸")
        page.get_by_test_id("policy-preview").click()
        rows = page.get_by_test_id("preview-tier")
        rows.nth(2).wait_for()
        assert [rows.nth(i).inner_text().split() for i in range(3)] == [
            ["برنزی", "۶۰۰", "۴۸٬۰۰۰"],
            ["نقره‌ای", "۷۵۰", "۶۰٬۰۰۰"],
            ["طلایی", "۹۰۰", "۷۲٬۰۰۰"],
        ]
        result = page.get_by_test_id("policy-preview-result").inner_text()
        assert "۶۰۰٬۰۰۰" in result  # the basket
        assert "۱۰۰ امتیاز" in result  # the welcome gift
        # the sound draft leaves no refusal of the earlier save on the page
        assert page.get_by_text(policy["error"]["threshold"]).count() == 0
        assert page.get_by_role("alert").count() == 0
        assert _policy(servers)["version"] == 1
        _screen(page, tmp_path / "dashboard-policy-preview-fa.png")

        # Saved: version 2 is in force and heads the history
        page.get_by_test_id("policy-save").click()
        page.get_by_test_id("policy-saved").filter(has_text="۲").wait_for()
        saved = _policy(servers)
        assert saved["version"] == 2
        assert saved["document"]["welcome_points"] == 100
        assert saved["document"]["earning"]["credit_bp"] == 800
        assert [t["threshold"] for t in saved["document"]["tiers"]] == [0, 500, 2_000]
        history = page.get_by_test_id("policy-history-row")
        history.nth(1).wait_for()
        assert history.count() == 2
        assert history.first.inner_text().split()[0] == "۲"
        _screen(page, tmp_path / "dashboard-policy-saved-fa-1280.png")

        # At 768 px the page fits without sideways scrolling; in English too
        page.set_viewport_size({"width": 768, "height": 1000})
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-policy-fa-768.png")
        page.get_by_role("button", name="English").click()
        en = _catalogue("policy", "en")
        page.get_by_role("heading", name=en["title"], exact=True).wait_for()
        page.get_by_role("button", name=en["preview"], exact=True).click()
        page.get_by_test_id("preview-tier").first.filter(has_text="48,000").wait_for()
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-policy-en-768.png")
        assert complaints == []
    finally:
        context.close()


def test_a_manager_manages_staff_and_a_disabled_member_is_signed_out(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    staff = _catalogue("staff", "fa")
    manager = browser.new_context(viewport={"width": 1280, "height": 900})
    operator = browser.new_context(viewport={"width": 1280, "height": 900})
    page, sara = manager.new_page(), operator.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        nav = page.get_by_role("navigation", name="بخش‌های فروشگاه")
        nav.get_by_role("link", name=staff["title"]).click()
        page.wait_for_url("**/dashboard/staff")
        rows = page.get_by_test_id("staff-row")
        rows.filter(has_text=SHOP_MANAGER[0]).wait_for()

        # A username in Persian letters and a short password: refused at their fields
        page.get_by_label(staff["username"], exact=True).fill("سارا")
        page.get_by_label(staff["password"], exact=True).fill("کوتاه")
        page.get_by_role("button", name=staff["create"], exact=True).click()
        page.get_by_text(staff["error"]["username"]).wait_for()
        page.get_by_text(staff["error"]["password"]).wait_for()
        _screen(page, tmp_path / "dashboard-staff-error-fa.png")
        # Then Sara, a till operator
        page.get_by_label(staff["username"], exact=True).fill(SARA[0])
        page.get_by_label(staff["password"], exact=True).fill(SARA[1])
        page.get_by_role("button", name=staff["create"], exact=True).click()
        page.get_by_test_id("staff-notice").wait_for()
        row = rows.filter(has_text=SARA[0])
        # (by the row's state: the status word is also in the buttons' labels, "غیرفعال
        # کردن", and a text match passed before the hub had answered)
        rows.and_(page.locator(f"[data-username={SARA[0]}][data-active=true]")).wait_for()
        assert row.get_by_label(_fill(staff["roleOf"], username=SARA[0])).input_value() == (
            "OPERATOR"
        )
        _screen(page, tmp_path / "dashboard-staff-fa-1280.png")

        # Sara signs in on her own browser: the till opens, the node answers her
        _sign_in_at_till(sara, servers["dashboard"], SARA)
        assert _graphql_status(sara) == 200
        # As an operator she sees the till, today's figures and the members, not the
        # manager's sections; their address opens only "not for your role", and the node
        # refuses her the staff list even when asked directly
        sara_nav = sara.get_by_role("navigation", name="بخش‌های فروشگاه")
        sara_nav.get_by_role("link", name=_catalogue("members", "fa")["title"]).wait_for()
        for part in ("policy", "shopNetwork", "shopSettlement", "staff"):
            assert sara_nav.get_by_role("link", name=_catalogue(part, "fa")["title"]).count() == 0
        sara.goto(f"{servers['dashboard']}staff")
        sara.get_by_test_id("forbidden").wait_for()
        assert sara.get_by_test_id("staff-row").count() == 0
        _screen(sara, tmp_path / "dashboard-operator-refused-fa.png")
        assert _staff_list_refused(sara)

        # The manager disables her; the node hears it from the hub: her open dashboard is
        # refused, and at its next call (she opens today's figures, no reload) the page
        # notices and sends her to the hub's sign-in, where her password no longer works
        row.get_by_role("button", name=_fill(staff["disableOf"], username=SARA[0])).click()
        rows.and_(page.locator(f"[data-username={SARA[0]}][data-active=false]")).wait_for()
        assert _pull_inbox(servers["settings"]) >= 1
        assert _graphql_status(sara) == 401
        sara_nav.get_by_role("link", name=_catalogue("today", "fa")["title"]).click()
        _sign_in(sara, SARA)
        sara.locator("#password").wait_for()
        assert "/oauth/authorize" in sara.url
        assert not sara.url.startswith(servers["dashboard"])

        # A reset: the new password is shown once, then gone
        row.get_by_role("button", name=_fill(staff["resetOf"], username=SARA[0])).click()
        shown = page.get_by_test_id("new-password-value")
        shown.wait_for()
        new_password = shown.inner_text().strip()
        assert len(new_password) >= 10
        _screen(page, tmp_path / "dashboard-staff-reset-fa.png")
        page.get_by_role("button", name=staff["newPasswordDone"]).click()
        shown.wait_for(state="detached")
        assert new_password not in page.content()

        # An auditor now, enabled again: she signs in with the new password
        role = row.get_by_label(_fill(staff["roleOf"], username=SARA[0]))
        role.select_option("AUDITOR")
        row.get_by_role("button", name=staff["changeRole"]).click()
        page.get_by_test_id("staff-notice").filter(has_text=staff["role"]["AUDITOR"]).wait_for()
        row.get_by_role("button", name=_fill(staff["enableOf"], username=SARA[0])).click()
        rows.and_(page.locator(f"[data-username={SARA[0]}][data-active=true]")).wait_for()
        _pull_inbox(servers["settings"])
        # A token's issue time is in whole seconds, and one issued in the same second as a
        # revocation (the role change) counts as issued before it (the hub and the node
        # refuse it, on the safe side): her new sign-in comes in the next second, as a
        # person's would.
        time.sleep(1.1)
        _sign_in_at_till(sara, servers["dashboard"], (SARA[0], new_password))
        assert _graphql_status(sara) == 200

        # At 768 px, and in English
        page.set_viewport_size({"width": 768, "height": 1000})
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-staff-fa-768.png")
        page.get_by_role("button", name="English").click()
        en = _catalogue("staff", "en")
        page.get_by_role("heading", name=en["title"], exact=True).wait_for()
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-staff-en-768.png")
        page.set_viewport_size({"width": 1280, "height": 900})
        _screen(page, tmp_path / "dashboard-staff-en-1280.png")
        assert complaints == []
    finally:
        manager.close()
        operator.close()
