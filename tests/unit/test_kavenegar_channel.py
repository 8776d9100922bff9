"""The Kavenegar SMS channel against a fake Kavenegar over real HTTP (tests/fakes).

What the dispatcher relies on: a message leaves once however many attempts it takes (the
same localid every time, and Kavenegar drops repeats); every provider answer is a Receipt
or a typed failure, temporary only when trying later can help; and the API key, which
sits in every URL, shows in no error and no log line.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Iterator

import pytest

from mallnet.messaging.channels import (
    Channel,
    ChannelFailure,
    Line,
    Outgoing,
    PermanentFailure,
    Status,
    TemporaryFailure,
)
from mallnet.messaging.kavenegar import Inbound, KavenegarChannel, parse_inbound

from ..conftest import free_ports
from ..fakes.kavenegar import API_KEY, PROMOTIONAL_LINE, SERVICE_LINE, FakeKavenegar

PHONE = "+989121234567"
LOCAL = "09121234567"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeKavenegar]:
    with FakeKavenegar() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeKavenegar) -> Iterator[FakeKavenegar]:
    server.reset()
    yield server
    server.reset()


def channel_for(
    fake: FakeKavenegar,
    *,
    api_key: str = API_KEY,
    timeout_s: float = 2.0,
    service_line: str = SERVICE_LINE,
    base_url: str | None = None,
) -> KavenegarChannel:
    return KavenegarChannel(
        api_key,
        base_url=base_url or fake.url,
        service_line=service_line,
        promotional_line=PROMOTIONAL_LINE,
        timeout_s=timeout_s,
    )


def outgoing(
    key: str = "msg-1", *, line: Line = "service", text: str = "کد ورود: 4829"
) -> Outgoing:
    return Outgoing(origin="hub", key=key, to=PHONE, text=text, line=line, kind="otp")


def assert_no_key(failure: ChannelFailure) -> None:
    shown = [str(failure), repr(failure), failure.reason, *traceback.format_exception(failure)]
    assert not any(API_KEY in text for text in shown), shown
    # Nothing chained either: an httpx error's request carries the URL.
    assert failure.__cause__ is None
    assert failure.__context__ is None


# -- sending ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "number"), [("service", SERVICE_LINE), ("promotional", PROMOTIONAL_LINE)]
)
async def test_a_sent_message_is_receipted_with_its_id_and_cost(
    fake: FakeKavenegar, line: Line, number: str
) -> None:
    message = outgoing(line=line)

    receipt = await channel_for(fake).send(message)

    [sms] = fake.messages
    assert receipt.provider_id == sms.messageid
    assert receipt.cost_rial == 1_200
    assert not receipt.delivered
    assert (sms.receptor, sms.sender, sms.message) == (LOCAL, number, message.text)
    assert sms.localid == str(message.provider_key())


def test_the_channel_is_a_channel(fake: FakeKavenegar) -> None:
    channel: Channel = channel_for(fake)
    assert (channel.medium, channel.provider, channel.drops_repeats) == ("sms", "kavenegar", True)
    assert API_KEY not in repr(channel)


async def test_every_attempt_carries_one_localid_and_the_message_leaves_once(
    fake: FakeKavenegar,
) -> None:
    channel, message = channel_for(fake), outgoing()
    fake.fail_next(code=502)

    with pytest.raises(TemporaryFailure):
        await channel.send(message)
    first = await channel.send(message)
    again = await channel.send(message)

    assert first == again
    assert len(fake.messages) == 1
    sends = [call for call in fake.calls if call.method == "sms/send"]
    assert [call.params["localid"] for call in sends] == [str(message.provider_key())] * 3


async def test_a_worker_lost_after_kavenegar_accepted_retries_without_a_second_sms(
    fake: FakeKavenegar,
) -> None:
    """Kavenegar took the message but its reply never came back (the worker died or timed
    out): the next attempt gets the first attempt's entry, and nothing new is sent."""
    message = outgoing()
    accepted = fake.stall_after_accept(seconds=5)
    attempt = asyncio.create_task(channel_for(fake, timeout_s=0.5).send(message))

    assert await asyncio.to_thread(accepted.wait, 5)
    assert [sms.localid for sms in fake.messages] == [str(message.provider_key())]
    with pytest.raises(TemporaryFailure) as lost:
        await attempt
    assert lost.value.code == "timeout"
    receipt = await channel_for(fake).send(message)

    assert len(fake.messages) == 1
    assert receipt.provider_id == fake.messages[0].messageid


