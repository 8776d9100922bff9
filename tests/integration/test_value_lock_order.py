"""Every path locks a shopper's lots in one order (ascending id), so holds and captures of
one shopper running at once never deadlock on PostgreSQL — checked with no retry at all.

The lots are issued so that id order and spending order disagree (the newer lot expires
first): a hold that locked in spending order while a capture moved its lots in id order
made PostgreSQL abort one of the two with a deadlock (40P01).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.envelope import Envelope, EventType, PurchaseRefunded
from federation.ids import new_event_id
from hub.domain.value_rules import GENERAL, POOLED
from hub.services import intake, registry, value
from mallnet.db import create_engine, session_factory, utcnow
from mallnet.migrations import upgrade

pytestmark = pytest.mark.postgres

SHOP = "ketab-sara"
# (kind, amount, Rial a unit, days to expiry): the pooled lot, issued second, expires first.
# A hold of 2,500 Rial takes 2 whole points (2,000) and 500 Rial of credit: every hold and
# capture touches both lots, the hold in spending order, the capture's postings by id.
LOTS = [(GENERAL, 10_000_000, 1, 40), (POOLED, 10_000, 1_000, 20)]
WORKERS = 60


async def _issue_lots(sessions: async_sessionmaker[AsyncSession], pseudonym: str) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        await registry.register_shop(session, registry.ShopInput(SHOP, SHOP, SHOP, "books"))
        for index, (kind, amount, rate, days) in enumerate(LOTS):
            await value.issue(
                session,
                value.IssueInput(
                    pseudonym=pseudonym,
                    kind=kind,
                    issuer=SHOP,
                    amount=amount,
                    expires_at=now + dt.timedelta(days=days),
                    reason="lock-order test",
                    origin=f"test:{index}",
                    key=f"lock-order:{index}",
                    rial_per_point=rate,
                ),
                now,
            )


async def _once(sessions: async_sessionmaker[AsyncSession], work: object) -> str:
    """One transaction, no retry: 'ok', or the SQLSTATE it failed with."""
    try:
        async with sessions() as session, session.begin():
            await work(session)  # type: ignore[operator]
    except DBAPIError as exc:
        return str(getattr(exc.orig, "sqlstate", None) or type(exc.orig).__name__)
    return "ok"


async def _lock_waiters(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


async def _until_waiters(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    for _ in range(500):
        if await _lock_waiters(sessions) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} transactions ever waited for a lock")


@pytest.mark.parametrize("other", ["capture", "refund"])
async def test_a_hold_racing_a_capture_or_a_refund_the_worst_way_does_not_deadlock(
    pg_url: str, other: str
) -> None:
    # Given a shopper's two lots (the pooled one, issued second, is spent first) and a hold
    # on both of them — captured already when the other transaction is its refund
    await upgrade("hub", pg_url)
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    pseudonym = secrets.token_hex(32)
    try:
        await _issue_lots(sessions, pseudonym)
        async with sessions() as session, session.begin():
            first = await value.hold(session, SHOP, value.HoldInput(pseudonym, 2_500, "r", "k"))
            if other == "refund":
                await value.capture(session, SHOP, first.hold.id)
        assert sorted(p.lot_id for p in first.portions) == [1, 2]

        async def new_hold(session: AsyncSession) -> None:
            await value.hold(session, SHOP, value.HoldInput(pseudonym, 3_500, "r2", "k2"))

        async def capture_or_refund(session: AsyncSession) -> None:
            if other == "capture":
                await value.capture(session, SHOP, first.hold.id)
            else:
                await value.refund(session, SHOP, first.hold.id, 2_500, "refund-1", utcnow())

        # and another transaction holding the pooled lot (id 2) for a moment
        async with sessions() as blocker, blocker.begin():
            await blocker.execute(text("SELECT id FROM value_lots WHERE id = 2 FOR UPDATE"))
            # When a new hold queues for the lots, then the capture (or refund) of the first
            # hold, each going as far as it can while the blocker holds the pooled lot
            holding = asyncio.create_task(_once(sessions, new_hold))
            await _until_waiters(sessions, 1)
            other_task = asyncio.create_task(_once(sessions, capture_or_refund))
            await _until_waiters(sessions, 2)
        # (the blocker commits here and lets both go on)

        # Then both finish the first time: neither waits for a lot the other holds while
        # holding one it wants (PostgreSQL would abort one of them with 40P01)
        assert [await holding, await other_task] == ["ok", "ok"]
        async with sessions() as session:
            assert await value.verify(session, pseudonym) == []
    finally:
        await engine.dispose()


async def test_concurrent_holds_and_captures_of_one_shopper_never_deadlock(pg_url: str) -> None:
    # Given a shopper with lots whose expiry order is the reverse of their id order
    await upgrade("hub", pg_url)
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    pseudonym = secrets.token_hex(32)
    try:
        await _issue_lots(sessions, pseudonym)

        # and open holds spanning several lots, to be captured
        async def open_hold(index: int) -> str:
            async def work(session: AsyncSession) -> None:
                outcome = await value.hold(
                    session,
                    SHOP,
                    value.HoldInput(pseudonym, 2_500, f"r-open-{index}", f"open-{index}"),
                )
                held.append(outcome.hold.id)

            return await _once(sessions, work)

        held: list[str] = []
        assert [await open_hold(i) for i in range(WORKERS)] == ["ok"] * WORKERS

        # When captures of those holds race new holds of the same shopper, for several rounds
        def capture(hold_id: str) -> object:
            async def work(session: AsyncSession) -> None:
                await value.capture(session, SHOP, hold_id)

            return work

        def new_hold(index: int) -> object:
            async def work(session: AsyncSession) -> None:
                await value.hold(
                    session,
                    SHOP,
                    value.HoldInput(pseudonym, 3_500, f"r-new-{index}", f"new-{index}"),
                )

            return work

        jobs = [capture(h) for h in held] + [new_hold(i) for i in range(WORKERS)]
        results = Counter(await asyncio.gather(*(_once(sessions, job) for job in jobs)))

        # Then every one of them succeeded the first time: no deadlock (40P01), no retry
        assert results == Counter({"ok": 2 * WORKERS}), results
        async with sessions() as session:
            assert await value.verify(session, pseudonym) == []
            _points, _credit, worth = await value.spendable_at(session, pseudonym, SHOP)
        assert worth == 20_000_000 - WORKERS * 2_500 - WORKERS * 3_500
    finally:
        await engine.dispose()


async def test_captures_voids_and_the_expiry_sweep_racing_new_holds_never_deadlock(
    pg_url: str,
) -> None:
    # Given a shopper with lots whose expiry order is the reverse of their id order, open
    # holds to be captured or voided, and holds already past their expiry for the sweep
    await upgrade("hub", pg_url)
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    pseudonym = secrets.token_hex(32)
    try:
        await _issue_lots(sessions, pseudonym)
        held: list[str] = []
        for index in range(3 * WORKERS // 2):

            async def work(session: AsyncSession, index: int = index) -> None:
                outcome = await value.hold(
                    session, SHOP, value.HoldInput(pseudonym, 2_500, f"r-{index}", f"h-{index}")
                )
                held.append(outcome.hold.id)

            assert await _once(sessions, work) == "ok"
        stale = held[WORKERS:]
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE value_holds SET expires_at = :past WHERE id = ANY(:ids)"),
                {"past": utcnow() - dt.timedelta(minutes=1), "ids": stale},
            )

        def close(hold_id: str, index: int) -> object:
            async def work(session: AsyncSession) -> None:
                if index % 2:
                    await value.void(session, SHOP, hold_id)
                else:
                    await value.capture(session, SHOP, hold_id)

            return work

        def new_hold(index: int) -> object:
            async def work(session: AsyncSession) -> None:
                await value.hold(
                    session, SHOP, value.HoldInput(pseudonym, 3_500, f"r-new-{index}", f"n-{index}")
                )

            return work

        async def sweep(session: AsyncSession) -> None:
            await value.expire_holds(session, limit=WORKERS // 6)

        # When captures and voids of the open holds, new holds and expiry sweeps all run at
        # once, each in one transaction with no retry
        jobs = [close(h, i) for i, h in enumerate(held[:WORKERS])]
        jobs += [new_hold(i) for i in range(WORKERS)] + [sweep] * 6
        results = Counter(await asyncio.gather(*(_once(sessions, job) for job in jobs)))

        # Then every one succeeded the first time, the sweeps released every stale hold,
        # and the ledger balances
        assert results == Counter({"ok": len(jobs)}), results
        async with sessions() as session:
            statuses = Counter(
                (await session.execute(text("SELECT status FROM value_holds"))).scalars()
            )
            assert await value.verify(session, pseudonym) == []
            _points, _credit, worth = await value.spendable_at(session, pseudonym, SHOP)
        assert statuses == Counter(
            {
                "captured": WORKERS // 2,
                "voided": WORKERS // 2,
                "expired": WORKERS // 2,
                "open": WORKERS,
            }
        ), statuses
        assert worth == 20_000_000 - (WORKERS // 2) * 2_500 - WORKERS * 3_500
    finally:
        await engine.dispose()


async def test_a_refund_arriving_by_intake_racing_a_new_hold_does_not_deadlock(pg_url: str) -> None:
    # Given a shopper's old credit (lot 1) that paid for purchase R1, and the points R1
    # earned (lot 2, issued for that purchase): a refund of R1 takes lot 2's points back and
    # returns the credit to lot 1
    await upgrade("hub", pg_url)
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    pseudonym, now = secrets.token_hex(32), utcnow()
    try:
        async with sessions() as session, session.begin():
            await registry.register_shop(session, registry.ShopInput(SHOP, SHOP, SHOP, "books"))
            for index, (kind, amount, rate, origin) in enumerate(
                [(GENERAL, 10_000_000, 1, "test:0"), (POOLED, 10_000, 1_000, f"receipt:{SHOP}:R1")]
            ):
                await value.issue(
                    session,
                    value.IssueInput(
                        pseudonym=pseudonym,
                        kind=kind,
                        issuer=SHOP,
                        amount=amount,
                        expires_at=now + dt.timedelta(days=40),
                        reason="lock-order test",
                        origin=origin,
                        key=f"refund-order:{index}",
                        rial_per_point=rate,
                    ),
                    now,
                )
        async with sessions() as session, session.begin():
            paid = await value.hold(
                session, SHOP, value.HoldInput(pseudonym, 2_500, "R1", "k1", kinds=(GENERAL,))
            )
            await value.capture(session, SHOP, paid.hold.id)
        assert [p.lot_id for p in paid.portions] == [1]
        refund = PurchaseRefunded(
            receipt_id="R1",
            refund_id="F1",
            pseudonym=pseudonym,
            amount_rial=100_000,
            purchase_total_rial=100_000,
            network_hold_id=paid.hold.id,
            network_returned_rial=2_500,
        )
        envelope = Envelope(
            event_id=new_event_id(),
            type=EventType.PURCHASE_REFUNDED,
            schema_version=1,
            node=SHOP,
            seq=1,
            occurred_at=utcnow(),
            payload=refund.model_dump(mode="json"),
        )

        async def refund_by_intake(session: AsyncSession) -> None:
            await intake.ingest(session, SHOP, [envelope], key=b"no phone in a refund")

        async def new_hold(session: AsyncSession) -> None:
            await value.hold(session, SHOP, value.HoldInput(pseudonym, 3_500, "R2", "k2"))

        # and another transaction holding the paid hold's row for a moment
        async with sessions() as blocker, blocker.begin():
            await blocker.execute(
                text("SELECT id FROM value_holds WHERE id = :id FOR UPDATE"), {"id": paid.hold.id}
            )
            # When the refund comes in by intake, then a new hold of the same shopper, each
            # going as far as it can while the blocker holds the hold's row
            refunding = asyncio.create_task(_once(sessions, refund_by_intake))
            await _until_waiters(sessions, 1)
            holding = asyncio.create_task(_once(sessions, new_hold))
            # (the new hold either finishes, locking nothing the refund holds, or queues)
            for _ in range(500):
                if holding.done() or await _lock_waiters(sessions) >= 2:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the new hold neither finished nor waited")

        # Then both finish the first time, with no deadlock and no retry
        assert [await refunding, await holding] == ["ok", "ok"]
        async with sessions() as session:
            assert await value.verify(session, pseudonym) == []
    finally:
        await engine.dispose()
