"""Send to a list, on SQLite and PostgreSQL: the preview counts a filtered members list in
SQL (who would receive the message, who lacks the consent), the send makes one broadcast
per click and hands it to a worker after the commit, and the worker's walk queues each
consenting member's message once, naming the shop and carrying the opt-out hint and her
own opt-out link (the preview shows a sample link of the same length), held at night until
the morning."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from mallnet.messaging import optout_link
from mallnet.messaging.templates import OPT_OUT_HINT
from mallnet.secrets_store import pseudonym
from shop_node.db.models import Broadcast, Member, Message, TelegramChat
from shop_node.services import broadcast

from ..node_client import NodeClient
from .test_node_messages import DAY, MORNING, NIGHT, outbox, send
from .test_shop_activity import at

TEXT = "جمعه این هفته: دو کتاب به قیمت یکی"
VIP = {"tag": "vip"}

# (phone, name, SMS consent, promotional consent, Telegram chat, tagged vip)
PEOPLE = {
    "sms": ("09121000001", "آرش", True, True, None, True),
    "telegram": ("09121000002", "بهار", False, True, "7001", True),
    "no_promo": ("09121000003", "کاوه", True, False, None, True),
    "both": ("09121000004", "دریا", True, True, "7004", True),
    "no_channel": ("09121000005", "نیلوفر", False, True, None, True),
    "not_vip": ("09121000006", "نیلوفر رضایی", True, True, None, False),
    # Her club has her promotional consent, but in the chat she said no to offers.
    "chat_no_offers": ("09121000007", "سحر", False, True, "7007", True),
}
# Her answer in the Telegram chat about offers, by chat.
OFFERS_IN_CHAT = {"7001": True, "7004": True, "7007": False}


def e164(local: str) -> str:
    return "+98" + local[1:]


def enrol_people(node: NodeClient) -> dict[str, int]:
    """The people above as members (and their Telegram chats); their ids by role."""
    at(node, DAY)
    ids: dict[str, int] = {}
    for role, (phone, name, sms, promo, _chat, vip) in PEOPLE.items():
        made = node.op(
            "EnrolMember",
            input={
                "phone": phone,
                "name": name,
                "consentSms": sms,
                "consentPromotional": promo,
                "tags": ["vip"] if vip else [],
            },
        )["enrolMember"]
        assert made["__typename"] == "Member", made
        ids[role] = int(made["id"])
    chats = {ids[role]: p[4] for role, p in PEOPLE.items() if p[4] is not None}

    async def link(session: Any) -> None:
        for member_id, chat in chats.items():
            offers = OFFERS_IN_CHAT[chat]
            session.add(
                TelegramChat(member_id=member_id, chat_id=chat, linked_at=DAY, promotional=offers)
            )

    node.call(node.runtime.transaction, link)
    return ids


class Tasks:
    """Stands in for the node's task sender: records what would go to the workers."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []

    async def __call__(self, name: str, *args: str) -> None:
        self.sent.append((name, *args))


@pytest.fixture
def tasks(node: NodeClient) -> Tasks:
    recorder = Tasks()
    node.http.app.state.enqueue = recorder  # type: ignore[attr-defined]
    return recorder


def preview(node: NodeClient, text: str = TEXT, **filter_: Any) -> dict[str, Any]:
    found: dict[str, Any] = node.op(
        "BroadcastPreview", filter=filter_ or VIP, text=text, lang="fa"
    )["broadcastPreview"]
    return found


def send_to(node: NodeClient, key: str, text: str = TEXT, **filter_: Any) -> dict[str, Any]:
    sent: dict[str, Any] = node.op(
        "SendToMembers", filter=filter_ or VIP, text=text, lang="fa", idempotencyKey=key
    )["sendToMembers"]
    return sent


def run(node: NodeClient, broadcast_id: str) -> Broadcast:
    """What the worker's task does, in process."""
    return node.call(broadcast.send, node.runtime, broadcast_id)


def campaign_messages(node: NodeClient) -> list[Message]:
    async def read(session: Any) -> list[Message]:
        query = select(Message).where(Message.kind == "campaign").order_by(Message.id)
        return list(await session.scalars(query))

    return node.call(node.runtime.read, read)