# -- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (409, TemporaryFailure, "server cannot answer now"),
        (451, TemporaryFailure, "too many calls"),
        (418, PermanentFailure, "not enough credit"),
        (411, PermanentFailure, "receptor not valid"),
        (401, PermanentFailure, "account disabled"),
        (420, PermanentFailure, "links"),
        (501, PermanentFailure, "test account"),
    ],
)
async def test_kavenegar_error_statuses_map_to_their_failure(
    fake: FakeKavenegar, code: int, kind: type[ChannelFailure], words: str
) -> None:
    fake.fail_next(code=code)

    with pytest.raises(ChannelFailure) as failure:
        await channel_for(fake).send(outgoing())

    assert type(failure.value) is kind
    assert failure.value.code == str(code)
    assert words in failure.value.reason
    assert "«" in failure.value.reason  # Kavenegar's own (Persian) words ride along
    assert_no_key(failure.value)
    assert fake.messages == []


async def test_a_wrong_api_key_is_permanent_and_not_echoed(fake: FakeKavenegar) -> None:
    with pytest.raises(PermanentFailure) as failure:
        await channel_for(fake, api_key="wrong-key-0000000000").send(outgoing())

    assert failure.value.code == "403"
    assert "API key not valid" in failure.value.reason
    assert "wrong-key" not in str(failure.value)
    assert fake.messages == []


async def test_a_line_kavenegar_does_not_know_is_permanent(fake: FakeKavenegar) -> None:
    with pytest.raises(PermanentFailure) as failure:
        await channel_for(fake, service_line="20009999").send(outgoing())

    assert failure.value.code == "412"
    assert fake.messages == []


@pytest.mark.parametrize("text", ["", "ب" * 901])
async def test_an_empty_or_too_long_message_is_permanent(fake: FakeKavenegar, text: str) -> None:
    with pytest.raises(PermanentFailure) as failure:
        await channel_for(fake).send(outgoing(text=text))

    assert failure.value.code == "413"
    assert fake.messages == []


@pytest.mark.parametrize(
    ("code", "body", "expected"),
    [
        (500, None, "http-500"),
        (502, None, "http-502"),
        (503, None, "http-503"),
        (200, "<html>maintenance</html>", "http-200"),
        (200, '{"entries": []}', "http-200"),  # JSON, but not Kavenegar's reply
    ],
)
async def test_server_errors_and_replies_that_are_not_kavenegars_are_temporary(
    fake: FakeKavenegar, code: int, body: str | None, expected: str
) -> None:
    fake.fail_next(code=code, body=body)

    with pytest.raises(TemporaryFailure) as failure:
        await channel_for(fake).send(outgoing())

    assert failure.value.code == expected
    assert_no_key(failure.value)


async def test_a_hanging_kavenegar_is_a_temporary_timeout(fake: FakeKavenegar) -> None:
    fake.hang_next(seconds=3)
    started = asyncio.get_running_loop().time()

    with pytest.raises(TemporaryFailure) as failure:
        await channel_for(fake, timeout_s=0.3).send(outgoing())

    assert asyncio.get_running_loop().time() - started < 2
    assert failure.value.code == "timeout"
    assert_no_key(failure.value)


async def test_an_unreachable_kavenegar_is_temporary(fake: FakeKavenegar) -> None:
    closed = f"http://127.0.0.1:{free_ports(1)[0]}"

    with pytest.raises(TemporaryFailure) as failure:
        await channel_for(fake, base_url=closed).send(outgoing())

    assert failure.value.code == "network"
    assert_no_key(failure.value)


async def test_a_blocked_recipient_is_permanent(fake: FakeKavenegar) -> None:
    fake.blocked_receptors.add(LOCAL)

    with pytest.raises(PermanentFailure) as failure:
        await channel_for(fake).send(outgoing())

    assert failure.value.code == "entry-14"
    assert "black list" in failure.value.reason


async def test_a_number_that_is_not_e164_is_refused_before_calling(fake: FakeKavenegar) -> None:
    message = Outgoing("hub", "k", LOCAL, "text", "service", "otp")

    with pytest.raises(PermanentFailure) as failure:
        await channel_for(fake).send(message)

    assert failure.value.code == "invalid-phone"
    assert LOCAL not in failure.value.reason
    assert fake.calls == []


