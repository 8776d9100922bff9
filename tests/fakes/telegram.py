"""A fake Telegram Bot API on a real local HTTP server, and builders for webhook updates.

It answers ``/bot<token>/<method>`` (GET or POST; JSON, form or query parameters) in
Telegram's envelope: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "..."}``, with the descriptions Telegram really uses, so
python-telegram-bot raises the same exceptions it raises against api.telegram.org.

Fault switches make it misbehave as Telegram does: a blocked bot (403), a chat that does
not exist (400), flood control (429 with ``parameters.retry_after``), a 5xx (JSON or an
nginx page), or an answer slower than the client waits.

For the hub's webhook tests: :func:`push_update` posts an Update with the secret header, and
:meth:`FakeTelegram.deliver` posts one to whatever URL the bot registered with setWebhook.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.live_server import LiveServer

TOKEN = "123456789:AAHfakeTOKENforTESTSonly-0123456789ab"
BOT_ID = 123456789
BOT_USERNAME = "MallnetTestBot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096
# Parameters Telegram takes as JSON-serialised values in a form or query string.
_JSON_PARAMS = frozenset({"reply_markup", "allowed_updates", "entities", "reply_parameters"})


@dataclass(frozen=True)
class SentMessage:
    message_id: int
    chat_id: int | str
    text: str
    reply_markup: dict[str, Any] | None


@dataclass
class _Faults:
    hang: int = 0
    hang_s: float = 0.0
    rate_limited: int = 0
    retry_after_s: int = 0
    failing: int = 0
    fail_status: int = 500


@dataclass
class FakeTelegram:
    """The fake API. Use as a context manager; ``api_url`` is what the channel takes."""

    token: str = TOKEN
    sent: list[SentMessage] = field(default_factory=list)
    # (method, parameters) of every call with the right token, in order.
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    unknown_chats: set[int] = field(default_factory=set)
    webhook_url: str = ""
    webhook_secret: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    _faults: _Faults = field(default_factory=_Faults)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _closing: bool = False
    _server: LiveServer | None = None

    @property
    def api_url(self) -> str:
        assert self._server is not None, "start the fake first: with FakeTelegram() as fake"
        return self._server.url

    def __enter__(self) -> FakeTelegram:
        self._server = LiveServer(self.app())
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing = True  # hung requests give up, so the server can stop
        assert self._server is not None
        self._server.__exit__(*exc)

    # -- switches ---------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.calls.clear()
            self.blocked_chats.clear()
            self.unknown_chats.clear()
            self.updates.clear()
            self.webhook_url, self.webhook_secret = "", None
            self._faults = _Faults()

    def rate_limit(self, times: int = 1, retry_after_s: int = 3) -> None:
        """The next ``times`` sendMessage calls get 429 with ``retry_after``."""
        with self._lock:
            self._faults.rate_limited, self._faults.retry_after_s = times, retry_after_s

    def fail(self, times: int = 1, status: int = 500) -> None:
        """The next ``times`` sendMessage calls get ``status`` (502: an nginx HTML page)."""
        with self._lock:
            self._faults.failing, self._faults.fail_status = times, status

    def hang(self, times: int = 1, seconds: float = 3.0) -> None:
        """The next ``times`` sendMessage calls answer after ``seconds`` (and do send)."""
        with self._lock:
            self._faults.hang, self._faults.hang_s = times, seconds

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates to hand out."""
        with self._lock:
            self.updates.append(update)

    def deliver(self, update: dict[str, Any]) -> httpx.Response:
        """Post ``update`` to the registered webhook, as Telegram would."""
        assert self.webhook_url, "no webhook registered (setWebhook was not called)"
        return push_update(self.webhook_url, self.webhook_secret, update)

    # -- the API ----------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/{path:path}", _not_found, methods=["GET", "POST"]),
            ]
        )

    async def _endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await _parameters(request)
        with self._lock:
            self.calls.append((method, params))
        handler = _METHODS.get(method.lower())
        if handler is None:
            return _error(404, "Not Found")
        return await handler(self, params)

    async def _get_me(self, params: dict[str, Any]) -> Response:
        return _ok(_bot_user() | {"can_join_groups": True, "supports_inline_queries": False})

    async def _send_message(self, params: dict[str, Any]) -> Response:
        with self._lock:
            faults = self._faults
            hang_s = faults.hang_s if faults.hang > 0 else 0.0
            faults.hang = max(faults.hang - 1, 0)
        if hang_s:
            await self._wait(hang_s)
        with self._lock:
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                wait = faults.retry_after_s
                return _error(
                    429, f"Too Many Requests: retry after {wait}", parameters={"retry_after": wait}
                )
            if faults.failing > 0:
                faults.failing -= 1
                return _server_error(faults.fail_status)
        chat_id = _chat_id(params.get("chat_id"))
        text = params.get("text")
        if chat_id is None or chat_id == "":
            return _error(400, "Bad Request: chat_id is empty")
        if chat_id in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.unknown_chats or isinstance(chat_id, str):
            return _error(400, "Bad Request: chat not found")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        with self._lock:
            message_id = next(self._message_ids)
            self.sent.append(SentMessage(message_id, chat_id, text, params.get("reply_markup")))
        return _ok(
            {
                "message_id": message_id,
                "from": _bot_user(),
                "chat": {"id": chat_id, "type": "private", "first_name": "Sara"},
                "date": int(time.time()),
                "text": text,
            }
        )

    async def _set_webhook(self, params: dict[str, Any]) -> Response:
        url, secret = params.get("url", ""), params.get("secret_token")
        if url and not str(url).startswith(("https://", "http://")):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        with self._lock:
            self.webhook_url, self.webhook_secret = str(url), secret
        return _ok(True, description="Webhook was set" if url else "Webhook was deleted")

    async def _delete_webhook(self, params: dict[str, Any]) -> Response:
        with self._lock:
            self.webhook_url, self.webhook_secret = "", None
        return _ok(True, description="Webhook was deleted")

    async def _get_webhook_info(self, params: dict[str, Any]) -> Response:
        with self._lock:
            pending = len(self.updates)
            url = self.webhook_url
        return _ok({"url": url, "has_custom_certificate": False, "pending_update_count": pending})

    async def _get_updates(self, params: dict[str, Any]) -> Response:
        if self.webhook_url:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        with self._lock:
            # An offset confirms every update before it (Telegram forgets them).
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            batch = self.updates[:limit]
        return _ok(batch)

    async def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        # Polled, not an Event: the test thread sets _closing, not this loop.
        while time.monotonic() < deadline and not self._closing:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