def broadcasts_written(node: NodeClient) -> int:
    async def read(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Broadcast)) or 0)

    return node.call(node.runtime.read, read)


def test_the_preview_counts_the_list_and_shows_the_message_as_sent(node: NodeClient) -> None:
    # Given seven members, six tagged vip: two by SMS, two by Telegram (one on both),
    # one without promotional consent, one with it but no channel she accepts, and one
    # whose only channel is a chat where she said no to offers
    enrol_people(node)
    at(node, DAY)
    # When the manager previews a text to the vip list
    shown = preview(node)
    # Then the counts are the list's
    assert shown["__typename"] == "BroadcastPreview", shown
    counts = {k: shown[k] for k in ("matched", "recipients", "bySms", "byTelegram")}
    assert counts == {"matched": 6, "recipients": 3, "bySms": 2, "byTelegram": 2}
    assert shown["lackingConsent"] == 3
    assert (shown["quietNow"], shown["campaignsOff"], shown["problems"]) == (False, False, [])
    # and the text names the shop and ends with the opt-out hint and a sample link as
    # long as each member's own
    sample = optout_link.sample_url(node.runtime.hub_url, "ketab-sara")
    assert shown["text"] == f"«ketab-sara»: {TEXT}\n{OPT_OUT_HINT['fa']}\n{sample}"
    segments = shown["segments"]
    assert (segments["encoding"], segments["parts"]) == ("UCS-2", 2)  # the link costs one
    assert segments["units"] == len(shown["text"])
    # Two recipients by SMS, two parts each, at the part price.
    assert int(shown["costRial"]) == 2 * 2 * int(shown["partPriceRial"])
    # A search filter counts the same way: «نیلوفر» finds one with no channel and one
    # (not vip) by SMS.
    searched = preview(node, search="نیلوفر")
    assert (searched["matched"], searched["recipients"], searched["lackingConsent"]) == (2, 1, 1)
    # At night the messages would wait for the morning, 08:00 in Tehran.
    at(node, NIGHT)
    night = preview(node)
    assert (night["quietNow"], night["sendsAtTehran"]) == (True, "08:00")
    assert night["sendsAt"].startswith("2026-12-07T04:30:00")


def test_a_bad_text_is_shown_at_text_and_refused_with_nothing_written(
    node: NodeClient, tasks: Tasks
) -> None:
    enrol_people(node)
    for text, code in (("  ", "empty"), ("سلام {name}", "braces"), ("x" * 500, "too_long")):
        shown = preview(node, text=text)
        assert shown["text"] is None
        assert [(p["field"], p["code"]) for p in shown["problems"]] == [("text", code)]
        refused = send_to(node, f"click-{code}", text=text)
        assert refused["__typename"] == "InvalidInput", refused
        assert {p["field"] for p in refused["problems"]} == {"text"}
    assert broadcasts_written(node) == 0
    assert campaign_messages(node) == []
    assert tasks.sent == []


