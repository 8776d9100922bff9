"""What every channel that carries a message to a person does: one interface, typed outcomes.

A channel is an SMS provider's line, a Telegram bot, or the embedded file. The dispatcher
(``mallnet.messaging.dispatch``) hands it one :class:`Outgoing` at a time and records what
came back: a :class:`Receipt`, or a :class:`TemporaryFailure` (tried again later, with
backoff) or a :class:`PermanentFailure` (never tried again; its reason is shown in the
delivery log). A channel never raises anything else for a provider's answer: a timeout, a
refused connection and a 5xx are temporary; a malformed reply is temporary too (the
provider may be mid-deploy), and everything the provider says is wrong with the request
itself is permanent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Line = Literal["service", "promotional"]
# What the provider last said about a message it accepted.
Delivery = Literal["sent", "delivered", "failed"]


@dataclass(frozen=True)
class Outgoing:
    """One message to one recipient."""

    # The message's idempotency key, unique in the database that holds it; ``origin``
    # names that database ("hub" or the shop's slug), so (origin, key) is unique across the
    # network — two nodes sharing the mall's SMS account never collide.
    origin: str
    key: str
    # E.164 phone for SMS, chat id for Telegram.
    to: str
    text: str
    line: Line
    kind: str

    def provider_key(self) -> int:
        """A positive 63-bit number naming this message at the provider (Kavenegar's
        ``localid``): the same for every attempt, so a provider that drops repeats of a
        key sends it once however many times a worker dies mid-send."""
        digest = hashlib.sha256(f"{self.origin}\x00{self.key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1 or 1


@dataclass(frozen=True)
class Receipt:
    """The provider accepted the message."""

    provider_id: str | None
    # What it costs, in Rial, when the provider says (Kavenegar's ``cost`` is in Rial).
    cost_rial: int | None = None
    # Delivered already (the file channel, Telegram: a sent message is delivered).
    delivered: bool = False


@dataclass(frozen=True)
class Status:
    """A delivery report for one message the provider accepted."""

    state: Delivery
    # The provider's own words for it (e.g. Kavenegar's ``statustext``), for the log.
    detail: str = ""


class ChannelFailure(Exception):
    """The provider did not take the message."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.code = code


class TemporaryFailure(ChannelFailure):
    """Try again later: a timeout, a 5xx, a rate limit, the provider's own "try later".
    ``retry_after_s`` is the provider's hint, when it gives one. ``maybe_sent``: the
    request had left when it failed (no answer in time, an answer that could not be read),
    so the provider may have taken the message — sending it again is safe only where the
    provider drops a repeat."""

    def __init__(
        self,
        reason: str,
        *,
        code: str | None = None,
        retry_after_s: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(reason, code=code)
        self.retry_after_s = retry_after_s
        self.maybe_sent = maybe_sent


class PermanentFailure(ChannelFailure):
    """Never try again: a bad number, a blocked recipient, no credit, a wrong API key."""


class Channel(Protocol):
    # "sms" or "telegram": which address of a person it needs.
    @property
    def medium(self) -> str: ...

    # "file", "kavenegar", "telegram": the name rate limits and the log use.
    @property
    def provider(self) -> str: ...

    # True when the provider itself drops a repeat of ``Outgoing.provider_key()``, so a
    # message whose worker died mid-send may safely be sent again; False when a second
    # attempt could reach the person twice (then the message is marked "unknown").
    @property
    def drops_repeats(self) -> bool: ...

    async def send(self, message: Outgoing) -> Receipt: ...

    async def statuses(self, provider_ids: Sequence[str]) -> Mapping[str, Status]:
        """Delivery reports for messages it accepted (ids it does not know are left out)."""
        ...
