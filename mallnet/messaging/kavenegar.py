"""The SMS channel over Kavenegar's REST API (api.kavenegar.com), with httpx.

Kavenegar's own SDKs are stale (FACTS.md), so this module speaks the documented REST API
directly. What it relies on, and where each fact was read:

- Every call is ``POST {base}/v1/{api_key}/{group}/{method}.json`` with a form body, and
  every reply is ``{"return": {"status": int, "message": str}, "entries": ...}``; on an
  error the HTTP status is not 200 and the body still carries ``return`` (the Go and PHP
  SDKs read it from non-200 replies): KaveNegar/kavenegar-go ``client.go``,
  ``message_send.go``, ``message_status.go``, ``message_receive.go``;
  KaveNegar/kavenegar-php ``src/KavenegarApi.php``; KaveNegar/kavenegar-python
  ``kavenegar.py``.
- The ``return.status`` codes and their Persian messages (401 account disabled, 403 bad
  API key, 409 "server cannot answer, try later", 418 not enough credit, 451 too many
  calls, 501 test account...): FardaDev/kavenegar-for-laravel
  ``src/Enums/ApiErrorCodeEnum.php``, which cites kavenegar.com/rest.html#result-general.
- Message states 1, 2, 4, 5, 6, 10, 11, 13, 14, 100: the same package's
  ``MessageStatusEnum.php`` and KaveNegar/kavenegar-dotnet ``Models/Enums/MessageStatus.cs``
  (which lacks 6). ``sms/status.json`` takes at most 500 ids and only knows the last 48
  hours: older or foreign ids come back as 100. ``sms/receive.json`` returns at most 100
  messages and marks those it returns as read (amircloner/kavenegar-node ``README.md``, a
  fork of Kavenegar's Node SDK carrying the updated documentation).
- ``localid``: the same README's table for ``sms/send`` says a repeated localid is not sent
  again ("در صورت تکرار، ارسال مجدد انجام نمی‌شود"), and its notes for ``sms/sendarray`` add
  that the earlier record is returned instead ("همان رکورد بازگردانده می‌شود"). That is what
  makes :attr:`KavenegarChannel.drops_repeats` true: every attempt of one message carries
  the same ``Outgoing.provider_key()``. Not confirmed from kavenegar.com itself, nor how
  long Kavenegar remembers a localid (``statuslocalmessageid`` only finds 12 hours).
- The fields Kavenegar forwards an inbound SMS with (``messageid``, ``from``, ``to``,
  ``message``) were not found in any source read; :func:`parse_inbound` assumes them.

The API key is part of every URL, so it must never reach an exception or a log line:
failures are raised afresh with the key taken out, and httpx's own request log line is
filtered (see :func:`_hide_in_httpx_log`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from mallnet.digits import normalize_digits
from mallnet.messaging.channels import (
    ChannelFailure,
    Delivery,
    Line,
    Outgoing,
    PermanentFailure,
    Receipt,
    Status,
    TemporaryFailure,
)
from mallnet.phone import InvalidPhone, local_format, normalize_mobile

__all__ = [
    "DEFAULT_BASE_URL",
    "Inbound",
    "KavenegarChannel",
    "KavenegarClient",
    "SentEntry",
    "StatusEntry",
    "parse_inbound",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.kavenegar.com"
STATUS_BATCH: Final = 500  # ids per sms/status.json call, Kavenegar's limit
RECEIVE_PAGE: Final = 100  # messages per sms/receive.json reply, Kavenegar's limit
# Enough to drain a busy line in one poll without looping forever on a broken reply.
RECEIVE_MAX_PAGES: Final = 20

# return.status codes, in English for the delivery log (the provider's Persian goes along).
_REASONS: Final[Mapping[int, str]] = {
    400: "parameters incomplete",
    401: "account disabled",
    402: "operation failed",
    403: "API key not valid",
    404: "unknown method",
    405: "wrong HTTP method",
    406: "required parameters empty",
    407: "access to this data denied",
    409: "server cannot answer now",
    411: "receptor not valid",
    412: "sender line not valid",
    413: "message empty or too long",
    414: "request too large",
    415: "start index too large",
    416: "source IP does not match the account's settings",
    417: "send date not valid",
    418: "not enough credit",
    419: "array lengths differ",
    420: "links in messages are not allowed for this account",
    422: "data has characters that cannot be processed",
    424: "template not found",
    426: "method needs the advanced service",
    427: "line needs an access level",
    428: "code cannot be sent by voice call",
    429: "IP restricted",
    431: "code structure not valid",
    432: "code parameter not found in the message",
    451: "too many calls in a short time",
    501: "test account can only send to its owner's number",
    607: "tag name not valid",
}
# Kavenegar's own "try later" answers; every other 4xx is about the request or account.
_TEMPORARY_STATUSES: Final = frozenset({409, 451})

# Message states (sms/send and sms/status entries).
_DELIVERY: Final[Mapping[int, Delivery]] = {
    1: "sent",  # queued
    2: "sent",  # scheduled
    4: "sent",  # handed to the telecom
    5: "sent",  # handed to the telecom
    10: "delivered",
    6: "failed",
    11: "failed",  # undelivered
    13: "failed",  # cancelled
    14: "failed",  # blocked (the recipient's black list)
    100: "failed",  # unknown id, or older than 48 hours
}
_REFUSED_ENTRY: Final[Mapping[int, str]] = {
    6: "sending failed",
    11: "not delivered",
    13: "cancelled",
    14: "recipient blocks messages (black list)",
    100: "message id not valid",
}


@dataclass(frozen=True)
class SentEntry:
    """One entry of an ``sms/send`` reply."""

    messageid: str
    status: int
    statustext: str
    cost_rial: int | None


@dataclass(frozen=True)
class StatusEntry:
    """One entry of an ``sms/status`` reply."""

    messageid: str
    status: int
    statustext: str


@dataclass(frozen=True)
class Inbound:
    """An SMS a person sent to one of our lines."""

    provider_id: str
    from_phone: str  # E.164
    to_line: str
    text: str


class KavenegarClient:
    """The three REST calls the channel needs, each answer typed or a ChannelFailure.

    Without an injected ``client`` or ``transport``, every call opens its own
    ``httpx.AsyncClient``: Celery tasks run each job in a fresh ``asyncio.run``, and a
    pooled connection left from a closed loop breaks the next call (FACTS.md, SQLAlchemy).
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not api_key or "/" in api_key:
            raise ValueError("Kavenegar API key is empty or not a single path segment")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._owns_client = client is None and transport is not None
        self._client = client or (
            httpx.AsyncClient(transport=transport, timeout=timeout_s) if transport else None
        )
        _hide_in_httpx_log(api_key)

    def __repr__(self) -> str:
        return f"KavenegarClient(base_url={self._base_url!r})"

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()

    async def send(self, *, receptor: str, message: str, sender: str, localid: str) -> SentEntry:
        entries = await self._call(
            "sms/send",
            {"receptor": receptor, "message": message, "sender": sender, "localid": localid},
        )
        first = _first(entries)
        if first is None:
            # Accepted or not, we cannot tell; the localid makes a retry safe.
            raise TemporaryFailure("Kavenegar sms/send answered 200 without an entry")
        entry = _sent_entry(first)
        if entry is None:
            raise TemporaryFailure("Kavenegar sms/send answered an entry without a messageid")
        return entry

    async def status(self, message_ids: Sequence[str]) -> list[StatusEntry]:
        if len(message_ids) > STATUS_BATCH:
            raise ValueError(f"at most {STATUS_BATCH} ids per sms/status call")
        entries = await self._call("sms/status", {"messageid": ",".join(message_ids)})
        found = [_status_entry(raw) for raw in _as_list(entries)]
        return [entry for entry in found if entry is not None]

    async def receive(self, linenumber: str) -> list[Mapping[str, Any]]:
        entries = await self._call("sms/receive", {"linenumber": linenumber, "isread": "0"})
        return [raw for raw in _as_list(entries) if isinstance(raw, Mapping)]

    async def _call(self, path: str, form: Mapping[str, str]) -> Any:
        url = f"{self._base_url}/v1/{self._api_key}/{path}.json"
        failure: ChannelFailure | None = None
        response: httpx.Response | None = None
        try:
            # One deadline for the whole call: httpx's timeouts are per read, and a server
            # trickling bytes would otherwise hold a worker far longer.
            async with asyncio.timeout(self._timeout_s):
                response = await self._post(url, form)
        except TimeoutError:
            failure = TemporaryFailure(
                f"Kavenegar {path} did not answer within {self._timeout_s:g} s", code="timeout"
            )
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            failure = TemporaryFailure(
                f"Kavenegar {path} could not be reached: {type(exc).__name__}: "
                f"{self._redact(str(exc))[:120]}",
                code="network",
            )
        # Raised out here, not in the except blocks: the httpx error (whose request holds
        # the URL, key and all) must not ride along as __context__ into tracebacks.
        if failure is not None:
            raise failure
        assert response is not None
        return self._entries(path, response)

    async def _post(self, url: str, form: Mapping[str, str]) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if self._client is not None:
            return await self._client.post(url, data=dict(form), headers=headers)
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            return await client.post(url, data=dict(form), headers=headers)

    def _entries(self, path: str, response: httpx.Response) -> Any:
        retry_after_s = _retry_after(response.headers.get("retry-after"))
        try:
            body = response.json()
        except ValueError:
            body = None
        answer = body.get("return") if isinstance(body, dict) else None
        status = _as_int(answer.get("status")) if isinstance(answer, dict) else None
        if status is None or not isinstance(answer, dict) or not isinstance(body, dict):
            # Not Kavenegar speaking: a proxy, a load balancer, a deploy in progress.
            raise TemporaryFailure(
                f"Kavenegar {path} answered HTTP {response.status_code} without its JSON reply",
                code=f"http-{response.status_code}",
                retry_after_s=retry_after_s,
            )
        if status == 200:
            return body.get("entries")
        said = answer.get("message")
        said = self._redact(said.strip())[:120] if isinstance(said, str) else ""
        reason = f"Kavenegar {path} refused: {_REASONS.get(status, 'undocumented status')}"
        reason += f" (status {status}" + (f", «{said}»)" if said else ")")
        if status in _TEMPORARY_STATUSES or (status >= 500 and status != 501):
            raise TemporaryFailure(reason, code=str(status), retry_after_s=retry_after_s)
        if 400 <= status < 500 or status in _REASONS:
            raise PermanentFailure(reason, code=str(status))
        raise TemporaryFailure(reason, code=str(status), retry_after_s=retry_after_s)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***")


