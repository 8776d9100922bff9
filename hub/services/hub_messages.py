"""The hub's own messages in its delivery log: sign-in and redemption codes, lottery wins.

These go at once, from the request or task that makes them (a code cannot wait for a
queue), through the service line; each is then written to the hub's ``messages`` table
with its fate, so mall management sees what the hub sent and what it cost. A one-time
code is never written there in clear (``mask_codes``), in development either: the outbox
file is where a developer reads codes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import Message
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.messaging import CODE_KINDS, Sender, mask_codes
from mallnet.messaging.channels import ChannelFailure
from mallnet.messaging.dispatch import estimate_rial
from mallnet.messaging.setup import sender_for

# A lottery win carries the prize's claim code: masked in the log like the one-time codes.
MASKED = CODE_KINDS | {"lottery_win"}


@dataclass
class LoggedSender:
    """Sends through ``sender`` and records each message and its outcome."""

    sender: Sender
    sessions: async_sessionmaker[AsyncSession]
    provider: str
    part_price_rial: int
    clock: Callable[[], dt.datetime] = utcnow
    # Kept until :meth:`record` instead of written at once: for a caller inside its own
    # transaction (the sign-in code's), which on SQLite holds the only write lock.
    deferred: bool = False
    pending: list[Message] = field(default_factory=list)

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        failure: ChannelFailure | None = None
        try:
            await self.sender.send_sms(phone, text, kind=kind)
        except ChannelFailure as exc:
            failure = exc
        now = self.clock()
        parts, cost = estimate_rial(text, self.part_price_rial)
        row = Message(
            idempotency_key=f"hub:{kind}:{secrets.token_hex(12)}",
            kind=kind,
            medium="sms",
            line="service",
            recipient=phone,
            lang="fa",
            text=mask_codes(text) if kind in MASKED else text,
            parts=parts,
            cost_rial=cost,
            status="failed" if failure else ("delivered" if self.provider == "file" else "sent"),
            reason=None if failure is None else failure.reason,
            attempts=1,
            not_before=now,
            provider=self.provider,
            created_at=now,
            sent_at=None if failure else now,
            settled_at=now if failure or self.provider == "file" else None,
        )
        self.pending.append(row)
        if not self.deferred:
            await self.record()
        if failure is not None:
            raise failure

    async def record(self) -> None:
        """Write what was sent since the last call."""
        rows, self.pending = self.pending, []
        if rows:
            async with self.sessions() as session, session.begin():
                session.add_all(rows)


def hub_sender(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], *, deferred: bool = False
) -> LoggedSender:
    """What sends the hub's codes and wins now, logging each in the hub's delivery log."""
    return LoggedSender(
        sender_for(settings),
        sessions,
        provider=settings.sms_provider,
        part_price_rial=settings.sms_part_price_rial,
        deferred=deferred,
    )
