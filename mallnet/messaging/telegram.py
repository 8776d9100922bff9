"""Telegram: a bot that carries the network's messages to people who linked their chat.

Two halves. :class:`TelegramChannel` is a :class:`~mallnet.messaging.channels.Channel` over
python-telegram-bot's :class:`telegram.Bot`: it sends, and turns every answer of the Bot API
into a receipt or a typed failure. The rest are pure helpers for the bot's conversation
(a shopper opens a deep link, shares her own contact, and her chat is linked to her phone):
they build links and read webhook updates, and touch no database, so the hub decides what a
linked chat means.

Telegram has no idempotency key and no delivery reports: a message the API accepted is
delivered, and a send that may have reached Telegram is never safe to repeat.

The bot token is a password, and python-telegram-bot puts it in every URL (and in its
"token was rejected" error). Nothing this module returns or logs carries it: reasons are
scrubbed, and httpx's request log lines have the token cut out.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
import secrets
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeGuard, TypeVar

from telegram import Bot, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest

from mallnet.messaging.channels import (
    ChannelFailure,
    Outgoing,
    PermanentFailure,
    Receipt,
    Status,
    TemporaryFailure,
)
from mallnet.phone import InvalidPhone, normalize_mobile

__all__ = [
    "DEFAULT_API_URL",
    "BotEvent",
    "ContactShared",
    "Start",
    "Stop",
    "TelegramChannel",
    "Text",
    "check_webhook_secret",
    "deep_link",
    "new_link_code",
    "parse_update",
]

DEFAULT_API_URL = "https://api.telegram.org"

# python-telegram-bot 22 builds RetryAfter by reading its own deprecated int-valued
# ``retry_after``, which warns; under a warnings-as-errors policy (our tests) that warning
# replaces the 429 itself. Opting in to the library's announced timedelta behaviour, as it
# suggests, keeps a rate limit a rate limit. An operator's explicit choice is left alone.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Telegram's rule for /start parameters (https://core.telegram.org/bots/features#deep-linking).
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
# setWebhook's secret_token: 1-256 characters of the same alphabet.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram usernames: 5-32 characters of letters, digits and underscores, not starting with
# a digit or an underscore.
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
_CHAT_ID = re.compile(r"-?[0-9]{1,20}")
# A bot token as it may appear in a URL or a message: "<bot id>:<secret>".
_TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?", re.DOTALL)

T = TypeVar("T")
log = logging.getLogger(__name__)


def _scrub(text: str, token: str = "") -> str:
    """``text`` without the bot token, however it got there."""
    if token:
        text = text.replace(token, "<token>")
    return _TOKEN_SHAPE.sub("<token>", text)


class _RedactTokens(logging.Filter):
    """httpx logs each request's full URL at INFO, and the URL holds the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = _scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def _install_log_redaction() -> None:
    for name in ("httpx", "telegram.Bot"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactTokens) for f in logger.filters):
            logger.addFilter(_RedactTokens())


_install_log_redaction()


