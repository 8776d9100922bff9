"""The shop dashboard's messages in a real headless Chromium, against a hub and a node
running as servers, with the node's worker and dispatcher run in process between steps
(no Celery here: the node's task sender is replaced by a recorder).

The manager filters the members by a tag, opens "Send a message", types a Persian text and
reads the preview — four members in the list, three who accept offers (two by SMS, one by
Telegram), one without consent, the quiet hours holding it until a Tehran time, the text
as a member gets it with its parts and cost, all as the node's own preview says — sends it
with a double click (one send), watches the progress reach done, and follows the link to
the log of that send. The template preview shows a long Persian text in two parts, and a
misspelt placeholder refused at its field. A member's page links to her messages.
At 1280 px and 390 px, Persian and English, without serious accessibility violations
(axe-core); screenshots under the test's tmp_path. An operator reads the log but has no
"Send a message"."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import expect

from hub.app import create_app as create_hub_app
from hub.services import people
from mallnet.config import Settings
from mallnet.db import engine_scope, utcnow
from mallnet.devtokens import issue
from mallnet.jalali import TEHRAN
from shop_node.app import create_app as create_node_app
from shop_node.db.models import TelegramChat
from shop_node.services import broadcast, messages
from shop_node.services.runtime import NodeRuntime

from ..conftest import free_ports
from ..hub_pages import in_hub
from ..live_server import LiveServer
from .browsers import launched_chromium, require_browser
from .signin_pages import BOOKS, SHOP_MANAGER, prepare_hub, sign_in_manager
from .test_dashboard_network import _catalogue, _fits, _screen

T = TypeVar("T")
OPERATOR = ("sara", "sara operator pass")
NAV = "بخش‌های فروشگاه"
TEXT = "جمعهٔ این هفته: دو کتاب به قیمت یکی، فقط برای اعضای ویژهٔ باشگاه"
# A welcome text of the shop's own, long enough for two SMS parts once filled in.
LONG = (
    "سلام {name}، به باشگاه مشتریان {shop} خوش آمدید. از امروز با هر خرید امتیاز "
    "می‌گیرید و در جشنواره‌های ماهانه شرکت داده می‌شوید."
)
# (phone, name, SMS consent, offers consent, Telegram chat, tagged vip)
PEOPLE = {
    "sms": ("09125550101", "آرش", True, True, None, True),
    "telegram": ("09125550102", "بهار", False, True, "7002", True),
    "sms2": ("09125550103", "کاوه", True, True, None, True),
    "no_offers": ("09125550104", "دریا", True, False, None, True),
    "not_vip": ("09125550105", "نیما", True, True, None, False),
}
ENROL = """
mutation Enrol($input: EnrolMemberInput!) {
  enrolMember(input: $input) { __typename ... on Member { id cardCode } }
}
"""
PREVIEW = """
query Preview($filter: MemberFilterInput!, $text: String!) {
  broadcastPreview(filter: $filter, text: $text, lang: "fa") {
    ... on BroadcastPreview {
      matched recipients text segments { parts } partPriceRial costRial
    }
  }
}
"""
RECORD = """
mutation Record($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { __typename }
}
"""
# Purchases at the till: Arash's (a purchase message), and a newcomer's (she is enrolled
# by it: a welcome and a purchase message). With the send's three, the log holds six.
PURCHASES = [("R-1", "09125550101"), ("R-2", "09125550106")]
BROADCASTS = "query { broadcasts(first: 5) { items { id status queued held } } }"


def fa(n: int | str) -> str:
    return str(n).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def _quiet_now() -> tuple[str, str]:
    """Quiet hours from an hour ago to an hour ahead (Tehran): the preview says they hold
    the send, and until when, whatever the time the test runs."""
    now = dt.datetime.now(TEHRAN)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}", f"{end:%H:%M}"


def _on_node(settings: Settings, work: Callable[[NodeRuntime], Awaitable[T]]) -> T:
    """Run ``work`` as a worker process would: its own engine and runtime, in a thread
    (Playwright's synchronous API keeps an event loop running in this one)."""

    async def run() -> T:
        async with engine_scope(settings.node_db_url(BOOKS)) as engine:
            return await work(await NodeRuntime.start(BOOKS, engine, settings))

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _graphql(servers: dict[str, Any], query: str, scope: str, **variables: Any) -> Any:
    token = issue(servers["settings"], audience=BOOKS, scopes=[scope], subject="staff:test")
    answer = httpx.post(
        f"{servers['node']}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert "errors" not in answer, answer
    return answer["data"]


async def _operator(session: Any) -> None:
    await people.create_user(session, *OPERATOR, "operator", BOOKS)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_browser()
    port, node_port = free_ports(2)
    quiet, opens = _quiet_now()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("messages") / "var",
        hub_url=f"http://127.0.0.1:{port}",
        quiet_hours=quiet,
    )
    asyncio.run(prepare_hub(settings, f"http://127.0.0.1:{node_port}"))
    asyncio.run(in_hub(settings, _operator))
    node_app = create_node_app(BOOKS, settings)
    with LiveServer(create_hub_app(settings), port), LiveServer(node_app, node_port) as node:
        # What would go to the workers, recorded: the test runs it in process.
        tasks: list[tuple[Any, ...]] = []

        async def record(name: str, *args: Any) -> None:
            tasks.append((name, *args))

        node_app.state.enqueue = record
        found: dict[str, Any] = {
            "dashboard": f"{node.url}/dashboard/",
            "node": node.url,
            "settings": settings,
            "tasks": tasks,
            "opens": opens,
            "cards": {},
        }
        chats: dict[int, str] = {}
        for role, (phone, name, sms, offers, chat, vip) in PEOPLE.items():
            person = {
                "phone": phone,
                "name": name,
                "consentSms": sms,
                "consentPromotional": offers,
                "tags": ["vip"] if vip else [],
            }
            made = _graphql(found, ENROL, "shop:operate", input=person)["enrolMember"]
            assert made["__typename"] == "Member", made
            found["cards"][role] = made["cardCode"]
            if chat:
                chats[int(made["id"])] = chat

        async def link(runtime: NodeRuntime) -> None:
            async with runtime.sessions() as session, session.begin():
                for member_id, chat in chats.items():
                    # Linked, and she said yes to offers in the chat.
                    linked = TelegramChat(
                        member_id=member_id, chat_id=chat, linked_at=utcnow(), promotional=True
                    )
                    session.add(linked)

        _on_node(settings, link)
        for receipt, phone in PURCHASES:
            purchase = {
                "receiptId": receipt,
                "totalRial": 1_500_000,
                "lines": [{"productGroup": "general", "amountRial": 1_500_000}],
                "phone": phone,
            }
            done = _graphql(found, RECORD, "shop:operate", input=purchase)["recordPurchase"]
            assert done["__typename"] == "PurchaseRecorded", done
        yield found


@pytest.fixture(scope="module")
def browser(servers: dict[str, Any]) -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


def _vip_list(page: Any, servers: dict[str, Any], lang: str = "fa") -> None:
    """The members page filtered by the tag «vip»: four members."""
    members = _catalogue("members", lang)
    page.goto(f"{servers['dashboard']}members")
    page.get_by_label(members["filter"]["tag"], exact=True).fill("vip")
    page.get_by_role("button", name=members["search"]["submit"], exact=True).click()
    expect(page.get_by_test_id("member-row")).to_have_count(4)


def _screen_dialog(page: Any, path: Path) -> None:
    """The whole dialog in one picture: the window made tall enough for it, as the dialog
    scrolls inside itself, then back."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 1800})
    _screen(page, path)
    page.set_viewport_size(size)


def _open_and_type(page: Any, text: str = TEXT) -> Any:
    """Open "Send a message" for the list, type the text, wait for its preview."""
    page.get_by_test_id("send-open").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_test_id("send-text").fill(text)
    dialog.get_by_test_id("send-sample").wait_for()
    expect(dialog.get_by_test_id("send-submit")).to_be_enabled()
    return dialog


def test_a_manager_previews_sends_and_follows_a_message_to_a_list(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    words = _catalogue("messaging", "fa")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    complaints: list[str] = []
    page.on("pageerror", lambda error: complaints.append(str(error)))
    try:
        sign_in_manager(page, servers["dashboard"], SHOP_MANAGER)
        # Given the members tagged vip, and the node's own preview of the text to them
        _vip_list(page, servers)
        expected = _graphql(servers, PREVIEW, "shop:manage", filter={"tag": "vip"}, text=TEXT)
        shown = expected["broadcastPreview"]
        assert (shown["matched"], shown["recipients"]) == (4, 3)
        parts = shown["segments"]["parts"]
        assert int(shown["costRial"]) == 2 * parts * int(shown["partPriceRial"])

        # When the manager opens "Send a message" and types the text
        dialog = _open_and_type(page)
        # Then the preview counts the list: 3 of the 4 accept offers, 2 by SMS, 1 by Telegram
        figures = {
            name: dialog.get_by_test_id(f"send-{name}").inner_text()
            for name in ("matched", "recipients", "sms", "telegram", "lacking", "parts")
        }
        assert figures == {
            "matched": fa(4),
            "recipients": fa(3),
            "sms": fa(2),
            "telegram": fa(1),
            "lacking": fa(1),
            "parts": fa(parts),
        }
        assert dialog.get_by_test_id("send-filter").inner_text().endswith("vip")
        # the text as a member gets it: the shop's name, the opt-out line
        assert dialog.get_by_test_id("send-sample").inner_text() == shown["text"]
        assert shown["text"].startswith("«ketab-sara»: " + TEXT)
        # the cost: 2 SMS × parts × the part's price = the node's total, in toman
        line = dialog.get_by_test_id("send-cost-line").inner_text()
        price = int(shown["partPriceRial"]) // 10
        assert line.split() == [fa(2), "پیامک", "×", fa(parts), "بخش", "×", fa(price), "تومان"]
        total = f"{int(shown['costRial']) // 10:,}".replace(",", "٬")
        assert fa(total) in dialog.get_by_test_id("send-cost").inner_text()
        # and the quiet hours hold it until a Tehran time
        assert fa(servers["opens"]) in dialog.get_by_test_id("send-quiet").inner_text()
        _screen_dialog(page, tmp_path / "dashboard-send-preview-fa-1280.png")

        # When it is sent with a double click: one send, handed to a worker once
        dialog.get_by_test_id("send-submit").dblclick()
        progress = dialog.get_by_test_id("send-progress")
        progress.wait_for()
        assert [name for name, *_ in servers["tasks"]] == ["node.send_broadcast"]
        made = _graphql(servers, BROADCASTS, "shop:manage")["broadcasts"]["items"]
        assert len(made) == 1
        batch = made[0]["id"]
        assert servers["tasks"][0][2] == batch
        # The worker walks the list (the quiet hours hold each message); the progress,
        # asked every 2 s, reaches done
        done = _on_node(servers["settings"], lambda runtime: broadcast.send(runtime, batch))
        assert (done.status, done.queued, done.held, done.skipped_no_consent) == ("done", 3, 3, 1)
        status = dialog.get_by_test_id("send-progress-status")
        expect(status).to_have_attribute("data-status", "done", timeout=6_000)
        assert dialog.get_by_test_id("progress-queued").inner_text() == fa(3)
        assert dialog.get_by_test_id("progress-held").inner_text() == fa(3)
        assert dialog.get_by_test_id("progress-skipped").inner_text() == fa(1)
        held = dialog.get_by_test_id("progress-deliveries").get_by_test_id("message-status")
        expect(held).to_have_count(1)
        assert held.get_attribute("data-status") == "HELD"
        _screen(page, tmp_path / "dashboard-send-progress-fa-1280.png")

        # After the quiet hours the dispatcher sends them (and the till's messages)
        async def after_quiet(runtime: NodeRuntime) -> Any:
            runtime.clock = lambda: utcnow() + dt.timedelta(hours=2)
            return await messages.send_due(runtime, servers["settings"])

        assert _on_node(servers["settings"], after_quiet).sent == 6

        # The link shows the log of this send: three messages, delivered
        dialog.get_by_test_id("progress-log").click()
        page.wait_for_url(f"**/dashboard/messages?batch={batch}")
        page.get_by_test_id("log-batch").wait_for()
        rows = page.get_by_test_id("message-row")
        expect(rows).to_have_count(3)
        expect(rows.filter(has_text=words["channel"]["telegram"])).to_have_count(1)
        for n in range(3):
            assert rows.nth(n).get_by_test_id("message-status").get_attribute("data-status") in (
                "SENT",
                "DELIVERED",
            )
        sms = rows.filter(has_text=words["channel"]["sms"])
        assert "***" in sms.first.inner_text()  # the number's middle hidden
        rows.first.get_by_test_id("message-toggle").click()
        assert TEXT in page.get_by_test_id("message-text").inner_text()
        delivered = page.get_by_test_id("status-DELIVERED").inner_text()
        assert delivered.split()[-1] == fa(3), delivered
        _screen(page, tmp_path / "dashboard-messages-batch-fa-1280.png")

        # Without the batch: the till's messages too, filtered by status
        page.get_by_test_id("log-batch").get_by_role("button").click()
        expect(rows).to_have_count(6)
        page.get_by_test_id("status-HELD").click()
        page.get_by_text(words["log"]["empty"]).wait_for()
        page.get_by_test_id("status-all").click()
        expect(rows).to_have_count(6)

        # The template preview: a long Persian welcome takes two parts; with a misspelt
        # placeholder it is refused at the field
        page.get_by_test_id("tab-preview").click()
        template = page.get_by_test_id("preview-template")
        template.fill(LONG.replace("{name}", "{nam}"))
        expect(template).to_have_attribute("aria-invalid", "true")
        template.fill(LONG)
        expect(page.get_by_test_id("phone-part")).to_have_count(2)
        expect(template).not_to_have_attribute("aria-invalid", "true")
        assert page.get_by_test_id("parts-count").inner_text() == fa(2)
        units = page.get_by_test_id("part-units").first.inner_text()
        assert units.endswith(f"{fa(67)} از {fa(67)}"), units  # a split Persian part: 67 units
        cost = f"{2 * int(shown['partPriceRial']) // 10:,}".replace(",", "٬")
        assert fa(cost) in page.get_by_test_id("preview-cost").inner_text()
        _screen(page, tmp_path / "dashboard-template-preview-fa-1280.png")

        # A member's page links to her messages: her purchase and the send
        page.goto(f"{servers['dashboard']}members")
        page.get_by_role("link", name="آرش").click()
        page.get_by_test_id("member-messages").click()
        page.wait_for_url(f"**/dashboard/messages?member={servers['cards']['sms']}")
        page.get_by_test_id("log-member-shown").wait_for()
        expect(rows).to_have_count(2)

        # At a phone's width: the send dialog full screen, and the log as cards
        page.set_viewport_size({"width": 390, "height": 844})
        _vip_list(page, servers)
        dialog = _open_and_type(page)
        assert _fits(page)
        _screen_dialog(page, tmp_path / "dashboard-send-preview-fa-390.png")
        dialog.get_by_role("button", name=words["send"]["cancel"]).click()
        page.goto(f"{servers['dashboard']}messages")
        expect(rows).to_have_count(6)
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-messages-fa-390.png")

        # In English, left to right
        page.get_by_role("button", name="English").click()
        en = _catalogue("messaging", "en")
        page.get_by_role("heading", name=en["title"]).wait_for()
        assert page.evaluate("document.documentElement.dir") == "ltr"
        assert _fits(page)
        _screen(page, tmp_path / "dashboard-messages-en-390.png")
        page.set_viewport_size({"width": 1280, "height": 900})
        _screen(page, tmp_path / "dashboard-messages-en-1280.png")
        _vip_list(page, servers, "en")
        dialog = _open_and_type(page, "Two books for the price of one this Friday")
        language = dialog.get_by_role("radiogroup", name=en["lang"]["label"])
        language.locator("label", has_text=en["lang"]["en"]).click()
        expect(dialog.get_by_test_id("send-sample")).to_contain_text("ketab-sara: Two books")
        assert dialog.get_by_test_id("send-parts").inner_text() == "1"
        _screen_dialog(page, tmp_path / "dashboard-send-preview-en-1280.png")
        assert complaints == []
    finally:
        context.close()


def test_an_operator_reads_the_log_but_cannot_send(
    servers: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    words = _catalogue("messaging", "fa")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in_manager(page, servers["dashboard"], OPERATOR)
        page.get_by_role("navigation", name=NAV).get_by_role("link", name=words["title"]).click()
        page.wait_for_url("**/dashboard/messages")
        page.get_by_test_id("message-log").wait_for()
        _vip_list(page, servers)
        assert page.get_by_test_id("send-open").count() == 0
        _screen(page, tmp_path / "dashboard-members-operator-fa.png")
    finally:
        context.close()