async def test_httpx_request_log_lines_hide_the_key(
    fake: FakeKavenegar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")

    await channel_for(fake).send(outgoing())

    assert "/v1/***/sms/send.json" in caplog.text
    assert API_KEY not in caplog.text


# -- delivery reports -------------------------------------------------------------------


async def test_kavenegar_states_map_to_deliveries(fake: FakeKavenegar) -> None:
    expected: dict[int, str] = {
        1: "sent",
        2: "sent",
        4: "sent",
        5: "sent",
        10: "delivered",
        6: "failed",
        11: "failed",
        13: "failed",
        14: "failed",
    }
    channel = channel_for(fake)
    ids: dict[int, str] = {}
    for state in expected:
        receipt = await channel.send(outgoing(f"msg-{state}"))
        assert receipt.provider_id is not None
        ids[state] = receipt.provider_id
        fake.delivery[receipt.provider_id] = state

    reports = await channel.statuses([*ids.values(), "77"])

    assert {state: reports[ids[state]].state for state in expected} == expected
    assert reports[ids[11]] == Status("failed", detail="نرسیده به گیرنده")
    assert reports["77"] == Status("failed", detail="شناسه نامعتبر")  # Kavenegar's 100


async def test_ids_the_reply_leaves_out_are_left_out(fake: FakeKavenegar) -> None:
    channel = channel_for(fake)
    receipt = await channel.send(outgoing())
    assert receipt.provider_id is not None
    fake.omit_unknown_ids = True

    reports = await channel.statuses([receipt.provider_id, "77", "not-a-number"])

    assert reports == {receipt.provider_id: Status("delivered", detail="رسیده به گیرنده")}
    [call] = [call for call in fake.calls if call.method == "sms/status"]
    assert call.params["messageid"] == f"{receipt.provider_id},77"


async def test_statuses_are_asked_in_batches_of_500(fake: FakeKavenegar) -> None:
    fake.omit_unknown_ids = True

    reports = await channel_for(fake).statuses([str(n) for n in range(1, 1_102)])

    assert reports == {}
    batches = [call.params["messageid"].count(",") + 1 for call in fake.calls]
    assert batches == [500, 500, 101]


async def test_a_failed_status_call_is_a_typed_failure(fake: FakeKavenegar) -> None:
    fake.fail_next(code=503)

    with pytest.raises(TemporaryFailure) as failure:
        await channel_for(fake).statuses(["1"])

    assert_no_key(failure.value)


# -- inbound ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender", ["۰۹۱۲۱۲۳۴۵۶۷", "٠٩١٢١٢٣٤٥٦٧", "+98 912 123 4567", "989121234567"]
)
def test_inbound_fields_are_read_whatever_the_digits(sender: str) -> None:
    fields = {"messageid": "35850015", "from": sender, "to": "30004505", "message": "لغو ۱۱"}

    assert parse_inbound(fields) == Inbound("35850015", PHONE, "30004505", "لغو ۱۱")


@pytest.mark.parametrize("sender", ["02188888888", "12345", "", "not a phone", "+14155550100"])
def test_inbound_from_a_number_that_is_not_an_iranian_mobile_is_none(sender: str) -> None:
    fields = {"messageid": "1", "from": sender, "to": "30004505", "message": "hi"}

    assert parse_inbound(fields) is None


@pytest.mark.parametrize("missing", ["messageid", "from", "to", "message"])
def test_inbound_with_a_field_missing_is_none(missing: str) -> None:
    fields = {"messageid": "1", "from": LOCAL, "to": "30004505", "message": "hi"}
    del fields[missing]

    assert parse_inbound(fields) is None


async def test_receive_polls_unread_messages_once(fake: FakeKavenegar) -> None:
    first = fake.add_inbound(SERVICE_LINE, LOCAL, "سلام")
    fake.add_inbound(SERVICE_LINE, "09*********", "masked")  # skipped, not fatal
    fake.add_inbound(PROMOTIONAL_LINE, "+989351112233", "لغو")
    channel = channel_for(fake)

    received = await channel.receive("service")

    assert received == [Inbound(first, PHONE, SERVICE_LINE, "سلام")]
    assert await channel.receive("service") == []
    [promotional] = await channel.receive("promotional")
    assert promotional.from_phone == "+989351112233"
    receives = [call.params for call in fake.calls if call.method == "sms/receive"]
    assert receives[0] == {"linenumber": SERVICE_LINE, "isread": "0"}


async def test_receive_drains_more_than_one_page(fake: FakeKavenegar) -> None:
    for n in range(150):
        fake.add_inbound(SERVICE_LINE, LOCAL, f"m{n}")

    received = await channel_for(fake).receive()

    assert [inbound.text for inbound in received] == [f"m{n}" for n in range(150)]
    assert sum(call.method == "sms/receive" for call in fake.calls) == 2
