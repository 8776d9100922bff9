"""The delivery log and the message preview over GraphQL, on SQLite and PostgreSQL: the log
pages newest first under a status, member or batch filter, shows each recipient masked and
each member by card, and costs the same few statements however long the page; the preview
renders a kind with typical values and the shop's name, counts its SMS parts at the 70/67
and 160/153 boundaries, and answers a bad template with its problems, never an error."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select

from mallnet.messaging import optout_link
from mallnet.messaging.templates import ProblemCode
from shop_node.api.messages import TemplateProblemCode
from shop_node.db.models import Member, Message, TelegramChat
from shop_node.domain.earning import Line
from shop_node.services import messages, purchases

from ..node_client import TEST_POLICY, NodeClient
from .test_node_club import E164, purchase, record
from .test_statement_counts import _without_revocation_reads, statements_sent

# The most statements one page of the log (items, members, counts) may send: SQLite
# sends 5 (a BEGIN for each of its two reads), PostgreSQL 3.
LOG_PAGE_MOST = 5
PRICE = 1_200  # Settings.sms_part_price_rial's default: Rial per SMS part


def _phone(i: int) -> str:
    return f"0912{2_000_000 + i}"


def log(node: NodeClient, token: str | None = None, **variables: Any) -> dict[str, Any]:
    body = node.raw("MessageLog", token=token, **variables)
    assert body["status"] == 200, body
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["messages"]
    return page


def preview(node: NodeClient, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = node.op("MessagePreview", **variables)["messagePreview"]
    return result


def counts(page: dict[str, Any]) -> dict[str, int]:
    return {c["status"]: c["count"] for c in page["counts"] if c["count"]}


def message_rows(node: NodeClient) -> int:
    async def read(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Message)))

    return node.call(node.runtime.read, read)


def send(node: NodeClient) -> None:
    node.call(messages.send_due, node.runtime, node.settings)


def every_page(node: NodeClient, **variables: Any) -> list[list[dict[str, Any]]]:
    pages, after = [], None
    while True:
        page = log(node, after=after, **variables)
        pages.append(page["items"])
        if not page["hasNextPage"]:
            assert page["endCursor"] is None or page["items"]
            return pages
        after = page["endCursor"]


# --- the log ------------------------------------------------------------------------------


def test_the_log_pages_newest_first_under_a_status_filter(node: NodeClient) -> None:
    # Given three members' first purchases (a welcome and a purchase message each), sent
    for i in range(3):
        record(node, purchase(f"R-{i}", [("books", 100_000)], phone=_phone(i)))
    send(node)
    # and a second purchase each, still queued
    for i in range(3):
        record(node, purchase(f"R-{i}-b", [("books", 100_000)], phone=_phone(i)))

    # When the queued ones are read two at a time
    queued = every_page(node, status="QUEUED", first=2)

    # Then two pages hold the three, newest first, each queued and a purchase
    assert [len(p) for p in queued] == [2, 1]
    items = [m for page in queued for m in page]
    ids = [int(m["id"]) for m in items]
    assert ids == sorted(ids, reverse=True)
    assert {(m["status"], m["kind"], m["medium"], m["line"]) for m in items} == {
        ("QUEUED", "purchase", "sms", "service")
    }
    assert all(m["sentAt"] is None and m["settledAt"] is None for m in items)
    # The whole log, four at a time: every message once, newest first
    everything = [m for page in every_page(node, first=4) for m in page]
    assert len(everything) == 9
    assert [int(m["id"]) for m in everything] == sorted(
        (int(m["id"]) for m in everything), reverse=True
    )
    delivered = log(node, status="DELIVERED", first=50)
    assert len(delivered["items"]) == 6
    assert not delivered["hasNextPage"]
    assert all(m["sentAt"] and m["settledAt"] and m["attempts"] == 1 for m in delivered["items"])
    # Each costs an estimate of its parts; Persian texts are UCS-2, a few parts each
    assert all(m["costRial"] == m["parts"] * PRICE for m in everything)
    # The counts are every status's, whatever the status filter
    assert counts(delivered) == {"DELIVERED": 6, "QUEUED": 3}
    assert len(delivered["counts"]) == 8


def test_the_member_filter_shows_one_members_messages_and_an_unknown_card_none(
    node: NodeClient,
) -> None:
    sara = record(node, purchase("R-1", [("books", 100_000)]))["member"]
    record(node, purchase("R-2", [("books", 100_000)], phone=_phone(1)))
    record(node, purchase("R-3", [("books", 200_000)]))

    page = log(node, memberCardCode=sara["cardCode"])
    assert [m["kind"] for m in page["items"]] == ["purchase", "purchase", "welcome"]
    assert {json.dumps(m["member"]) for m in page["items"]} == {
        json.dumps({"cardCode": sara["cardCode"], "name": sara.get("name")})
    }
    assert counts(page) == {"QUEUED": 3}
    # Surrounding spaces, as a cashier might paste the card, are ignored
    assert len(log(node, memberCardCode=f" {sara['cardCode']} ")["items"]) == 3
    # A valid card code nobody holds, and one that cannot be a card: empty, no error
    for card in ("1234567897", "not-a-card", "0" * 300, "12\x003"):
        empty = log(node, memberCardCode=card)
        assert (empty["items"], empty["hasNextPage"], counts(empty)) == ([], False, {})
    # No message is of a batch yet; a batch id too long to be one is no error either
    assert log(node, batchId="01JF0000000000000000000000")["items"] == []
    assert log(node, batchId="x" * 500)["items"] == []


def test_the_recipient_is_masked_and_a_telegram_chat_only_named(node: NodeClient) -> None:
    # Given Sara, enrolled, who then links a Telegram chat
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]

    async def link(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.card_code == card))
        session.add(TelegramChat(member_id=member.id, chat_id="987654321", linked_at=_now()))

    node.call(node.runtime.transaction, link)
    # When she buys again (an SMS and a Telegram message)
    record(node, purchase("R-2", [("books", 100_000)]))
    body = node.raw("MessageLog", first=10)

    # Then the log shows neither her number nor her chat id
    shown = json.dumps(body, ensure_ascii=False)
    assert E164[3:] not in shown
    assert "987654321" not in shown
    items = body["data"]["messages"]["items"]
    assert {(m["medium"], m["to"]) for m in items} == {
        ("sms", "0912***4567"),
        ("telegram", "Telegram"),
    }
    telegram = next(m for m in items if m["medium"] == "telegram")
    assert telegram["costRial"] == 0  # a Telegram message costs no SMS part
    assert telegram["member"]["cardCode"] == card


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_a_token_without_a_staff_scope_is_refused_and_an_auditor_reads(
    node: NodeClient,
) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))
    shopper = node.token_for(["shopper:read"])
    for operation, variables in (
        ("MessageLog", {}),
        ("MessagePreview", {"kind": "welcome", "lang": "fa"}),
    ):
        refused = node.raw(operation, token=shopper, **variables)
        assert refused["data"] is None, refused
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "shop:read" in refused["errors"][0]["message"]
    anonymous = node.raw("MessageLog", token="")
    assert anonymous["data"] is None
    auditor = node.token_for(["shop:read"])
    assert len(log(node, token=auditor)["items"]) == 2


def test_paging_arguments_out_of_bounds_are_refused(node: NodeClient) -> None:
    too_many = node.raw("MessageLog", first=101)
    assert too_many["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"
    bad_cursor = node.raw("MessageLog", after="12x")
    assert bad_cursor["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def _seed(runtime: Any, first: int, count: int) -> None:
    """Members ``first`` .. ``first + count - 1``, each with a first purchase: a welcome and
    a purchase message each."""
    for i in range(first, first + count):
        data = purchases.PurchaseInput(
            receipt_id=f"S-{i}",
            total_rial=100_000,
            lines=[Line("books", 100_000)],
            phone=_phone(i),
        )
        await purchases.record_purchase(runtime, data, "test")


def _log_statements(node: NodeClient) -> tuple[dict[str, Any], list[str]]:
    with statements_sent(node.runtime.engine) as sent:
        page = log(node, first=100)
    return page, _without_revocation_reads(list(sent))


def test_a_log_page_costs_the_same_few_statements_however_long(node: NodeClient) -> None:
    node.call(_seed, node.runtime, 0, 2)
    small, few = _log_statements(node)
    node.call(_seed, node.runtime, 2, 30)
    large, many = _log_statements(node)

    assert len(small["items"]) == 4
    assert len(large["items"]) == 64
    assert all(m["member"] is not None for m in large["items"])
    cards = {m["member"]["cardCode"] for m in large["items"]}
    assert len(cards) == 32  # each message names its own member
    assert counts(large) == {"QUEUED": 64}
    assert len(many) == len(few) <= LOG_PAGE_MOST, many


# --- the preview --------------------------------------------------------------------------


def test_a_persian_preview_is_ucs2_and_splits_at_70_then_67(node: NodeClient) -> None:
    default = preview(node, kind="welcome", lang="fa")
    assert default["__typename"] == "MessagePreview"
    assert default["text"] == "سلام مریم، به باشگاه مشتریان ketab-sara خوش آمدید."
    assert default["segments"] == {
        "encoding": "UCS-2",
        "units": len(default["text"]),
        "parts": 1,
        "perPart": 70,
    }
    assert (default["line"], default["costRial"]) == ("service", PRICE)
    assert (default["templateUsed"], default["problems"]) == (False, [])

    # A long text of the shop's own: "ketab-sara " is 11 units, each «ب» one more.
    def parts(letters: int) -> dict[str, Any]:
        shown = preview(node, kind="welcome", lang="fa", template="{shop} " + "ب" * letters)
        assert shown["templateUsed"] is True
        assert shown["problems"] == []
        assert "".join(shown["partTexts"]) == shown["text"]
        return shown

    at_70 = parts(59)
    assert (at_70["segments"]["units"], at_70["segments"]["parts"]) == (70, 1)
    assert [len(p) for p in at_70["partTexts"]] == [70]
    at_71 = parts(60)
    assert at_71["segments"] == {"encoding": "UCS-2", "units": 71, "parts": 2, "perPart": 67}
    assert [len(p) for p in at_71["partTexts"]] == [67, 4]
    assert at_71["costRial"] == 2 * PRICE
    assert parts(123)["segments"]["parts"] == 2  # 134 units: two full parts of 67
    at_135 = parts(124)
    assert [len(p) for p in at_135["partTexts"]] == [67, 67, 1]
    assert at_135["costRial"] == 3 * PRICE
    # A campaign is promotional: its preview ends with the opt-out hint and a link as long
    # as each member's own (counted in its parts)
    campaign = preview(node, kind="campaign", lang="fa")
    assert campaign["line"] == "promotional"
    sample = optout_link.sample_url(node.runtime.hub_url, "ketab-sara")
    assert campaign["text"].endswith("«لغو»\n" + sample)
    assert message_rows(node) == 0  # a preview queues nothing


def test_an_english_preview_is_gsm7_and_names_the_shop_of_the_policy(node: NodeClient) -> None:
    named = {**TEST_POLICY, "messaging": {"sender_name_en": "Ketab Sara"}}
    updated = node.op("UpdateClubPolicy", document=named)["updateClubPolicy"]
    assert updated["__typename"] == "PolicyUpdated", updated

    shown = preview(node, kind="purchase", lang="en")
    assert shown["text"].startswith("Your purchase at Ketab Sara: you earned 120 points")
    assert shown["segments"]["encoding"] == "GSM-7"
    assert shown["segments"]["units"] == len(shown["text"])
    assert (shown["segments"]["parts"], shown["segments"]["perPart"]) == (1, 160)
    assert shown["costRial"] == PRICE
    # Past 160 septets it splits into parts of 153; a € is two septets (an escape)
    long = preview(node, kind="welcome", lang="en", template="{shop} " + "€" * 76)
    assert long["segments"] == {"encoding": "GSM-7", "units": 11 + 152, "parts": 2, "perPart": 153}
    assert [len(p) for p in long["partTexts"]] == [11 + 71, 5]


def test_a_bad_template_is_answered_with_its_problems_in_place(node: NodeClient) -> None:
    shown = preview(node, kind="welcome", lang="en", template="Hi {name, welcome to {shop} {bogus}")
    assert shown["__typename"] == "MessagePreview"
    problems = shown["problems"]
    assert [(p["field"], p["code"]) for p in problems] == [
        ("template", "UNBALANCED_BRACE"),
        ("template", "UNKNOWN_PLACEHOLDER"),
    ]
    assert "character 4" in problems[0]["messageEn"]
    assert "۴" in problems[0]["messageFa"]
    assert "{bogus}" in problems[1]["messageEn"]
    assert "{bogus}" in problems[1]["messageFa"]
    # Such a text is never sent: what would go out is the default, and it says so
    assert shown["templateUsed"] is False
    assert shown["text"] == "Hi Maryam, welcome to the ketab-sara customer club."

    missing = preview(node, kind="campaign", lang="fa", template="{shop}: حراج!")
    assert [p["code"] for p in missing["problems"]] == ["MISSING_PLACEHOLDER"]
    assert "{text}" in missing["problems"][0]["messageEn"]
    # Too many parts: the text is still shown as it would go, with its cost
    long = preview(node, kind="welcome", lang="fa", template="{shop} " + "ب" * 500)
    assert [p["code"] for p in long["problems"]] == ["TOO_LONG"]
    assert long["templateUsed"] is True
    assert long["segments"]["parts"] == 8
    assert long["costRial"] == 8 * PRICE
    empty = preview(node, kind="welcome", lang="fa", template="  ")
    assert [p["code"] for p in empty["problems"]] == ["EMPTY"]


def test_an_unknown_kind_or_language_is_invalid_input_at_its_field(node: NodeClient) -> None:
    for kind, lang, fields in (
        ("greeting", "fa", ["kind"]),
        ("sign_in_code", "fa", ["kind"]),  # the hub's own message, not a shop's
        ("welcome", "de", ["lang"]),
        ("nope", "xx", ["kind", "lang"]),
    ):
        shown = preview(node, kind=kind, lang=lang)
        assert shown["__typename"] == "InvalidInput", shown
        assert shown["code"] == "INVALID_INPUT"
        assert [p["field"] for p in shown["problems"]] == fields


def test_every_template_problem_code_has_its_graphql_value() -> None:
    assert {c.value for c in TemplateProblemCode} == set(ProblemCode.__args__)  # type: ignore[attr-defined]
