"""The Telegram channel against a fake Bot API over real HTTP, and the bot's pure helpers.

Every answer Telegram can give must become a receipt or a typed failure, and the bot token
(a password that python-telegram-bot puts in every URL) must never reach a reason or a log.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram import Update

from mallnet.messaging.channels import (
    ChannelFailure,
    Outgoing,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)
from mallnet.messaging.telegram import (
    ContactShared,
    Start,
    Stop,
    TelegramChannel,
    Text,
    check_webhook_secret,
    deep_link,
    new_link_code,
    parse_update,
)
from tests.conftest import free_ports
from tests.fakes.telegram import (
    BOT_USERNAME,
    SECRET_HEADER,
    TOKEN,
    FakeTelegram,
    blocked_update,
    contact_update,
    message_update,
    push_update,
    start_update,
    stop_update,
    text_update,
)
from tests.live_server import LiveServer

CHAT = 5550001
TOKEN_SECRET = TOKEN.split(":")[1]


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake(fake_api: FakeTelegram) -> FakeTelegram:
    fake_api.reset()
    return fake_api


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    async with TelegramChannel(TOKEN, api_url=fake.api_url, read_timeout_s=0.5) as channel:
        yield channel


def outgoing(to: str = str(CHAT), text: str = "کد ورود شما: 1234") -> Outgoing:
    return Outgoing(origin="hub", key="k1", to=to, text=text, line="service", kind="otp")


def assert_no_token(failure: ChannelFailure) -> None:
    for text in (failure.reason, str(failure), repr(failure)):
        assert TOKEN_SECRET not in text
        assert TOKEN not in text


# ------------------------------------------------------------------------- sending


async def test_a_sent_message_arrives_and_counts_as_delivered(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    receipt = await channel.send(outgoing())

    assert len(fake.sent) == 1
    sent = fake.sent[0]
    assert (sent.chat_id, sent.text, sent.reply_markup) == (CHAT, "کد ورود شما: 1234", None)
    assert receipt == Receipt(provider_id=str(sent.message_id), delivered=True)
    assert [method for method, _ in fake.calls] == ["getMe", "sendMessage"]


async def test_the_bot_is_initialised_once(fake: FakeTelegram, channel: TelegramChannel) -> None:
    await asyncio.gather(*(channel.send(outgoing()) for _ in range(5)))

    assert [method for method, _ in fake.calls].count("getMe") == 1
    assert len(fake.sent) == 5


async def test_the_channel_says_what_it_is(channel: TelegramChannel) -> None:
    assert (channel.medium, channel.provider, channel.drops_repeats) == (
        "telegram",
        "telegram",
        False,
    )
    assert await channel.statuses(["1", "2"]) == {}
    assert await channel.bot_username() == BOT_USERNAME
    assert TOKEN_SECRET not in repr(channel)


async def test_a_contact_request_carries_one_contact_button(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    await channel.send_contact_request(CHAT, "شماره‌تان را بفرستید", "ارسال شماره")
    await channel.send_plain(CHAT, "ثبت شد", remove_keyboard=True)
    await channel.send_plain(CHAT, "سلام")

    ask, done, plain = fake.sent
    assert ask.reply_markup == {
        "keyboard": [[{"text": "ارسال شماره", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    assert done.reply_markup == {"remove_keyboard": True}
    assert plain.reply_markup is None


async def test_the_webhook_is_set_with_its_secret(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    await channel.set_webhook("https://hub.example/telegram", "s3cret_-X")
    assert (fake.webhook_url, fake.webhook_secret) == ("https://hub.example/telegram", "s3cret_-X")
    assert fake.calls[-1][1]["allowed_updates"] == ["message", "my_chat_member"]

    await channel.delete_webhook()
    assert fake.webhook_url == ""

    with pytest.raises(ValueError, match="webhook secret"):
        await channel.set_webhook("https://hub.example/telegram", "no spaces")


async def test_a_closed_channel_opens_again(fake: FakeTelegram, channel: TelegramChannel) -> None:
    await channel.send(outgoing())
    await channel.aclose()
    await channel.send(outgoing())

    assert len(fake.sent) == 2


def test_each_event_loop_gets_its_own_bot(fake: FakeTelegram) -> None:
    # Celery tasks run each batch in a fresh asyncio.run; a connection pool of a finished
    # loop must not be reused.
    channel = TelegramChannel(TOKEN, api_url=fake.api_url)

    async def send_and_close() -> None:
        await channel.send(outgoing())
        await channel.aclose()

    asyncio.run(send_and_close())
    asyncio.run(send_and_close())

    assert len(fake.sent) == 2
    assert [method for method, _ in fake.calls].count("getMe") == 2


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_channel_left_open_still_works_in_the_next_loop_and_says_so(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    channel = TelegramChannel(TOKEN, api_url=fake.api_url)

    async def send() -> None:
        await channel.send(outgoing())

    asyncio.run(send())
    with caplog.at_level(logging.WARNING, "mallnet.messaging.telegram"):
        asyncio.run(send())
    asyncio.run(channel.aclose())
    gc.collect()  # the first loop's leaked socket warns now, under this test's filters

    assert len(fake.sent) == 2
    assert "without aclose()" in caplog.text


async def test_httpx_request_logs_never_carry_the_token(
    channel: TelegramChannel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await channel.send(outgoing())

    assert "sendMessage" in caplog.text
    assert TOKEN_SECRET not in caplog.text


# ------------------------------------------------------------------------ failures


async def test_a_wrong_token_is_permanent_and_never_echoed(fake: FakeTelegram) -> None:
    wrong = "123456789:AAHwrongTOKENwrongTOKENwrong-0123456"
    async with TelegramChannel(wrong, api_url=fake.api_url) as channel:
        with pytest.raises(PermanentFailure) as caught:
            await channel.send(outgoing())

    assert caught.value.code == "invalid_token"
    assert wrong.split(":")[1] not in caught.value.reason
    assert_no_token(caught.value)
    assert fake.sent == []


@pytest.mark.parametrize(
    ("setup", "text", "code", "said"),
    [
        (lambda f: f.blocked_chats.add(CHAT), "hi", "forbidden", "bot was blocked by the user"),
        (lambda f: f.unknown_chats.add(CHAT), "hi", "bad_request", "chat not found"),
        (lambda f: None, "x" * 4097, "bad_request", "message is too long"),
    ],
    ids=["blocked", "chat-not-found", "too-long"],
)
async def test_what_telegram_refuses_is_permanent(
    fake: FakeTelegram,
    channel: TelegramChannel,
    setup: Any,
    text: str,
    code: str,
    said: str,
) -> None:
    setup(fake)

    with pytest.raises(PermanentFailure) as caught:
        await channel.send(outgoing(text=text))

    assert caught.value.code == code
    assert said in caught.value.reason.lower()
    assert_no_token(caught.value)
    assert fake.sent == []


async def test_a_chat_id_that_is_no_number_is_permanent(channel: TelegramChannel) -> None:
    with pytest.raises(PermanentFailure) as caught:
        await channel.send(outgoing(to="+989121234567"))
    assert caught.value.code == "bad_address"


async def test_flood_control_is_temporary_with_telegrams_hint(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    fake.rate_limit(times=1, retry_after_s=7)

    with pytest.raises(TemporaryFailure) as caught:
        await channel.send(outgoing())

    assert (caught.value.code, caught.value.retry_after_s) == ("rate_limited", 7.0)
    assert_no_token(caught.value)
    await channel.send(outgoing())  # the next attempt goes through
    assert len(fake.sent) == 1


@pytest.mark.parametrize("status", [500, 502])
async def test_a_server_error_is_temporary(
    fake: FakeTelegram, channel: TelegramChannel, status: int
) -> None:
    fake.fail(times=1, status=status)

    with pytest.raises(TemporaryFailure) as caught:
        await channel.send(outgoing())

    assert caught.value.code == "network"
    assert caught.value.retry_after_s is None
    assert_no_token(caught.value)


async def test_a_slow_answer_is_temporary_and_may_have_arrived(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    await channel.bot_username()  # getMe answers at once; only sendMessage hangs
    fake.hang(times=1, seconds=0.8)
    started = time.monotonic()

    with pytest.raises(TemporaryFailure) as caught:
        await channel.send(outgoing())

    assert time.monotonic() - started < 0.9
    assert caught.value.code == "timeout"
    assert "may have arrived" in caught.value.reason
    assert_no_token(caught.value)
    # It did: Telegram took the request, the answer was late. This is why a timeout is
    # never retried blindly by a channel that cannot drop repeats.
    deadline = time.monotonic() + 5
    while not fake.sent and time.monotonic() < deadline:  # noqa: ASYNC110 (another thread)
        await asyncio.sleep(0.05)
    assert len(fake.sent) == 1


async def test_an_unreachable_api_is_temporary() -> None:
    closed = f"http://127.0.0.1:{free_ports(1)[0]}"
    async with TelegramChannel(TOKEN, api_url=closed, connect_timeout_s=0.5) as channel:
        with pytest.raises(TemporaryFailure) as caught:
            await channel.send(outgoing())

    assert caught.value.code == "network"
    assert_no_token(caught.value)


# ----------------------------------------------------------------- the conversation


def test_start_without_and_with_a_code() -> None:
    assert parse_update(start_update(CHAT)) == Start(CHAT, CHAT, None, "fa")
    assert parse_update(start_update(CHAT, "Ab_-9")) == Start(CHAT, CHAT, "Ab_-9", "fa")
    typed = message_update(CHAT, text="/start@MallnetTestBot Ab9")
    assert parse_update(typed) == Start(CHAT, CHAT, "Ab9", None)


@pytest.mark.parametrize("argument", ["two words", "x" * 65, "ab+c", "کد"])
def test_start_with_a_code_telegram_would_not_send_has_no_code(argument: str) -> None:
    event = parse_update(message_update(CHAT, text=f"/start {argument}"))
    assert event == Start(CHAT, CHAT, None, None)


def test_stop_by_command_or_by_blocking_the_bot() -> None:
    assert parse_update(stop_update(CHAT)) == Stop(CHAT)
    assert parse_update(blocked_update(CHAT)) == Stop(CHAT)


@pytest.mark.parametrize("phone", ["+989121234567", "989121234567"])
def test_own_contact_in_either_form(phone: str) -> None:
    event = parse_update(contact_update(CHAT, phone))
    assert event == ContactShared(CHAT, CHAT, "+989121234567", is_own=True)


@pytest.mark.parametrize("owner", [777, None], ids=["another-user", "phonebook-entry"])
def test_someone_elses_contact_is_not_own(owner: int | None) -> None:
    event = parse_update(contact_update(CHAT, "+989351112233", own=False, contact_user_id=owner))
    assert event == ContactShared(CHAT, CHAT, "+989351112233", is_own=False)


def test_a_contact_that_is_no_iranian_mobile_has_no_phone() -> None:
    for phone in ("+14155550123", "982188776655", "not a number"):
        event = parse_update(contact_update(CHAT, phone))
        assert event == ContactShared(CHAT, CHAT, None, is_own=True)


def test_other_text_and_commands_are_text() -> None:
    assert parse_update(text_update(CHAT, "سلام")) == Text(CHAT, "سلام")
    assert parse_update(text_update(CHAT, "/help")) == Text(CHAT, "/help")


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1},
        {"update_id": 1, "edited_message": text_update(CHAT, "x")["message"]},
        {"update_id": 1, "callback_query": {"id": "1", "from": {"id": CHAT}, "data": "x"}},
        {"update_id": 1, "channel_post": text_update(CHAT, "x")["message"]},
        {"update_id": 1, "message": "not an object"},
        message_update(CHAT, sticker={"file_id": "x"}),
        {
            **start_update(-100),
            "message": {**start_update(-100)["message"], "chat": {"id": -100, "type": "group"}},
        },
        {
            **text_update(CHAT, "x"),
            "message": {**text_update(CHAT, "x")["message"], "from": {"id": True}},
        },
    ],
    ids=["empty", "edited", "callback", "channel", "malformed", "sticker", "group", "bool-id"],
)
def test_what_the_bot_ignores_is_none(update: dict[str, Any]) -> None:
    assert parse_update(update) is None


def test_the_builders_make_updates_telegram_would_send() -> None:
    # The fake's updates must parse in python-telegram-bot too: they stand for Telegram.
    for data in (start_update(CHAT, "abc"), contact_update(CHAT, "989121234567")):
        update = Update.de_json(data, None)
        assert update.effective_chat is not None
        assert update.effective_chat.id == CHAT
    assert Update.de_json(blocked_update(CHAT), None).my_chat_member is not None


def test_deep_links() -> None:
    code = new_link_code()
    assert deep_link("MallnetTestBot", code) == f"https://t.me/MallnetTestBot?start={code}"
    assert deep_link("@MallnetTestBot", "a") == "https://t.me/MallnetTestBot?start=a"
    assert deep_link("MallnetTestBot", "x" * 64).endswith("x" * 64)


@pytest.mark.parametrize("code", ["", "x" * 65, "a b", "a+b", "a/b", "کد", "a=b"])
def test_a_deep_link_refuses_codes_telegram_refuses(code: str) -> None:
    with pytest.raises(ValueError, match="1-64 characters"):
        deep_link("MallnetTestBot", code)


@pytest.mark.parametrize("username", ["", "bot", "1abcdef", "mall bot", "mall/bot?x=1"])
def test_a_deep_link_refuses_what_is_no_username(username: str) -> None:
    with pytest.raises(ValueError, match="username"):
        deep_link(username, "abc")


def test_link_codes_are_long_random_and_start_safe() -> None:
    codes = {new_link_code() for _ in range(1000)}
    assert len(codes) == 1000
    for code in codes:
        assert len(code) >= 22  # 128 bits in base64url
        deep_link("MallnetTestBot", code)


def test_the_webhook_secret_check() -> None:
    assert check_webhook_secret("s3cret", "s3cret")
    assert not check_webhook_secret("s3cret2", "s3cret")
    assert not check_webhook_secret("S3CRET", "s3cret")
    assert not check_webhook_secret(None, "s3cret")
    assert not check_webhook_secret("", "s3cret")
    assert not check_webhook_secret("", "")  # an unset secret accepts nothing
    assert not check_webhook_secret("سلام", "s3cret")


# ------------------------------------------------------------------ webhook delivery


def test_updates_reach_a_webhook_with_the_secret(fake: FakeTelegram) -> None:
    received: list[tuple[str | None, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return JSONResponse({})

    with LiveServer(Starlette(routes=[Route("/tg", hook, methods=["POST"])])) as hub:
        update = start_update(CHAT, "abc")
        assert push_update(f"{hub.url}/tg", "s3cret", update).status_code == 200
        fake.webhook_url, fake.webhook_secret = f"{hub.url}/tg", "other"
        fake.deliver(stop_update(CHAT))

    assert received[0] == ("s3cret", update)
    assert received[1][0] == "other"
    assert parse_update(received[1][1]) == Stop(CHAT)
