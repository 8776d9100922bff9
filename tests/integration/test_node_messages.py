"""A node's messages, on SQLite and PostgreSQL: queued in the transaction of the purchase,
refund or adjustment they tell of (once, whatever is retried), sent by the dispatcher after
the commit through the embedded file channel, with consent and quiet hours applied."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mallnet.config import Settings
from mallnet.messaging.templates import Kind, Values
from shop_node.db.models import Member, Message
from shop_node.services import messages, notify
from shop_node.services.members import opt_out_by_phone
from shop_node.services.policy import current_policy

from ..node_client import NodeClient
from .test_node_club import E164, purchase, record
from .test_shop_activity import at

# 10:00 in Tehran; 23:30 in Tehran (quiet); 08:00 the next morning in Tehran.
DAY = dt.datetime(2026, 12, 6, 6, 30, tzinfo=dt.UTC)
NIGHT = dt.datetime(2026, 12, 6, 20, 0, tzinfo=dt.UTC)
MORNING = dt.datetime(2026, 12, 7, 4, 30, tzinfo=dt.UTC)


def rows(node: NodeClient) -> list[Message]:
    async def read(session: Any) -> list[Message]:
        return list(await session.scalars(select(Message).order_by(Message.id)))

    return node.call(node.runtime.read, read)


def outbox(settings: Settings) -> list[dict[str, Any]]:
    path = Path(settings.data_dir) / "sms-outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def send(node: NodeClient) -> messages.RunCounts:
    return node.call(messages.send_due, node.runtime, node.settings)


def test_a_purchase_queues_its_messages_once_and_the_dispatcher_sends_them(
    node: NodeClient,
) -> None:
    at(node, DAY)
    data = purchase("R-1", [("books", 1_000_000)])
    assert record(node, data)["enrolled"] is True
    # The same receipt again (a till that retried): the purchase replays, nothing is queued.
    assert record(node, data)["__typename"] == "PurchaseRecorded"
    queued = rows(node)
    assert [(m.kind, m.medium, m.status) for m in queued] == [
        ("welcome", "sms", "queued"),
        ("purchase", "sms", "queued"),
    ]
    assert all(m.recipient == E164 and m.line == "service" for m in queued)
    assert outbox(node.settings) == []  # nothing leaves inside the transaction
    counts = send(node)
    assert counts.sent == 2
    sent = outbox(node.settings)
    assert [line["kind"] for line in sent] == ["welcome", "purchase"]
    # Every text names the shop; the purchase says what she earned, in Persian digits.
    assert all("ketab-sara" in line["text"] for line in sent)
    # 100 points earned; 120 with the welcome's 20; 10% of 1,000,000 Rial in credit and the
    # welcome's 10,000 Rial: 11,000 toman.
    assert "۱۰۰ امتیاز" in sent[1]["text"]
    assert "۱۲۰ امتیاز" in sent[1]["text"]
    assert "۱۱٬۰۰۰ تومان" in sent[1]["text"]
    assert [m.status for m in rows(node)] == ["delivered", "delivered"]
    assert send(node).sent == 0  # nothing is sent twice


def test_a_member_without_sms_consent_gets_no_sms(node: NodeClient) -> None:
    at(node, DAY)
    node.op(
        "EnrolMember",
        input={"phone": "09121110009", "consentSms": False},
    )
    record(node, purchase("R-2", [("books", 500_000)], phone="09121110009"))
    assert rows(node) == []


def test_promotional_messages_wait_out_the_quiet_hours_and_honour_an_opt_out(
    node: NodeClient,
) -> None:
    at(node, DAY)
    record(node, purchase("R-3", [("books", 100_000)]))
    send(node)

    async def campaign(key: str) -> int:
        async def work(session: Any) -> int:
            member = await session.scalar(select(Member).where(Member.phone == E164))
            member.consent_promotional = True
            _version, policy = await current_policy(session, node.runtime)
            text = Values(text="Two books for the price of one, this Friday")
            return await notify.tell(
                session, node.runtime, policy, member, Kind.CAMPAIGN, text, key=key
            )

        return await node.runtime.transaction(work)

    at(node, NIGHT)
    assert node.call(campaign, "campaign:1") == 1
    night = rows(node)[-1]
    assert (night.kind, night.line, night.status) == ("campaign", "promotional", "held")
    assert send(node).sent == 0
    at(node, MORNING)
    assert send(node).sent == 1
    assert outbox(node.settings)[-1]["text"].startswith("«ketab-sara»")

    # Queued by day, then she replies «لغو» before it goes: it is not sent.
    at(node, DAY + dt.timedelta(days=2))
    assert node.call(campaign, "campaign:2") == 1
    assert "opted out" in node.call(opt_out_by_phone, node.runtime, E164)
    counts = send(node)
    assert (counts.sent, counts.skipped) == (0, 1)
    last = rows(node)[-1]
    assert (last.status, last.reason) == ("skipped", "the member withdrew promotional consent")


def test_a_receipt_id_cannot_hide_another_purchases_message(node: NodeClient) -> None:
    """Receipt ids are free text: "R-7:welcome" must not collide with the welcome of the
    purchase "R-7" (review finding F8) — each purchase gets its own message."""
    at(node, DAY)
    record(node, purchase("R-7", [("books", 100_000)], phone="09121110007"))
    record(node, purchase("R-7:welcome", [("books", 100_000)], phone="09121110008"))
    second = [(m.kind, m.recipient) for m in rows(node) if m.recipient == "+989121110008"]
    assert ("purchase", "+989121110008") in second
    assert ("welcome", "+989121110008") in second


def test_an_offer_granted_and_points_about_to_expire_are_told_once(node: NodeClient) -> None:
    """A one-time offer's grant is a service message to each member granted (never to the
    control group); points or credit expiring within a week are told once per day of
    expiry, however often the hourly job finds them."""
    from shop_node.services import offers
    from shop_node.services.expiry_notice import notify_soon

    # Credit is valid 30 days in the test policy: bought 25 days ago, it lapses in 5.
    at(node, DAY - dt.timedelta(days=25))
    record(node, purchase("R-8", [("books", 300_000)]))
    at(node, DAY)
    draft = node.call(
        offers.create,
        node.runtime,
        {
            "kind": "one_time",
            "name_fa": "برگردید",
            "name_en": "Come back",
            "audience": {"kind": "visits", "gt": 0},
            "reward": {"extra_credit_bp": 2_000},
            "valid_days": 7,
            "control_bp": 0,
        },
        "staff:7",
    )
    node.call(offers.activate, node.runtime, draft.id, "staff:7", "a test of the grant message")
    granted = [m for m in rows(node) if m.kind == "offer_granted"]
    assert [(m.recipient, m.line) for m in granted] == [(E164, "service")]
    assert "۱۴۰۵/۰۹/۲۲" in granted[0].text  # valid until (7 days after 1405/09/15)

    assert node.call(notify_soon, node.runtime) == 1
    assert node.call(notify_soon, node.runtime) == 0  # the next hourly run: told already
    [soon] = [m for m in rows(node) if m.kind == "expiry_soon"]
    assert "۱۴۰۵/۰۹/۲۰" in soon.text  # 30 days after 1405/08/20
