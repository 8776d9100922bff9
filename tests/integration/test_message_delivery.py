"""A node's messages through the shop's own Kavenegar account (a local fake speaking its
API), on SQLite and PostgreSQL: sent on the service line with the message's localid,
delivery reports, retries with backoff for a 5xx, no retry for a bad number, and one
message when the worker sending it is killed after Kavenegar took it but before it
answered."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from mallnet.db import utcnow
from shop_node.db.models import Message
from shop_node.services import messages

from ..fakes.kavenegar import API_KEY, PROMOTIONAL_LINE, SERVICE_LINE, FakeKavenegar
from ..node_client import NodeClient
from .test_node_club import purchase, record
from .test_shop_activity import at

LOCAL = "09121234567"


@pytest.fixture
def kavenegar() -> Iterator[FakeKavenegar]:
    with FakeKavenegar() as fake:
        yield fake


def through(node: NodeClient, fake: FakeKavenegar) -> Any:
    """The shop's own Kavenegar account (a node sends on the mall's only through the hub:
    ``test_message_relay``)."""
    account = {
        "api_key": API_KEY,
        "service_line": SERVICE_LINE,
        "promotional_line": PROMOTIONAL_LINE,
    }
    return node.settings.model_copy(
        update={
            "sms_provider": "kavenegar",
            "kavenegar_url": fake.url,
            "sms_shop_accounts_secret": {node.runtime.shop: account},
            "message_timeout_s": 2.0,
        }
    )


def rows(node: NodeClient) -> list[Message]:
    async def read(session: Any) -> list[Message]:
        return list(await session.scalars(select(Message).order_by(Message.id)))

    return node.call(node.runtime.read, read)


def only_purchase_sms(node: NodeClient) -> None:
    """Keep the purchase's message alone: the welcome is settled as if sent already."""

    async def work(session: Any) -> None:
        await session.execute(
            update(Message).where(Message.kind == "welcome").values(status="skipped")
        )

    node.call(node.runtime.transaction, work)


def test_sent_on_the_service_line_then_reported_delivered(
    node: NodeClient, kavenegar: FakeKavenegar
) -> None:
    settings = through(node, kavenegar)
    record(node, purchase("R-1", [("books", 200_000)]))
    only_purchase_sms(node)
    assert node.call(messages.send_due, node.runtime, settings).sent == 1
    [sms] = kavenegar.sent_to(LOCAL)
    assert sms.sender == SERVICE_LINE
    message = rows(node)[-1]
    assert (message.status, message.provider, message.provider_id) == (
        "sent",
        "kavenegar",
        str(sms.messageid),
    )
    assert message.cost_rial == sms.cost_rial
    assert node.call(messages.poll_reports, node.runtime, settings) == 1
    assert rows(node)[-1].status == "delivered"


def test_a_5xx_is_retried_with_backoff_and_a_bad_number_is_not(
    node: NodeClient, kavenegar: FakeKavenegar
) -> None:
    settings = through(node, kavenegar)
    now = utcnow()
    at(node, now)
    record(node, purchase("R-2", [("books", 200_000)]))
    only_purchase_sms(node)
    kavenegar.fail_next(1, code=503)
    counts = node.call(messages.send_due, node.runtime, settings)
    assert (counts.sent, counts.retried) == (0, 1)
    waiting = rows(node)[-1]
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert waiting.not_before == now + dt.timedelta(seconds=30)
    assert node.call(messages.send_due, node.runtime, settings).sent == 0  # not yet due
    at(node, now + dt.timedelta(seconds=31))
    assert node.call(messages.send_due, node.runtime, settings).sent == 1
    assert len(kavenegar.sent_to(LOCAL)) == 1

    record(node, purchase("R-3", [("books", 200_000)]))
    kavenegar.fail_next(1, code=411)
    counts = node.call(messages.send_due, node.runtime, settings)
    assert counts.failed == 1
    failed = rows(node)[-1]
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "411" in (failed.reason or "")
    at(node, now + dt.timedelta(hours=2))
    assert node.call(messages.send_due, node.runtime, settings).sent == 0


def _send_in_a_worker(node: NodeClient, fake: FakeKavenegar) -> subprocess.Popen[bytes]:
    """The node's Celery task body, in a process of its own (as a worker runs it)."""
    settings = node.settings
    env = {
        **os.environ,
        "MALLNET_DATA_DIR": str(settings.data_dir),
        "MALLNET_SMS_PROVIDER": "kavenegar",
        "MALLNET_KAVENEGAR_URL": fake.url,
        "MALLNET_SMS_SHOP_ACCOUNTS_SECRET": json.dumps(
            {"ketab-sara": {"api_key": API_KEY, "service_line": SERVICE_LINE}}
        ),
        "MALLNET_MESSAGE_TIMEOUT_S": "60",
    }
    if settings.node_database_url:
        env["MALLNET_NODE_DATABASE_URL"] = settings.node_database_url
    code = "from shop_node.tasks import send_messages; send_messages('ketab-sara')"
    return subprocess.Popen([sys.executable, "-c", code], env=env)


def test_a_worker_killed_mid_send_leaves_one_message(
    node: NodeClient, kavenegar: FakeKavenegar
) -> None:
    record(node, purchase("R-4", [("books", 200_000)]))
    only_purchase_sms(node)
    accepted = kavenegar.stall_after_accept(seconds=60)
    worker = _send_in_a_worker(node, kavenegar)
    try:
        assert accepted.wait(30), "the worker never reached Kavenegar"
    finally:
        worker.kill()  # after Kavenegar took the message, before it answered
        worker.wait(10)
    taken = rows(node)[-1]
    assert (taken.status, taken.attempts) == ("sending", 1)
    assert len(kavenegar.sent_to(LOCAL)) == 1
    # The lease runs out; the next run takes it again with the same localid.
    at(node, utcnow() + dt.timedelta(minutes=5))
    settings = through(node, kavenegar)
    assert node.call(messages.send_due, node.runtime, settings).sent == 1
    sent = kavenegar.sent_to(LOCAL)
    assert len(sent) == 1, "Kavenegar dropped the repeat: she got one SMS"
    message = rows(node)[-1]
    assert (message.status, message.attempts) == ("sent", 2)
    assert message.provider_id == str(sent[0].messageid)
    localids = {c.params.get("localid") for c in kavenegar.calls if c.method == "sms/send"}
    assert len(localids) == 1
