"""A fake Kavenegar: a real HTTP server speaking api.kavenegar.com's shapes, for tests.

It runs in a thread of the test process on a free loopback port (``tests/live_server.py``),
so anything that speaks HTTP can use it: the channel in a unit test, or a hub or a worker
started as a separate process and handed :attr:`FakeKavenegar.url` as its Kavenegar base
URL. The test drives it from its own thread: it reads what was sent
(:attr:`~FakeKavenegar.messages`, :attr:`~FakeKavenegar.calls`), sets delivery reports
(:attr:`~FakeKavenegar.delivery`), fills the inbox (:meth:`~FakeKavenegar.add_inbound`)
and throws faults (:meth:`~FakeKavenegar.fail_next`, :meth:`~FakeKavenegar.hang_next`,
:meth:`~FakeKavenegar.stall_after_accept`).

The shapes are those :mod:`mallnet.messaging.kavenegar` documents: ``/v1/{key}/sms/
{method}.json``, a ``return`` object and ``entries``, errors answered with the HTTP status
equal to ``return.status``. It is stricter than Kavenegar in one way on purpose: a
receptor must be in the local ``09…`` form, so a client that sends E.164 is caught.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..live_server import LiveServer

API_KEY = "fake-kavenegar-key-5A3F2B7C9D1E4F60"
SERVICE_LINE = "10004346"
PROMOTIONAL_LINE = "30004505"

# return.status messages as Kavenegar words them.
MESSAGES = {
    200: "تایید شد",
    400: "پارامترها ناقص هستند",
    401: "حساب کاربری غیرفعال شده است",
    403: "کد شناسائی API-Key معتبر نمی‌باشد",
    404: "متد نامشخص است",
    407: "دسترسی به اطلاعات مورد نظر برای شما امکان پذیر نیست",
    409: "سرور قادر به پاسخگوئی نیست بعدا تلاش کنید",
    411: "دریافت کننده نامعتبر است",
    412: "ارسال کننده نامعتبر است",
    413: "پیام خالی است و یا طول پیام بیش از حد مجاز می‌باشد",
    414: "حجم درخواست بیشتر از حد مجاز است",
    418: "اعتبار شما کافی نمی‌باشد",
    420: "استفاده از لینک در متن پیام برای شما محدود شده است",
    422: "داده ها به دلیل وجود کاراکتر نامناسب قابل پردازش نیست",
    451: "فراخوانی بیش از حد در بازه زمانی مشخص IP محدود شده",
    501: "فقط امکان ارسال پیام تست به شماره صاحب حساب کاربری وجود دارد",
}
STATUS_TEXTS = {
    1: "در صف ارسال",
    2: "زمان بندی شده",
    4: "ارسال شده به مخابرات",
    5: "ارسال شده به مخابرات",
    6: "خطا در ارسال پیام",
    10: "رسیده به گیرنده",
    11: "نرسیده به گیرنده",
    13: "لغو شده",
    14: "بلاک شده",
    100: "شناسه نامعتبر",
}
_LOCAL_MOBILE = re.compile(r"09[0-9]{9}")
_GATEWAY_ERROR = "<html><body><h1>{code}</h1>upstream error</body></html>"


@dataclass
class FakeSms:
    """A message the fake accepted (once per localid)."""

    messageid: str
    receptor: str
    sender: str
    message: str
    localid: str | None
    status: int  # what sms/send answered: 1 queued, 14 blocked
    cost_rial: int
    date: int


@dataclass(frozen=True)
class FakeCall:
    """One request as it arrived (the API key left out) and the status it was answered."""

    method: str  # "sms/send", "sms/status", "sms/receive"
    params: dict[str, str]
    answered: int


@dataclass
class _Fault:
    kind: str  # "code", "hang" or "stall"
    code: int = 500
    body: str | None = None
    seconds: float = 0.0
    accepted: threading.Event | None = None


class FakeKavenegar:
    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        lines: tuple[str, ...] = (SERVICE_LINE, PROMOTIONAL_LINE),
        cost_rial: int = 1_200,
        max_message_chars: int = 900,
        first_message_id: int = 8_792_343,
    ) -> None:
        self.api_key = api_key
        self.lines = set(lines)
        self.default_line = lines[0]
        self.cost_rial = cost_rial
        self.max_message_chars = max_message_chars
        self._first_id = first_message_id
        self.url = ""
        self.app = Starlette(
            routes=[Route("/v1/{key}/{group}/{action}", self._handle, methods=["GET", "POST"])],
            lifespan=self._lifespan,
        )
        self._server: LiveServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.reset()

    # -- what a test sets and reads ------------------------------------------------------

    def reset(self) -> None:
        """Forget everything and release whatever hangs, for the next test."""
        self._release_waiters()
        with self._lock:
            self.messages: list[FakeSms] = []
            self.calls: list[FakeCall] = []
            # messageid -> state sms/status answers; a message not in it reads
            # ``delivered_status`` (or its send state when that refused it).
            self.delivery: dict[str, int] = {}
            self.delivered_status = 10
            # Unknown ids answer 100, as Kavenegar does; True leaves them out instead.
            self.omit_unknown_ids = False
            self.blocked_receptors: set[str] = set()
            self._inbox: dict[str, list[dict[str, Any]]] = {}
            self._by_localid: dict[str, FakeSms] = {}
            self._faults: deque[_Fault] = deque()
            self._ids = itertools.count(self._first_id)
            self._release = asyncio.Event()

    def fail_next(self, count: int = 1, *, code: int = 500, body: str | None = None) -> None:
        """The next ``count`` requests answer ``code``: Kavenegar's JSON error for the codes
        it documents, else (5xx, or any code given a ``body``) a non-JSON page, as a proxy
        or load balancer would. ``code=200`` with no body gives a 200 that is not JSON."""
        with self._lock:
            self._faults.extend(_Fault("code", code=code, body=body) for _ in range(count))

    def hang_next(self, count: int = 1, *, seconds: float = 5.0) -> None:
        """The next ``count`` requests wait ``seconds`` before being handled at all (then
        handled normally, as a slow Kavenegar would; released early by reset/close, they
        answer 503 and change nothing)."""
        with self._lock:
            self._faults.extend(_Fault("hang", seconds=seconds) for _ in range(count))

    def stall_after_accept(self, *, seconds: float = 30.0) -> threading.Event:
        """The next request is handled (an sms/send records its message), then the reply
        waits ``seconds``. The returned event is set once the message is recorded: the
        moment to kill the worker that is waiting for the reply."""
        accepted = threading.Event()
        with self._lock:
            self._faults.append(_Fault("stall", seconds=seconds, accepted=accepted))
        return accepted

    def add_inbound(self, line: str, sender: str, text: str) -> str:
        """An SMS a person sent to ``line``; sms/receive hands it out once. Returns its id."""
        with self._lock:
            messageid = str(next(self._ids))
            self._inbox.setdefault(line, []).append(
                {
                    "messageid": int(messageid),
                    "message": text,
                    "sender": sender,
                    "receptor": line,
                    "date": int(time.time()),
                }
            )
        return messageid

    def sent_to(self, receptor: str) -> list[FakeSms]:
        return [sms for sms in self.messages if sms.receptor == receptor]

    # -- the server ----------------------------------------------------------------------

    def __enter__(self) -> FakeKavenegar:
        self._server = LiveServer(self.app).__enter__()
        self.url = self._server.url
        return self

    def __exit__(self, *exc: object) -> None:
        self._release_waiters()
        if self._server is not None:
            self._server.__exit__(*exc)
            self._server = None

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        yield
        self._loop = None

    def _release_waiters(self) -> None:
        release = getattr(self, "_release", None)
        if release is not None and self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(release.set)

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True when reset or close cut it short."""
        try:
            await asyncio.wait_for(self._release.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _handle(self, request: Request) -> Response:
        method = f"{request.path_params['group']}/{request.path_params['action']}"
        method = method.removesuffix(".json")
        params = dict(request.query_params)
        if request.method == "POST":
            body = (await request.body()).decode("utf-8")
            params.update(parse_qsl(body, keep_blank_values=True))
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.kind == "code":
            return self._record(method, params, self._fault_reply(fault))
        if fault is not None and fault.kind == "hang" and await self._wait(fault.seconds):
            return self._record(method, params, self._reply(503, http_only=True))
        if request.path_params["key"] != self.api_key:
            reply = self._reply(403)
        elif method == "sms/send":
            reply = self._send(params)
        elif method == "sms/status":
            reply = self._status(params)
        elif method == "sms/receive":
            reply = self._receive(params)
        else:
            reply = self._reply(404)
        if fault is not None and fault.kind == "stall":
            assert fault.accepted is not None
            fault.accepted.set()
            await self._wait(fault.seconds)
        return self._record(method, params, reply)

    def _record(self, method: str, params: dict[str, str], reply: Response) -> Response:
        self.calls.append(FakeCall(method, params, reply.status_code))
        return reply

    def _reply(self, code: int, entries: Any = None, *, http_only: bool = False) -> Response:
        if http_only:
            return Response(_GATEWAY_ERROR.format(code=code), code, media_type="text/html")
        answer = {"return": {"status": code, "message": MESSAGES.get(code, "")}}
        return JSONResponse({**answer, "entries": entries}, status_code=code)

    def _fault_reply(self, fault: _Fault) -> Response:
        json_error = fault.body is None and fault.code in MESSAGES and fault.code != 200
        if json_error:
            return self._reply(fault.code)
        body = fault.body if fault.body is not None else _GATEWAY_ERROR.format(code=fault.code)
        return Response(body, fault.code, media_type="text/html")

    # -- the methods -------------------------------------------------------------------

    def _send(self, params: dict[str, str]) -> Response:
        receptors = [r.strip() for r in params.get("receptor", "").split(",") if r.strip()]
        if not receptors or not all(_LOCAL_MOBILE.fullmatch(r) for r in receptors):
            return self._reply(411)
        sender = params.get("sender") or self.default_line
        if sender not in self.lines:
            return self._reply(412)
        message = params.get("message", "")
        if not message.strip() or len(message) > self.max_message_chars:
            return self._reply(413)
        localids: list[str | None] = [None] * len(receptors)
        if params.get("localid"):
            localids = [i.strip() for i in params["localid"].split(",")]
            if len(localids) != len(receptors):
                return self._reply(400)
        entries = []
        with self._lock:
            for receptor, localid in zip(receptors, localids, strict=True):
                sms = self._by_localid.get(localid) if localid else None
                if sms is None:  # a repeated localid sends nothing: the earlier entry
                    sms = FakeSms(
                        messageid=str(next(self._ids)),
                        receptor=receptor,
                        sender=sender,
                        message=message,
                        localid=localid,
                        status=14 if receptor in self.blocked_receptors else 1,
                        cost_rial=self.cost_rial,
                        date=int(time.time()),
                    )
                    self.messages.append(sms)
                    if localid:
                        self._by_localid[localid] = sms
                entries.append(_entry(sms))
        return self._reply(200, entries)

    def _status(self, params: dict[str, str]) -> Response:
        ids = [i.strip() for i in params.get("messageid", "").split(",") if i.strip()]
        if not ids:
            return self._reply(400)
        if len(ids) > 500:
            return self._reply(414)
        known = {sms.messageid: sms for sms in self.messages}
        entries = []
        for messageid in ids:
            sms = known.get(messageid)
            if sms is None and self.omit_unknown_ids:
                continue
            if sms is None:
                status = 100
            else:
                default = self.delivered_status if sms.status == 1 else sms.status
                status = self.delivery.get(messageid, default)
            entries.append(
                {
                    "messageid": int(messageid) if messageid.isdigit() else messageid,
                    "status": status,
                    "statustext": STATUS_TEXTS.get(status, ""),
                }
            )
        return self._reply(200, entries)

    def _receive(self, params: dict[str, str]) -> Response:
        line = params.get("linenumber", "")
        if not line or params.get("isread") not in {"0", "1"}:
            return self._reply(400)
        if line not in self.lines:
            return self._reply(407)
        if params["isread"] == "1":  # the fake keeps no read messages
            return self._reply(200, [])
        with self._lock:
            unread = self._inbox.get(line, [])
            page, self._inbox[line] = unread[:100], unread[100:]
        return self._reply(200, page)


def _entry(sms: FakeSms) -> dict[str, Any]:
    return {
        "messageid": int(sms.messageid),
        "message": sms.message,
        "status": sms.status,
        "statustext": STATUS_TEXTS[sms.status],
        "sender": sms.sender,
        "receptor": sms.receptor,
        "date": sms.date,
        "cost": sms.cost_rial,
    }
