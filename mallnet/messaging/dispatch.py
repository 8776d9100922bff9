"""Queue messages with the event that causes them, and send them after the commit.

``enqueue`` writes a ``messages`` row inside the caller's transaction, keyed by the event's
idempotency key: a retried request, a replayed command or a second worker adds nothing. A
Celery task then runs :meth:`Dispatcher.run_once` for the hub or a node: it takes the rows
that are due, sends each through its channel, and writes back the outcome.

What a worker that dies mid-send leaves behind is a row in ``sending`` whose lease has run
out. The next run takes it again. A provider that drops repeats of a message's key
(Kavenegar's ``localid``) gets the same key again and sends nothing new, so the person gets
one message. A channel that cannot (Telegram) is not tried again: the row becomes
``unknown``, because a second attempt could reach the person twice.

Temporary failures are retried with exponential backoff (or the provider's own hint) up to
``max_attempts``; permanent failures are not. Each provider has a send rate (``limits``, in
Redis when configured, so every worker shares it). Promotional messages are held through
the quiet hours and checked again against the person's consent just before they go out:
an opt-out arriving while a message waits stops it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mallnet.messaging import segments
from mallnet.messaging.channels import (
    Channel,
    Line,
    Outgoing,
    PermanentFailure,
    Receipt,
    TemporaryFailure,
)
from mallnet.messaging.log import MessageColumns
from mallnet.messaging.quiet import QuietHours
from mallnet.ratelimit import Limiter, Rule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """A message to queue: rendered, addressed, keyed by its event."""

    key: str
    kind: str
    medium: str
    line: Line
    recipient: str
    text: str
    lang: str = "fa"
    subject: str | None = None
    batch_id: str | None = None


def outcome_unknown(channel: Channel, failure: Exception) -> bool:
    """Whether ``failure`` leaves the message possibly sent on a channel that cannot drop a
    repeat: then it is not tried again."""
    return (
        isinstance(failure, TemporaryFailure) and failure.maybe_sent and not channel.drops_repeats
    )


def estimate_rial(text: str, part_price_rial: int) -> tuple[int, int]:
    """(parts, cost in Rial) of an SMS of ``text`` at ``part_price_rial`` a part."""
    counted = segments.count(text)
    return counted.parts, counted.parts * part_price_rial


async def enqueue(
    session: AsyncSession,
    model: type[MessageColumns],
    draft: Draft,
    *,
    now: dt.datetime,
    quiet: QuietHours,
    part_price_rial: int,
) -> bool:
    """Queue ``draft`` in the caller's transaction; False when its key is queued already.
    A promotional message made inside the quiet hours is held until they end."""
    parts, cost = estimate_rial(draft.text, part_price_rial)
    if draft.medium != "sms":
        cost = 0
    held = draft.line == "promotional" and quiet.is_quiet(now)
    values = {
        "idempotency_key": draft.key,
        "kind": draft.kind,
        "medium": draft.medium,
        "line": draft.line,
        "recipient": draft.recipient,
        "subject": draft.subject,
        "lang": draft.lang,
        "text": draft.text,
        "parts": parts,
        "cost_rial": cost,
        "status": "held" if held else "queued",
        "attempts": 0,
        "not_before": quiet.next_open(now) if held else now,
        "batch_id": draft.batch_id,
        "created_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model.__table__)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# Given the rows about to be sent, why each one that may no longer be sent must not be
# (its id → reason): the person withdrew the consent it needs, or left the club.
ConsentCheck = Callable[[AsyncSession, Sequence[MessageColumns]], Awaitable[dict[int, str]]]


@dataclass
class SendRate:
    """Per-provider send rates, shared by every worker when the counts live in Redis."""

    per_second: Mapping[str, int]
    limiter: Limiter = field(default_factory=lambda: Limiter.from_url(None))

    @classmethod
    def at(cls, per_second: Mapping[str, int], storage_url: str | None, prefix: str) -> SendRate:
        # The limiter hashes what it counts by; provider names are no secret, so its key
        # needs none either, only one that every worker shares.
        limiter = Limiter.from_url(
            storage_url, key_prefix=f"{prefix}mallnet-send-rate", secret=b"mallnet send rate"
        )
        return cls(per_second, limiter)

    async def take(self, provider: str) -> bool:
        rate = self.per_second.get(provider)
        if rate is None:
            return True
        return await self.limiter.hit(Rule.of("send", f"{rate} per second").on(provider))

    async def aclose(self) -> None:
        await self.limiter.aclose()


@dataclass(frozen=True)
class RunCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    skipped: int = 0
    unknown: int = 0
    throttled: int = 0


@dataclass
class Dispatcher:
    sessions: async_sessionmaker[AsyncSession]
    model: type[MessageColumns]
    # "hub" or the shop's slug: with a row's key, it names the message at the provider.
    origin: str
    channels: Mapping[str, Channel]
    quiet: QuietHours
    rate: SendRate
    clock: Callable[[], dt.datetime]
    consent: ConsentCheck | None = None
    lease_s: int = 120
    max_attempts: int = 6
    backoff_s: int = 30
    max_backoff_s: int = 3600

    async def anything_due(self) -> bool:
        """Whether a run would find work (one indexed read): beat asks every few seconds
        for every shop, and most of the time the answer is no."""
        m = self.model
        now = self.clock()
        async with self.sessions() as session:
            due = await session.scalar(
                select(m.id)
                .where(
                    or_(
                        m.status.in_(("queued", "held")) & (m.not_before <= now),
                        (m.status == "sending") & (m.lease_until < now),
                    )
                )
                .limit(1)
            )
        return due is not None

    async def anything_to_ask(self) -> bool:
        """Whether any sent message still waits for its delivery report."""
        m = self.model
        async with self.sessions() as session:
            waiting = await session.scalar(select(m.id).where(m.status == "sent").limit(1))
        return waiting is not None

    async def run_once(self, limit: int = 50) -> RunCounts:
        """Send what is due now (at most ``limit`` messages)."""
        counts: dict[str, int] = {}
        claimed = await self._claim(limit, counts)
        for row_id, attempt, outgoing, medium in claimed:
            channel = self.channels[medium]
            if not await self._still_mine(row_id, attempt):
                # A slow provider outlasted the lease: another run took the message.
                continue
            if not await self.rate.take(channel.provider):
                await self._release(row_id, attempt)
                counts["throttled"] = counts.get("throttled", 0) + 1
                continue
            outcome = await self._send(channel, outgoing)
            await self._record(row_id, attempt, channel, outcome, counts)
        return RunCounts(**counts)

    async def _claim(
        self, limit: int, counts: dict[str, int]
    ) -> list[tuple[int, int, Outgoing, str]]:
        m = self.model
        now = self.clock()
        claimed: list[tuple[int, int, Outgoing, str]] = []

        async def work(session: AsyncSession) -> None:
            due = or_(
                m.status.in_(("queued", "held")) & (m.not_before <= now),
                (m.status == "sending") & (m.lease_until < now),
            )
            rows = list(
                await session.scalars(
                    select(m)
                    .where(due, m.medium.in_(tuple(self.channels)))
                    .order_by(m.not_before, m.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            refused = await self.consent(session, rows) if self.consent and rows else {}
            for row in rows:
                channel = self.channels[row.medium]
                if row.id in refused:
                    _settle(row, "skipped", refused[row.id], now)
                    _count(counts, "skipped")
                elif row.line == "promotional" and self.quiet.is_quiet(now):
                    row.status, row.lease_until = "held", None
                    row.not_before = self.quiet.next_open(now)
                    _count(counts, "held")
                elif row.status == "sending" and not channel.drops_repeats:
                    _settle(row, "unknown", "the worker stopped mid-send; not sent again", now)
                    _count(counts, "unknown")
                else:
                    row.status = "sending"
                    row.attempts += 1
                    row.lease_until = now + dt.timedelta(seconds=self.lease_s)
                    row.provider = channel.provider
                    outgoing = Outgoing(
                        self.origin,
                        row.idempotency_key,
                        row.recipient,
                        row.text,
                        row.line,  # type: ignore[arg-type]
                        row.kind,
                    )
                    claimed.append((row.id, row.attempts, outgoing, row.medium))

        async with self.sessions() as session, session.begin():
            await work(session)
        return claimed

    @staticmethod
    async def _send(
        channel: Channel, outgoing: Outgoing
    ) -> Receipt | TemporaryFailure | PermanentFailure:
        try:
            return await channel.send(outgoing)
        except (TemporaryFailure, PermanentFailure) as failure:
            return failure
        except Exception as error:
            log.exception("channel %s failed unexpectedly", channel.provider)
            return TemporaryFailure(f"unexpected {type(error).__name__}")

    async def _still_mine(self, row_id: int, attempt: int) -> bool:
        """Renew this run's lease on a message just before sending it; False when the lease
        ran out and the message was taken again (or settled) meanwhile."""
        m = self.model
        now = self.clock()
        async with self.sessions() as session, session.begin():
            renewed = await session.execute(
                update(m)
                .where(
                    m.id == row_id,
                    m.attempts == attempt,
                    m.status == "sending",
                    m.lease_until > now,
                )
                .values(lease_until=now + dt.timedelta(seconds=self.lease_s))
            )
        return bool(renewed.rowcount)  # type: ignore[attr-defined]

    async def _release(self, row_id: int, attempt: int) -> None:
        """Give back a message the rate did not let out now: no attempt was made."""
        m = self.model
        now = self.clock()
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(m)
                .where(m.id == row_id, m.status == "sending", m.attempts == attempt)
                .values(
                    status="queued",
                    attempts=attempt - 1,
                    lease_until=None,
                    not_before=now + dt.timedelta(seconds=1),
                )
            )

    async def _record(
        self,
        row_id: int,
        attempt: int,
        channel: Channel,
        outcome: Receipt | TemporaryFailure | PermanentFailure,
        counts: dict[str, int],
    ) -> None:
        m = self.model
        now = self.clock()
        values: dict[str, Any] = {"lease_until": None}
        if isinstance(outcome, Receipt):
            values |= {
                "status": "delivered" if outcome.delivered else "sent",
                "provider_id": outcome.provider_id,
                "sent_at": now,
                "reason": None,
            }
            if outcome.delivered:
                values["settled_at"] = now
            if outcome.cost_rial is not None:
                values["cost_rial"] = outcome.cost_rial
            _count(counts, "sent")
        elif outcome_unknown(channel, outcome):
            # Telegram may have it already, and would deliver a second copy.
            reason = f"{outcome.reason} (not sent again: it may have arrived)"
            values |= {"status": "unknown", "reason": reason[:300], "settled_at": now}
            _count(counts, "unknown")
        elif isinstance(outcome, PermanentFailure) or attempt >= self.max_attempts:
            reason = outcome.reason
            if isinstance(outcome, TemporaryFailure):
                reason = f"gave up after {attempt} attempts: {reason}"
            values |= {"status": "failed", "reason": reason, "settled_at": now}
            _count(counts, "failed")
        else:
            wait = min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)
            if outcome.retry_after_s is not None:
                # The provider's hint, within reason: a nonsense value must not stall it.
                wait = max(wait, min(int(outcome.retry_after_s) + 1, self.max_backoff_s))
            values |= {
                "status": "queued",
                "reason": outcome.reason,
                "not_before": now + dt.timedelta(seconds=wait),
            }
            _count(counts, "retried")
        async with self.sessions() as session, session.begin():
            # Only the attempt this worker made: a row retaken after its lease ran out
            # belongs to the worker that retook it.
            await session.execute(
                update(m).where(m.id == row_id, m.attempts == attempt).values(**values)
            )
        log.info("message %s via %s: %s", row_id, channel.provider, values.get("status"))

    async def poll_reports(self, limit: int = 500, within_hours: int = 47) -> int:
        """Ask the providers about messages they accepted; returns how many settled. Only
        within two days: Kavenegar answers "unknown id" (100) for older messages."""
        m = self.model
        now = self.clock()
        settled = 0
        for medium, channel in self.channels.items():
            async with self.sessions() as session:
                rows = (
                    await session.execute(
                        select(m.id, m.provider_id)
                        .where(
                            m.status == "sent",
                            m.medium == medium,
                            m.provider_id.is_not(None),
                            m.sent_at >= now - dt.timedelta(hours=within_hours),
                        )
                        .order_by(m.id)
                        .limit(limit)
                    )
                ).all()
            if not rows:
                continue
            try:
                reports = await channel.statuses([str(pid) for _id, pid in rows])
            except (TemporaryFailure, PermanentFailure) as failure:
                log.warning("delivery reports from %s: %s", channel.provider, failure.reason)
                continue
            async with self.sessions() as session, session.begin():
                for row_id, provider_id in rows:
                    report = reports.get(str(provider_id))
                    if report is None or report.state == "sent":
                        continue
                    await session.execute(
                        update(m)
                        .where(m.id == row_id, m.status == "sent")
                        .values(
                            status=report.state,
                            reason=report.detail[:300] or None,
                            settled_at=now,
                        )
                    )
                    settled += 1
        return settled


def _settle(row: MessageColumns, status: str, reason: str, now: dt.datetime) -> None:
    row.status, row.reason, row.settled_at, row.lease_until = status, reason[:300], now, None


def _count(counts: dict[str, int], what: str) -> None:
    counts[what] = counts.get(what, 0) + 1
