"""The dispatcher under a slow provider: a worker whose lease ran out while it sent the
first messages of its batch does not send the rest, which another worker took meanwhile —
each message goes to the provider once (review finding F3). A provider's absurd retry hint
is bounded."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.orm import DeclarativeBase

from mallnet.db import NAMING_CONVENTION, create_engine, session_factory
from mallnet.messaging.channels import Outgoing, Receipt, Status, TemporaryFailure
from mallnet.messaging.dispatch import Dispatcher, Draft, SendRate, enqueue
from mallnet.messaging.log import MessageColumns
from mallnet.messaging.quiet import QuietHours

NOON = dt.datetime(2026, 12, 6, 8, 30, tzinfo=dt.UTC)  # 12:00 in Tehran
NO_QUIET = QuietHours(dt.time(0, 0), dt.time(0, 0))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Message(MessageColumns, Base):
    pass


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> dt.datetime:
        return self.now


class SlowSms:
    """Counts what reaches it; its first send lasts past the lease, and meanwhile the
    other worker runs."""

    medium = "sms"
    provider = "kavenegar"
    drops_repeats = True

    def __init__(self, sent: Counter[str], clock: Clock, lease_s: int) -> None:
        self.sent, self.clock, self.lease_s = sent, clock, lease_s
        self.meanwhile: Dispatcher | None = None

    async def send(self, message: Outgoing) -> Receipt:
        self.sent[message.key] += 1
        if self.meanwhile is not None:
            other, self.meanwhile = self.meanwhile, None
            self.clock.now += dt.timedelta(seconds=self.lease_s + 1)
            await other.run_once()
        return Receipt(provider_id=message.key)

    async def statuses(self, provider_ids: Sequence[str]) -> Mapping[str, Status]:
        return {}


class HintsForever(SlowSms):
    async def send(self, message: Outgoing) -> Receipt:
        raise TemporaryFailure("slow down", retry_after_s=1e12)


async def _queued(path: Path, count: int) -> tuple[object, Clock]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    clock = Clock()
    async with session_factory(engine)() as session, session.begin():
        for i in range(count):
            draft = Draft(f"k{i}", "purchase", "sms", "service", "+989121234567", "text")
            await enqueue(session, Message, draft, now=clock.now, quiet=NO_QUIET, part_price_rial=1)
    return engine, clock


def _dispatcher(engine: object, clock: Clock, channel: SlowSms) -> Dispatcher:
    return Dispatcher(
        sessions=session_factory(engine),  # type: ignore[arg-type]
        model=Message,
        origin="test",
        channels={"sms": channel},
        quiet=NO_QUIET,
        rate=SendRate({}),
        clock=clock,
    )


async def test_a_worker_past_its_lease_leaves_the_rest_of_its_batch(tmp_path: Path) -> None:
    engine, clock = await _queued(tmp_path / "lease.sqlite", 3)
    sent: Counter[str] = Counter()
    first = _dispatcher(engine, clock, SlowSms(sent, clock, lease_s=120))
    second = _dispatcher(engine, clock, SlowSms(sent, clock, lease_s=120))
    first.channels["sms"].meanwhile = second  # type: ignore[attr-defined]
    await first.run_once()
    assert sent == Counter({"k0": 2, "k1": 1, "k2": 1})  # k0 was in flight: resent once
    async with session_factory(engine)() as session:  # type: ignore[arg-type]
        statuses = list(await session.scalars(select(Message.status).order_by(Message.id)))
    assert statuses == ["sent", "sent", "sent"]
    await engine.dispose()  # type: ignore[attr-defined]


async def test_a_providers_retry_hint_is_bounded(tmp_path: Path) -> None:
    engine, clock = await _queued(tmp_path / "hint.sqlite", 1)
    dispatcher = _dispatcher(engine, clock, HintsForever(Counter(), clock, lease_s=120))
    counts = await dispatcher.run_once()
    assert counts.retried == 1
    async with session_factory(engine)() as session:  # type: ignore[arg-type]
        row = await session.scalar(select(Message))
    assert row is not None
    assert row.not_before <= clock.now + dt.timedelta(seconds=dispatcher.max_backoff_s)
    await engine.dispose()  # type: ignore[attr-defined]


class AnsweredLate(SlowSms):
    """The request left, and no answer came in time: the provider may have the message."""

    async def send(self, message: Outgoing) -> Receipt:
        self.sent[message.key] += 1
        raise TemporaryFailure("no answer in time", maybe_sent=True)


async def test_a_message_that_may_have_arrived_is_sent_again_only_where_repeats_drop(
    tmp_path: Path,
) -> None:
    """Kavenegar drops a repeated localid, so a late answer is retried; Telegram would
    deliver a second copy, so its message is left unknown."""
    for drops, status, retried in ((True, "queued", 1), (False, "unknown", 0)):
        engine, clock = await _queued(tmp_path / f"late-{drops}.sqlite", 1)
        channel = AnsweredLate(Counter(), clock, lease_s=120)
        channel.drops_repeats = drops
        counts = await _dispatcher(engine, clock, channel).run_once()
        assert (counts.retried, counts.unknown) == (retried, 1 - retried)
        async with session_factory(engine)() as session:  # type: ignore[arg-type]
            row = await session.scalar(select(Message))
        assert row is not None
        assert row.status == status
        await engine.dispose()  # type: ignore[attr-defined]