def test_send_queues_the_message_to_consenting_members_only(node: NodeClient, tasks: Tasks) -> None:
    ids = enrol_people(node)
    at(node, DAY)
    # When the manager sends to the vip list
    made = send_to(node, "click-1")
    assert (made["__typename"], made["status"], made["filter"]) == ("Broadcast", "queued", VIP)
    # Then a worker is asked to run it, after the commit
    assert tasks.sent == [("node.send_broadcast", "ketab-sara", made["id"])]
    done = run(node, made["id"])
    assert (done.status, done.total, done.queued, done.skipped_no_consent, done.held) == (
        "done",
        6,
        3,
        3,
        0,
    )
    # Messages to the consenting members only: SMS to those who accept it, Telegram to
    # linked chats, each naming the shop and carrying the opt-out hint and her own link
    queued = campaign_messages(node)
    phones_of = {ids[r]: e164(PEOPLE[r][0]) for r in ("sms", "telegram", "both")}
    got = {(int(m.subject or 0), m.medium) for m in queued}
    assert got == {
        (ids["sms"], "sms"),
        (ids["telegram"], "telegram"),
        (ids["both"], "sms"),
        (ids["both"], "telegram"),
    }
    for m in queued:
        assert (m.batch_id, m.line, m.status) == (made["id"], "promotional", "queued")
        assert m.text.startswith("«ketab-sara»")
        who = pseudonym(node.runtime.network_key, phones_of[int(m.subject or 0)])
        link = optout_link.url(node.runtime.hub_url, node.runtime.network_key, "ketab-sara", who)
        assert m.text.endswith(f"{OPT_OUT_HINT['fa']}\n{link}")
        # As long as the preview's sample: the preview counted the parts it costs.
        assert len(link) == len(optout_link.sample_url(node.runtime.hub_url, "ketab-sara"))
        assert m.idempotency_key == f"{m.medium}:broadcast:{made['id']}:{m.subject}"
    # and the dispatcher sends them: the SMS to the two who accept SMS
    send(node)
    sms = [line for line in outbox(node.settings) if line["kind"] == "campaign"]
    phones = {e164(PEOPLE[r][0]) for r in ("sms", "both")}
    assert {line["to"] for line in sms} == phones
    assert all(OPT_OUT_HINT["fa"] in line["text"] for line in sms)
    # Progress: the counts and the delivery states of its messages
    progress = node.op("BroadcastById", id=made["id"])["broadcast"]
    assert (progress["status"], progress["queued"], progress["skippedNoConsent"]) == ("done", 3, 3)
    states = {d["status"]: d["count"] for d in progress["deliveries"]}
    assert sum(states.values()) == 4
    assert states.get("DELIVERED", 0) >= 2
    listed = node.op("Broadcasts", first=5)["broadcasts"]
    assert [b["id"] for b in listed["items"]] == [made["id"]]
    assert listed["nextAfter"] is None


def test_at_night_the_messages_are_held_until_the_morning(node: NodeClient, tasks: Tasks) -> None:
    enrol_people(node)
    at(node, NIGHT)
    made = send_to(node, "click-night")
    done = run(node, made["id"])
    assert (done.queued, done.held) == (3, 3)
    assert {m.status for m in campaign_messages(node)} == {"held"}
    assert send(node).sent == 0
    assert [line for line in outbox(node.settings) if line["kind"] == "campaign"] == []
    # In the morning beat's send_due lets them out.
    at(node, MORNING)
    send(node)
    sms = [line for line in outbox(node.settings) if line["kind"] == "campaign"]
    assert {line["to"] for line in sms} == {e164(PEOPLE[r][0]) for r in ("sms", "both")}


def test_a_double_click_sends_once(node: NodeClient, tasks: Tasks) -> None:
    enrol_people(node)
    first = send_to(node, "click-twice")
    again = send_to(node, "click-twice")
    assert again["id"] == first["id"]
    assert broadcasts_written(node) == 1
    assert len(tasks.sent) == 1  # the replay enqueues nothing
    # The same key for another message is a conflict, not a second send.
    other = send_to(node, "click-twice", text="متن دیگری")
    assert other["__typename"] == "IdempotencyConflict"
    run(node, first["id"])
    assert len(campaign_messages(node)) == 4


def test_a_task_run_twice_or_resumed_halfway_queues_nobody_twice(
    node: NodeClient, tasks: Tasks
) -> None:
    enrol_people(node)
    made = send_to(node, "click-resume")
    broadcast_id = made["id"]
    # A worker counts the list and commits one chunk of two members, then dies.
    node.call(broadcast.start, node.runtime, broadcast_id)
    half = node.call(broadcast.send_chunk, node.runtime, broadcast_id, 2)
    assert (half.status, half.queued + half.skipped_no_consent) == ("sending", 2)
    # The task runs again (acks_late), and again after it finished.
    done = run(node, broadcast_id)
    again = run(node, broadcast_id)
    assert (done.status, done.queued, done.skipped_no_consent) == ("done", 3, 3)
    assert (again.queued, again.skipped_no_consent) == (3, 3)
    queued = campaign_messages(node)
    assert len(queued) == 4
    assert len({m.idempotency_key for m in queued}) == 4
    # Walking the whole list again (its progress lost) still queues nobody twice: each
    # member's message is keyed by the broadcast and the member.

    async def rewind(session: Any) -> None:
        row = await session.get(Broadcast, broadcast_id)
        row.status, row.cursor_member_id = "sending", None

    node.call(node.runtime.transaction, rewind)
    run(node, broadcast_id)
    assert len(campaign_messages(node)) == 4