class KavenegarChannel:
    """SMS through Kavenegar: one line for service messages, one for promotions."""

    def __init__(
        self,
        api_key: str,
        *,
        service_line: str,
        promotional_line: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        for name, number in (
            ("service_line", service_line),
            ("promotional_line", promotional_line),
        ):
            if not number or not number.isascii() or not number.isdigit():
                raise ValueError(f"{name} must be a Kavenegar line number (digits), got {number!r}")
        self._lines: dict[Line, str] = {"service": service_line, "promotional": promotional_line}
        self.client = KavenegarClient(
            api_key, base_url=base_url, timeout_s=timeout_s, client=client, transport=transport
        )

    def __repr__(self) -> str:
        return f"KavenegarChannel(lines={self._lines!r}, client={self.client!r})"

    @property
    def medium(self) -> str:
        return "sms"

    @property
    def provider(self) -> str:
        return "kavenegar"

    @property
    def drops_repeats(self) -> bool:
        return True

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(self, message: Outgoing) -> Receipt:
        try:
            receptor = local_format(message.to)
        except InvalidPhone:
            # The number itself stays out of the reason: the delivery log is read by staff.
            raise PermanentFailure(
                "recipient is not a normalised Iranian mobile number", code="invalid-phone"
            ) from None
        entry = await self.client.send(
            receptor=receptor,
            message=message.text,
            sender=self._lines[message.line],
            localid=str(message.provider_key()),
        )
        refused = _REFUSED_ENTRY.get(entry.status)
        if refused is not None:
            raise PermanentFailure(
                f"Kavenegar did not send the message: {refused} "
                f"(status {entry.status}, «{entry.statustext[:80]}»)",
                code=f"entry-{entry.status}",
            )
        return Receipt(provider_id=entry.messageid, cost_rial=entry.cost_rial)

    async def statuses(self, provider_ids: Sequence[str]) -> Mapping[str, Status]:
        # Kavenegar's ids are numbers; anything else would spoil the whole batch.
        wanted = [i for i in dict.fromkeys(provider_ids) if i.isascii() and i.isdigit()]
        found: dict[str, Status] = {}
        for start in range(0, len(wanted), STATUS_BATCH):
            batch = wanted[start : start + STATUS_BATCH]
            asked = set(batch)
            for entry in await self.client.status(batch):
                state = _DELIVERY.get(entry.status)
                if entry.messageid in asked and state is not None:
                    found[entry.messageid] = Status(state, detail=entry.statustext)
        return found

    async def receive(self, line: Line = "service") -> list[Inbound]:
        """Unread messages to one of our lines (the polling alternative to forwarding).
        Kavenegar marks what it returns as read: a caller that crashes before storing them
        loses them, so store first and poll again."""
        received: list[Inbound] = []
        for _ in range(RECEIVE_MAX_PAGES):
            page = await self.client.receive(self._lines[line])
            for raw in page:
                fields = {
                    "messageid": raw.get("messageid"),
                    "from": raw.get("sender"),
                    "to": raw.get("receptor"),
                    "message": raw.get("message"),
                }
                inbound = parse_inbound({k: str(v) for k, v in fields.items() if v is not None})
                if inbound is None:
                    log.warning(
                        "Kavenegar inbound message %s skipped: bad fields", fields["messageid"]
                    )
                else:
                    received.append(inbound)
            if len(page) < RECEIVE_PAGE:
                break
        return received


def parse_inbound(fields: Mapping[str, str]) -> Inbound | None:
    """An inbound SMS from Kavenegar's forwarding call (GET query or POST form), or None
    when a field is missing or the sender is not an Iranian mobile number."""
    values: dict[str, str] = {}
    for name in ("messageid", "from", "to", "message"):
        value = fields.get(name)
        if not isinstance(value, str):
            return None
        values[name] = value
    provider_id = normalize_digits(values["messageid"].strip())
    to_line = normalize_digits(values["to"].strip())
    if not provider_id or not to_line:
        return None
    try:
        from_phone = normalize_mobile(values["from"])
    except InvalidPhone:
        return None
    return Inbound(provider_id, from_phone, to_line, values["message"])


class _RedactKeys(logging.Filter):
    """httpx logs every request's URL at INFO, and Kavenegar's URL holds the API key."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(key in text for key in self.keys):
            for key in self.keys:
                text = text.replace(key, "***")
            record.msg, record.args = text, None
        return True


_HTTPX_LOG_FILTER = _RedactKeys()


def _hide_in_httpx_log(api_key: str) -> None:
    httpx_log = logging.getLogger("httpx")
    if _HTTPX_LOG_FILTER not in httpx_log.filters:
        httpx_log.addFilter(_HTTPX_LOG_FILTER)
    _HTTPX_LOG_FILTER.keys.add(api_key)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _as_id(value: object) -> str | None:
    number = _as_int(value)
    return str(number) if number is not None else None


def _as_list(entries: object) -> list[Any]:
    if isinstance(entries, list):
        return entries
    return [entries] if isinstance(entries, Mapping) else []


def _first(entries: object) -> Mapping[str, Any] | None:
    items = _as_list(entries)
    return items[0] if items and isinstance(items[0], Mapping) else None


def _sent_entry(raw: Mapping[str, Any]) -> SentEntry | None:
    messageid = _as_id(raw.get("messageid"))
    if messageid is None:
        return None
    status = _as_int(raw.get("status"))
    text = raw.get("statustext")
    # A missing state means nothing refused: take it as queued (1).
    return SentEntry(
        messageid,
        1 if status is None else status,
        text if isinstance(text, str) else "",
        _as_int(raw.get("cost")),
    )


def _status_entry(raw: object) -> StatusEntry | None:
    if not isinstance(raw, Mapping):
        return None
    messageid, status = _as_id(raw.get("messageid")), _as_int(raw.get("status"))
    if messageid is None or status is None:
        return None
    text = raw.get("statustext")
    return StatusEntry(messageid, status, text if isinstance(text, str) else "")


def _retry_after(value: str | None) -> float | None:
    seconds = _as_int(value)
    return float(seconds) if seconds is not None else None