class TelegramChannel:
    """Sends each message as a chat message from the bot; ``Outgoing.to`` is the chat id.

    The :class:`telegram.Bot` is made and initialised (one ``getMe``) on first use in each
    event loop: an HTTP connection pool belongs to the loop that opened it, and Celery
    tasks run each batch in a fresh ``asyncio.run``. Call :meth:`aclose` (or use ``async
    with``) before the loop ends, or its kept-alive connections leak (a warning is logged
    when that is noticed).
    """

    def __init__(
        self,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 10.0,
        write_timeout_s: float = 10.0,
        pool_timeout_s: float = 5.0,
        request: BaseRequest | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required (ask @BotFather for one)")
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._timeouts = (connect_timeout_s, read_timeout_s, write_timeout_s, pool_timeout_s)
        # A given request object (tests) is reused as is; it then serves one event loop.
        self._request = request
        self._bot: Bot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def medium(self) -> str:
        return "telegram"

    @property
    def provider(self) -> str:
        return "telegram"

    @property
    def drops_repeats(self) -> bool:
        # Telegram has no idempotency key: a repeated sendMessage is a second message.
        return False

    def __repr__(self) -> str:
        return f"TelegramChannel(api_url={self._api_url!r})"

    async def __aenter__(self) -> TelegramChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the bot's connections; a later send opens new ones."""
        bot, self._bot = self._bot, None
        if bot is not None and self._loop is asyncio.get_running_loop():
            await bot.shutdown()

    async def send(self, message: Outgoing) -> Receipt:
        if not _CHAT_ID.fullmatch(message.to):
            # int() would take "+989121234567": a phone number must never pass for a chat.
            raise PermanentFailure(
                f"a Telegram chat id is a number, got {message.to[:40]!r}", code="bad_address"
            )
        return await self.send_plain(int(message.to), message.text)

    async def statuses(self, provider_ids: Sequence[str]) -> Mapping[str, Status]:
        # Telegram has no delivery reports; an accepted message counts as delivered.
        return {}

    async def send_plain(
        self, chat_id: int, text: str, *, remove_keyboard: bool = False
    ) -> Receipt:
        """A bot reply. ``remove_keyboard`` takes away a keyboard an earlier message showed
        (the contact button, once the contact has arrived)."""
        markup = ReplyKeyboardRemove() if remove_keyboard else None
        sent = await self._call(lambda bot: bot.send_message(chat_id, text, reply_markup=markup))
        return _receipt(sent)

    async def send_contact_request(self, chat_id: int, text: str, button_text: str) -> Receipt:
        """A message with one keyboard button that shares the person's own contact.

        The button shares only the person's own number, but anyone can also send someone
        else's card from the attachment menu, and it arrives the same way: the hub links a
        phone only when :attr:`ContactShared.is_own`.
        """
        markup = ReplyKeyboardMarkup(
            [[KeyboardButton(button_text, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        sent = await self._call(lambda bot: bot.send_message(chat_id, text, reply_markup=markup))
        return _receipt(sent)

    async def bot_username(self) -> str:
        """The bot's @username without the "@", as ``getMe`` reported it (for deep links)."""
        bot = await self._ready()
        return bot.username

    async def set_webhook(
        self,
        url: str,
        secret: str,
        *,
        allowed_updates: Sequence[str] = ("message", "my_chat_member"),
    ) -> None:
        """Ask Telegram to POST updates to ``url`` with ``secret`` in the
        X-Telegram-Bot-Api-Secret-Token header (check it with :func:`check_webhook_secret`)."""
        if not _WEBHOOK_SECRET.fullmatch(secret):
            raise ValueError("a webhook secret is 1-256 characters of A-Z a-z 0-9 _ -")
        await self._call(
            lambda bot: bot.set_webhook(
                url, secret_token=secret, allowed_updates=list(allowed_updates)
            )
        )

    async def delete_webhook(self) -> None:
        await self._call(lambda bot: bot.delete_webhook())

    async def _ready(self) -> Bot:
        """The initialised bot of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._bot is not None:
                # Its connections belong to a loop that has (most likely) ended: they cannot
                # be closed from this one and stay open until garbage collection.
                log.warning("TelegramChannel moved to a new event loop without aclose()")
            self._loop, self._lock, self._bot = loop, asyncio.Lock(), None
        assert self._lock is not None
        async with self._lock:
            if self._bot is None:
                bot = self._new_bot()
                try:
                    await bot.initialize()
                except TelegramError as exc:
                    await bot.shutdown()
                    raise self._failure(exc) from None
                self._bot = bot
            return self._bot

    def _new_bot(self) -> Bot:
        connect, read, write, pool = self._timeouts
        request = (
            self._request
            if self._request is not None
            else HTTPXRequest(
                connect_timeout=connect, read_timeout=read, write_timeout=write, pool_timeout=pool
            )
        )
        return Bot(
            self._token,
            base_url=f"{self._api_url}/bot",
            base_file_url=f"{self._api_url}/file/bot",
            request=request,
        )

    async def _call(self, action: Callable[[Bot], Awaitable[T]]) -> T:
        bot = await self._ready()
        try:
            return await action(bot)
        except TelegramError as exc:
            raise self._failure(exc) from None
        except (KeyError, TypeError, ValueError) as exc:
            # python-telegram-bot could not read an answer it got (Message.de_json):
            # "a malformed reply is temporary too" (channels.py).
            raise TemporaryFailure(
                f"Telegram's answer could not be read ({type(exc).__name__})",
                code="malformed",
                maybe_sent=True,
            ) from None

    def _failure(self, exc: TelegramError) -> ChannelFailure:
        """The channel's outcome for python-telegram-bot's exception (order matters:
        BadRequest and TimedOut are NetworkErrors)."""
        said = _scrub(exc.message, self._token)
        if isinstance(exc, RetryAfter):
            wait_s = _retry_after_s(exc)
            return TemporaryFailure(
                f"Telegram's flood control: retry in {wait_s:g} s",
                code="rate_limited",
                retry_after_s=wait_s,
            )
        if isinstance(exc, InvalidToken):
            return PermanentFailure(
                "Telegram rejected the bot token; set the token @BotFather gave",
                code="invalid_token",
            )
        if isinstance(exc, Forbidden):
            # "bot was blocked by the user", "user is deactivated", "bot can't initiate
            # conversation with a user": the person must open the chat again.
            return PermanentFailure(f"Telegram refused: {said}", code="forbidden")
        if isinstance(exc, BadRequest):
            # "chat not found", "message is too long", "message text is empty".
            return PermanentFailure(f"Telegram refused the request: {said}", code="bad_request")
        if isinstance(exc, ChatMigrated):
            return PermanentFailure(f"Telegram: {said}", code="chat_migrated")
        if isinstance(exc, TimedOut):
            late = type(exc.__cause__).__name__ in _AFTER_SENDING
            return TemporaryFailure(_timeout_reason(exc, said), code="timeout", maybe_sent=late)
        if isinstance(exc, NetworkError):
            return TemporaryFailure(f"Telegram could not be reached: {said}", code="network")
        return TemporaryFailure(f"Telegram answered unexpectedly: {said}", code="telegram_error")


# A read or write timeout comes after the request left: Telegram may have sent it.
_AFTER_SENDING = frozenset({"ReadTimeout", "WriteTimeout"})


def _timeout_reason(exc: TimedOut, said: str) -> str:
    if type(exc.__cause__).__name__ in _AFTER_SENDING:
        return "Telegram did not answer in time; the message may have arrived"
    return f"Telegram timed out before the message left: {said}"


def _retry_after_s(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # Only if an operator set PTB_TIMEDELTA=false: the int form is deprecated, still fine.
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    seconds = value.total_seconds() if hasattr(value, "total_seconds") else value
    return float(seconds)


def _receipt(sent: Message) -> Receipt:
    return Receipt(provider_id=str(sent.message_id), delivered=True)


# ---------------------------------------------------------------------- the conversation


def deep_link(bot_username: str, code: str) -> str:
    """``https://t.me/<bot>?start=<code>``: opening it starts the bot with ``code``."""
    username = bot_username.removeprefix("@")
    if not _USERNAME.fullmatch(username):
        raise ValueError(f"not a Telegram username: {bot_username[:40]!r}")
    if not _START_PARAMETER.fullmatch(code):
        raise ValueError("a /start code is 1-64 characters of A-Z a-z 0-9 _ -")
    return f"https://t.me/{username}?start={code}"


def new_link_code() -> str:
    """An unguessable /start code: 128 random bits in 22 base64url characters."""
    return secrets.token_urlsafe(16)


def check_webhook_secret(header_value: str | None, expected: str) -> bool:
    """Whether X-Telegram-Bot-Api-Secret-Token carries the secret given to setWebhook.
    Constant-time; an empty expected secret (a misconfiguration) accepts nothing."""
    if not header_value or not expected:
        return False
    return hmac.compare_digest(header_value.encode(), expected.encode())


@dataclass(frozen=True)
class Start:
    """/start, from a deep link (``code``) or typed (``code`` None)."""

    chat_id: int
    user_id: int
    code: str | None
    language_code: str | None


@dataclass(frozen=True)
class Stop:
    """/stop, or the person blocked the bot: send nothing more to this chat."""

    chat_id: int


@dataclass(frozen=True)
class ContactShared:
    """A contact card. ``is_own`` only when it is the sender's own (Telegram's contact
    button); anyone can forward someone else's card, which must never link that number.
    ``phone`` is None when the number is not an Iranian mobile."""

    chat_id: int
    user_id: int
    phone: str | None
    is_own: bool


@dataclass(frozen=True)
class Text:
    """Any other text (including unknown commands)."""

    chat_id: int
    text: str


BotEvent: TypeAlias = Start | Stop | ContactShared | Text


def parse_update(data: Mapping[str, Any]) -> BotEvent | None:
    """What a webhook's Update means to the bot, or None for what it ignores.

    Only private chats count: links and contacts belong to one person. Edited messages,
    groups, channels, callbacks and malformed updates give None (the webhook still
    answers 200, or Telegram resends them).
    """
    member = data.get("my_chat_member")
    if isinstance(member, Mapping):
        chat_id = _private_chat_id(member.get("chat"))
        status = _field(member.get("new_chat_member"), "status")
        return Stop(chat_id) if chat_id is not None and status == "kicked" else None
    message = data.get("message")
    if not isinstance(message, Mapping):
        return None
    chat_id = _private_chat_id(message.get("chat"))
    sender = message.get("from")
    user_id = _field(sender, "id")
    if chat_id is None or not _is_int(user_id):
        return None
    contact = message.get("contact")
    if isinstance(contact, Mapping):
        return _contact(chat_id, user_id, contact)
    text = message.get("text")
    if not isinstance(text, str):
        return None
    command = _COMMAND.fullmatch(text.strip())
    if command is None:
        return Text(chat_id, text)
    name, argument = command.group(1).lower(), (command.group(2) or "").strip()
    if name == "start":
        code = argument if _START_PARAMETER.fullmatch(argument) else None
        language = _field(sender, "language_code")
        return Start(chat_id, user_id, code, language if isinstance(language, str) else None)
    if name == "stop":
        return Stop(chat_id)
    return Text(chat_id, text)


def _contact(chat_id: int, user_id: int, contact: Mapping[str, Any]) -> ContactShared:
    raw = contact.get("phone_number")
    phone: str | None = None
    if isinstance(raw, str):
        # Telegram sends "989121234567" or "+989121234567", depending on the client.
        try:
            phone = normalize_mobile(raw)
        except InvalidPhone:
            phone = None
    owner = contact.get("user_id")
    return ContactShared(chat_id, user_id, phone, is_own=_is_int(owner) and owner == user_id)


def _private_chat_id(chat: object) -> int | None:
    chat_id = _field(chat, "id")
    if _field(chat, "type") != "private" or not _is_int(chat_id):
        return None
    return chat_id


def _field(mapping: object, name: str) -> Any:
    return mapping.get(name) if isinstance(mapping, Mapping) else None


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int to Python, never an id to Telegram.
    return isinstance(value, int) and not isinstance(value, bool)