def test_members_who_join_after_the_click_are_not_sent_to(node: NodeClient, tasks: Tasks) -> None:
    enrol_people(node)
    made = send_to(node, "click-before-join")
    node.op(
        "EnrolMember",
        input={"phone": "09121000099", "consentPromotional": True, "tags": ["vip"]},
    )
    done = run(node, made["id"])
    assert (done.total, done.queued) == (6, 3)


def test_an_operator_can_neither_preview_nor_send(node: NodeClient, tasks: Tasks) -> None:
    enrol_people(node)
    operator = node.token_for(["shop:operate"])
    for operation, variables in (
        ("BroadcastPreview", {"filter": VIP, "text": TEXT, "lang": "fa"}),
        (
            "SendToMembers",
            {"filter": VIP, "text": TEXT, "lang": "fa", "idempotencyKey": "click-op"},
        ),
        ("Broadcasts", {}),
    ):
        body = node.raw(operation, token=operator, **variables)
        assert body["data"] is None, body
        assert "needs one of the scopes" in body["errors"][0]["message"]
    assert broadcasts_written(node) == 0
    assert tasks.sent == []


def test_a_filter_or_language_the_list_refuses_is_refused(node: NodeClient, tasks: Tasks) -> None:
    enrol_people(node)
    bad_tier = send_to(node, "click-tier", tier="platinum")
    assert [p["field"] for p in bad_tier["problems"]] == ["tier"]
    klingon = node.op(
        "SendToMembers", filter=VIP, text="Two for one", lang="tlh", idempotencyKey="click-x"
    )["sendToMembers"]
    assert [p["field"] for p in klingon["problems"]] == ["lang"]
    assert broadcasts_written(node) == 0
    assert tasks.sent == []


def test_nobody_is_sent_to_without_a_member(node: NodeClient, tasks: Tasks) -> None:
    # An empty club: the preview counts nothing, and the send finishes at once.
    shown = preview(node)
    assert (shown["matched"], shown["recipients"], shown["sampleMemberId"]) == (0, 0, None)
    made = send_to(node, "click-empty")
    done = run(node, made["id"])
    assert (done.status, done.total, done.queued) == ("done", 0, 0)

    async def members(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Member)) or 0)

    assert node.call(node.runtime.read, members) == 0


def test_an_english_broadcast_is_framed_in_english(node: NodeClient, tasks: Tasks) -> None:
    enrol_people(node)
    made = node.op(
        "SendToMembers", filter=VIP, text="Two for one", lang="en", idempotencyKey="click-en"
    )["sendToMembers"]
    run(node, made["id"])
    texts = [m.text for m in campaign_messages(node)]
    assert texts
    assert all(t.startswith("ketab-sara: Two for one") for t in texts)
    assert all("\nReply STOP to opt out\nhttp" in t for t in texts)


def test_one_send_at_a_time_and_three_a_day(node: NodeClient, tasks: Tasks) -> None:
    """A manager's session (or a stolen one) cannot send the list again and again on the
    mall's SMS account (review finding F1): a new send waits for the last one, and a shop
    starts at most three a Tehran day."""
    enrol_people(node)
    first = send_to(node, "click-1")
    again = send_to(node, "click-2")
    assert again["__typename"] == "SendLimit"
    run(node, first["id"])
    for key in ("click-2", "click-3"):
        made = send_to(node, key)
        assert made["__typename"] == "Broadcast", made
        run(node, made["id"])
    fourth = send_to(node, "click-4")
    assert fourth["__typename"] == "SendLimit"
    assert broadcasts_written(node) == 3
    at(node, DAY + dt.timedelta(days=1))
    assert send_to(node, "click-5")["__typename"] == "Broadcast"