_METHODS = {
    "getme": FakeTelegram._get_me,
    "sendmessage": FakeTelegram._send_message,
    "setwebhook": FakeTelegram._set_webhook,
    "deletewebhook": FakeTelegram._delete_webhook,
    "getwebhookinfo": FakeTelegram._get_webhook_info,
    "getupdates": FakeTelegram._get_updates,
}


async def _parameters(request: Request) -> dict[str, Any]:
    """Telegram takes query strings, forms and JSON bodies alike."""
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        if request.headers.get("content-type", "").startswith("application/json"):
            params.update(json.loads(await request.body() or b"{}"))
        else:
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in _JSON_PARAMS & params.keys():
        if isinstance(params[name], str):
            params[name] = json.loads(params[name])
    return params


def _chat_id(value: object) -> int | str | None:
    if isinstance(value, int) or value is None:
        return value
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text


def _bot_user() -> dict[str, Any]:
    return {"id": BOT_ID, "is_bot": True, "first_name": "Mallnet", "username": BOT_USERNAME}


def _ok(result: Any, description: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return JSONResponse(body)


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=code)


def _server_error(status: int) -> Response:
    if status == 502:
        # What the front proxy says when the API behind it is down: HTML, not JSON.
        page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        return Response(page, status_code=502, media_type="text/html")
    return _error(status, "Internal Server Error")


async def _not_found(request: Request) -> Response:
    return _error(404, "Not Found")


# -------------------------------------------------------------------- webhook updates

_update_ids = itertools.count(100_000)


def push_update(
    webhook_url: str, secret: str | None, update: dict[str, Any], timeout_s: float = 10.0
) -> httpx.Response:
    """POST ``update`` to a webhook as Telegram does (JSON, the secret header when set)."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return httpx.post(webhook_url, json=update, headers=headers, timeout=timeout_s)


def message_update(
    chat_id: int, *, user_id: int | None = None, language_code: str | None = None, **fields: Any
) -> dict[str, Any]:
    """An Update with a private-chat message from ``user_id`` (by default the chat's own
    person: in a private chat the chat id is the user id)."""
    sender: dict[str, Any] = {"id": user_id or chat_id, "is_bot": False, "first_name": "Sara"}
    if language_code is not None:
        sender["language_code"] = language_code
    message = {
        "message_id": next(_update_ids),
        "from": sender,
        "chat": {"id": chat_id, "type": "private", "first_name": "Sara"},
        "date": int(time.time()),
        **fields,
    }
    return {"update_id": next(_update_ids), "message": message}


def start_update(
    chat_id: int, code: str | None = None, *, user_id: int | None = None, language_code: str = "fa"
) -> dict[str, Any]:
    """/start as a deep link sends it: ``/start <code>``, a bot_command entity first."""
    text = "/start" if code is None else f"/start {code}"
    return message_update(
        chat_id,
        user_id=user_id,
        language_code=language_code,
        text=text,
        entities=[{"type": "bot_command", "offset": 0, "length": 6}],
    )


def stop_update(chat_id: int) -> dict[str, Any]:
    return message_update(
        chat_id, text="/stop", entities=[{"type": "bot_command", "offset": 0, "length": 5}]
    )


def text_update(chat_id: int, text: str) -> dict[str, Any]:
    return message_update(chat_id, text=text)


def contact_update(
    chat_id: int,
    phone: str,
    *,
    contact_user_id: int | None = None,
    own: bool = True,
    user_id: int | None = None,
) -> dict[str, Any]:
    """A shared contact. ``own`` (the contact button) sets the card's user_id to the
    sender's; otherwise it is ``contact_user_id`` (someone else's card, or None: a phonebook
    entry that is no Telegram user)."""
    sender_id = user_id or chat_id
    contact: dict[str, Any] = {"phone_number": phone, "first_name": "Sara"}
    owner = sender_id if own else contact_user_id
    if owner is not None:
        contact["user_id"] = owner
    return message_update(chat_id, user_id=sender_id, contact=contact)


def blocked_update(chat_id: int) -> dict[str, Any]:
    """my_chat_member: the person blocked the bot."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Sara"}
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private", "first_name": "Sara"},
            "from": person,
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": _bot_user()},
            "new_chat_member": {"status": "kicked", "user": _bot_user(), "until_date": 0},
        },
    }
