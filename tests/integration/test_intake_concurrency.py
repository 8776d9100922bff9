"""Two nodes' backlogs that carry the same new shoppers arrive at the hub at the same moment
(issue 14, finding 6): each intake succeeds the first time — no unique-key collision on
the shopper, no deadlock — checked on PostgreSQL with no retry at all.

Before, the intake looked a shopper up and then inserted it: the second transaction's
insert waited for the first's uncommitted row and then failed on ``pk_shoppers``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.envelope import (
    BalanceChanged,
    Envelope,
    Line,
    MemberEnrolled,
    PurchaseRecorded,
    make_envelope,
)
from federation.ids import new_event_id
from hub.db.models import FederationEvent, LocalBalance, Membership, Shopper
from hub.services import abuse, intake, people
from mallnet.db import create_engine, session_factory, utcnow
from mallnet.secrets_store import pseudonym

from ..conftest import HubDatabases
from .test_network_value import prepare_hub

pytestmark = pytest.mark.postgres

KEY = b"the network key of these tests"
NODES = ("ketab-sara", "kafsh-arya", "kafe-gol")
PHONES = [f"+98912{i:07d}" for i in range(40)]


@pytest.fixture
async def sessions(
    pg_hub_databases: HubDatabases,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine((await pg_hub_databases.new(prepare_hub)).url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def _backlog(node: str, phones: list[str]) -> list[Envelope]:
    """A node's backlog: each shopper enrols (consenting, with her phone), buys, and her
    balance is reported — in the order ``phones`` gives."""
    payloads: list[Any] = []
    for index, phone in enumerate(phones):
        who = pseudonym(KEY, phone)
        payloads += [
            MemberEnrolled(pseudonym=who, joined_via="purchase", partner_sharing=True, phone=phone),
            PurchaseRecorded(
                receipt_id=f"{node}-R{index}",
                pseudonym=who,
                total_rial=100_000,
                credit_spent_rial=0,
                lines=[Line(group="general", amount_rial=100_000)],
                visit_number=1,
                points_earned=10,
            ),
            BalanceChanged(pseudonym=who, points=10, credit_rial=0),
        ]
    now = utcnow()
    return [
        make_envelope(event_id=new_event_id(), node=node, seq=i, occurred_at=now, payload=p)
        for i, p in enumerate(payloads, start=1)
    ]


async def _ingest(session: AsyncSession, node: str, batch: list[Envelope]) -> None:
    report = await intake.ingest(session, node, batch, key=KEY)
    assert len(report.accepted) == len(batch)


async def _once(
    sessions: async_sessionmaker[AsyncSession], node: str, batch: list[Envelope]
) -> str:
    """One transaction, no retry: 'ok', or the SQLSTATE it failed with."""
    try:
        async with sessions() as session, session.begin():
            await _ingest(session, node, batch)
    except DBAPIError as exc:
        return str(getattr(exc.orig, "sqlstate", None) or type(exc.orig).__name__)
    return "ok"


async def _until_someone_waits(sessions: async_sessionmaker[AsyncSession]) -> None:
    for _ in range(500):
        async with sessions() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second intake never waited for the first")


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (FederationEvent, Shopper, Membership, LocalBalance)
        }


async def _phones(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str | None]:
    async with sessions() as session:
        return dict((await session.execute(select(Shopper.pseudonym, Shopper.phone))).all())


async def test_an_intake_that_waits_for_another_with_the_same_new_shoppers_succeeds(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given the bookshop's backlog applied but not yet committed
    books, shoes = _backlog(NODES[0], PHONES), _backlog(NODES[1], PHONES[::-1])
    async with sessions() as first, first.begin():
        await _ingest(first, NODES[0], books)
        # When the shoe shop's backlog, with the same new shoppers (in the other order),
        # arrives and waits for the bookshop's rows
        second = asyncio.create_task(_once(sessions, NODES[1], shoes))
        await _until_someone_waits(sessions)
    # Then, once the bookshop's transaction commits, it goes through on its first attempt
    assert await second == "ok"
    assert await _rows(sessions) == {
        "federation_events": len(books) + len(shoes),
        "shoppers": len(PHONES),
        "memberships": 2 * len(PHONES),
        "local_balances": 2 * len(PHONES),
    }
    assert await _phones(sessions) == {pseudonym(KEY, p): p for p in PHONES}


async def test_three_backlogs_and_sign_ins_with_the_same_new_shoppers_at_once_all_succeed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given three nodes' backlogs over the same new shoppers, each in its own order
    orders = [PHONES, PHONES[::-1], PHONES[1::2] + PHONES[::2]]
    batches = {node: _backlog(node, order) for node, order in zip(NODES, orders, strict=True)}

    async def sign_in(phone: str) -> str:
        """A shopper signing in to the app at the same moment (no retry either)."""
        texts: list[str] = []

        class Texts:
            async def send_sms(self, to: str, body: str, *, kind: str) -> None:
                texts.append(body)

        async with sessions() as session, session.begin():
            await people.send_code(
                session, Texts(), phone, "10.0.0.7", limits=abuse.Limits.in_memory()
            )
        code = texts[-1].rsplit(" ", 1)[-1]
        try:
            async with sessions() as session, session.begin():
                person = await people.sign_in_shopper(
                    session, KEY, phone, code, limits=abuse.Limits.in_memory(), ip="10.0.0.7"
                )
        except DBAPIError as exc:
            return str(getattr(exc.orig, "sqlstate", None))
        return "ok" if person is not None else "refused"

    # When they all arrive at once, with two shoppers signing in meanwhile
    results = await asyncio.gather(
        *(_once(sessions, node, batch) for node, batch in batches.items()),
        sign_in(PHONES[0]),
        sign_in(PHONES[-1]),
    )

    # Then every one succeeded on its first attempt, each shopper once, at three shops
    assert results == ["ok"] * 5
    assert await _rows(sessions) == {
        "federation_events": sum(len(b) for b in batches.values()),
        "shoppers": len(PHONES),
        "memberships": 3 * len(PHONES),
        "local_balances": 3 * len(PHONES),
    }
    assert await _phones(sessions) == {pseudonym(KEY, p): p for p in PHONES}
