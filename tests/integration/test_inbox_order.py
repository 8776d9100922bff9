"""Every command reaches its node exactly once, in the order the commands committed, however
the enqueuing transactions interleave with the node's pulls (issue 14, finding 3).

Commands are enqueued by concurrent transactions (other nodes' intake, the lottery draw,
partnerships). A number handed out at insert (the table's serial id) does not follow commit
order on PostgreSQL: a command numbered 1 can commit after the node pulled and acknowledged
command 2. A cursor over that number passed command 1 for good.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.envelope import EnrolMember, NotifyMember
from hub.db.models import NodeStream
from hub.services import inbox
from mallnet.db import engine_scope, ensure_database, session_factory, transaction, utcnow
from mallnet.migrations import upgrade

from ..conftest import HubDatabases

NODES = ("ketab-sara", "kafsh-arya", "cafe-sepid")
SARA = NODES[0]
NOW = utcnow()


async def _empty(url: str) -> None:
    """A hub database with no tables yet (migrated by the test itself)."""
    await ensure_database(url)


def _command() -> EnrolMember:
    return EnrolMember(pseudonym=secrets.token_hex(32), origin_shop="a-shop", agreement_id="x")


async def _pull_and_ack(
    sessions: async_sessionmaker[AsyncSession], node: str, limit: int = 100
) -> list[dict[str, Any]]:
    """What a node does: pull (one transaction, as the hub's ``inbox`` field runs it), then
    acknowledge up to the last cursor it got (another transaction)."""
    items = await transaction(sessions, lambda s: inbox.pull(s, node, limit))
    if items:
        await transaction(sessions, lambda s: inbox.ack(s, node, int(items[-1]["seq"])))
    return items


@pytest.mark.postgres
async def test_a_command_that_commits_after_a_later_one_was_acknowledged_is_still_delivered(
    pg_hub_databases: HubDatabases,
) -> None:
    hub = await pg_hub_databases.new()
    async with engine_scope(hub.url) as engine:
        sessions = session_factory(engine)
        delivered: list[str] = []
        cursors: list[int] = []

        async def pull() -> None:
            items = await _pull_and_ack(sessions, SARA)
            delivered.extend(i["event_id"] for i in items)
            cursors.extend(int(i["seq"]) for i in items)

        # Given command A enqueued (and numbered by the table) before command B,
        async with sessions() as slow, slow.begin():
            a = (await inbox.enqueue(slow, SARA, _command())).command_id
            async with sessions() as fast, fast.begin():
                b = (await inbox.enqueue(fast, SARA, _command())).command_id
            # when B commits first and the node pulls and acknowledges it
            await pull()
            assert delivered == [b]
        # and only then A commits,
        # then the next pull brings A, after B (the order they committed in), and nothing
        # comes a second time.
        await pull()
        assert delivered == [b, a]
        assert cursors == [1, 2]
        assert await _pull_and_ack(sessions, SARA) == []
        async with sessions() as session:
            assert await inbox.depths(session, [SARA]) == {SARA: 0}


async def test_an_acknowledgement_beyond_what_was_delivered_passes_nothing(
    hub_databases: HubDatabases,
) -> None:
    """A node acknowledging a cursor it was never given (a bug, or a cursor of the old id
    numbering kept across the hub's upgrade) stops at what was delivered: the commands
    numbered next are still delivered."""
    hub = await hub_databases.new()
    async with engine_scope(hub.url) as engine:
        sessions = session_factory(engine)
        await transaction(sessions, lambda s: inbox.enqueue(s, SARA, _command()))
        assert [i["seq"] for i in await _pull_and_ack(sessions, SARA)] == [1]
        assert await transaction(sessions, lambda s: inbox.ack(s, SARA, 99)) == 1
        assert await transaction(sessions, lambda s: inbox.ack(s, SARA, 0)) == 1  # never back
        later = await transaction(sessions, lambda s: inbox.enqueue(s, SARA, _command()))
        got = await _pull_and_ack(sessions, SARA)
    assert [(i["event_id"], i["seq"]) for i in got] == [(later.command_id, 2)]


@pytest.mark.postgres
async def test_intakes_enqueueing_for_each_other_never_wait_on_each_other(
    pg_hub_databases: HubDatabases,
) -> None:
    """Intake locks the sending node's stream row, then may enqueue for other nodes (one
    transaction of a draw notifies several). An enqueue takes no lock of its own, so two
    such transactions crossing each other (A's for B then C, B's for C then B), with the
    nodes pulling in between, all commit on the first attempt: no deadlock, no wait."""
    hub = await pg_hub_databases.new()
    async with engine_scope(hub.url) as engine:
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            for node in NODES:
                session.add(NodeStream(node=node, last_contact_at=NOW))
        halfway = asyncio.Barrier(2)
        delivered: dict[str, list[str]] = defaultdict(list)

        async def pull(node: str) -> None:
            delivered[node] += [i["event_id"] for i in await _pull_and_ack(sessions, node)]

        async def intake(own: str, targets: tuple[str, str]) -> list[str]:
            made = []
            async with sessions() as session, session.begin():  # no retry
                await session.get(NodeStream, own, with_for_update=True)
                for target in targets:
                    made.append((await inbox.enqueue(session, target, _command())).command_id)
                    await pull(target)  # the target pulls meanwhile
                    if len(made) == 1:
                        await halfway.wait()
            return made

        first, second = await asyncio.wait_for(
            asyncio.gather(
                intake("ketab-sara", ("kafsh-arya", "cafe-sepid")),
                intake("kafsh-arya", ("cafe-sepid", "kafsh-arya")),
            ),
            timeout=10,
        )
        for node in NODES:
            await pull(node)
    assert sorted(delivered["kafsh-arya"]) == sorted([first[0], second[1]])
    assert sorted(delivered["cafe-sepid"]) == sorted([first[1], second[0]])


@dataclass
class _Ledger:
    """What was enqueued (committed) and what each node was delivered."""

    committed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    delivered: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cursors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


async def _writer(
    sessions: async_sessionmaker[AsyncSession], ledger: _Ledger, seed: int, rounds: int
) -> None:
    """Transactions that each enqueue one to three commands for nodes in any order (a draw
    notifies several shops in one transaction) and take a while to commit, so commits land
    in another order than the ids."""
    rng = random.Random(seed)
    for _ in range(rounds):
        targets = rng.choices(NODES, k=rng.randint(1, 3))
        pause = rng.random() / 50

        async def work(
            session: AsyncSession, targets: list[str] = targets, pause: float = pause
        ) -> list[tuple[str, str]]:
            made = []
            for node in targets:
                command = (
                    _command()
                    if rng.random() < 0.5
                    else NotifyMember(pseudonym=secrets.token_hex(32), kind="x", text="x")
                )
                made.append((node, (await inbox.enqueue(session, node, command)).command_id))
                await asyncio.sleep(pause)
            return made

        for node, command_id in await transaction(sessions, work):
            ledger.committed[node].append(command_id)


async def _puller(
    sessions: async_sessionmaker[AsyncSession], ledger: _Ledger, node: str, done: asyncio.Event
) -> None:
    """A node pulling small pages and acknowledging each, until the writers are done and
    its inbox is empty."""
    while True:
        finished = done.is_set()  # read before pulling: a last pull after the last commit
        items = await _pull_and_ack(sessions, node, limit=4)
        ledger.delivered[node] += [i["event_id"] for i in items]
        ledger.cursors[node] += [int(i["seq"]) for i in items]
        if not items:
            if finished:
                return
            await asyncio.sleep(0.001)


async def test_concurrent_enqueues_and_pulls_deliver_every_command_exactly_once(
    hub_databases: HubDatabases,
) -> None:
    hub = await hub_databases.new()
    postgres = hub_databases.backend == "postgres"
    writers, rounds = (8, 30) if postgres else (4, 10)
    async with engine_scope(hub.url) as engine:
        sessions = session_factory(engine)
        ledger = _Ledger()
        done = asyncio.Event()
        pullers = [asyncio.create_task(_puller(sessions, ledger, n, done)) for n in NODES]
        await asyncio.gather(*(_writer(sessions, ledger, seed, rounds) for seed in range(writers)))
        done.set()
        await asyncio.gather(*pullers)
        async with sessions() as session:
            depths = await inbox.depths(session, list(NODES))
    total = sum(len(ids) for ids in ledger.committed.values())
    assert total >= writers * rounds
    for node in NODES:
        delivered = ledger.delivered[node]
        assert len(delivered) == len(set(delivered)), f"{node}: a command came twice"
        assert sorted(delivered) == sorted(ledger.committed[node]), f"{node}: a command lost"
        # The cursor a node acknowledges by counts its deliveries: 1, 2, 3, ... no gap.
        assert ledger.cursors[node] == list(range(1, len(delivered) + 1))
    assert depths == dict.fromkeys(NODES, 0)


async def test_upgrading_keeps_what_was_acknowledged_and_delivers_the_rest(
    hub_databases: HubDatabases,
) -> None:
    """The migration to delivery numbers: commands a node acknowledged under the old id
    cursor stay acknowledged, the others come at its next pull, each once."""
    url = (await hub_databases.new(_empty)).url
    await upgrade("hub", url, "hub_0011")
    insert = text(
        "INSERT INTO inbox_commands (node, command_id, type, payload, created_at)"
        " VALUES (:node, :command_id, 'member.enrol', '{}', :at)"
    )
    ids: dict[str, list[str]] = defaultdict(list)
    async with engine_scope(url) as engine, engine.begin() as conn:
        for n in range(7):
            node = NODES[n % 2]  # ids 1..7 alternate between two nodes
            ids[node].append(f"{n:026d}")
            await conn.execute(insert, {"node": node, "command_id": ids[node][-1], "at": NOW})
        # ketab-sara acknowledged up to id 3 (its ids 1 and 3); kafsh-arya never pulled.
        await conn.execute(
            text("INSERT INTO node_cursors VALUES ('ketab-sara', 3, :at)"), {"at": NOW}
        )
    await upgrade("hub", url, "hub_0012_inbox_exactly_once")
    async with engine_scope(url) as engine:
        sessions = session_factory(engine)
        async with sessions() as session:
            assert await inbox.depths(session, NODES[:2]) == {"ketab-sara": 2, "kafsh-arya": 3}
        sara = await _pull_and_ack(sessions, "ketab-sara")
        assert [(i["event_id"], i["seq"]) for i in sara] == [
            (ids["ketab-sara"][2], 3),
            (ids["ketab-sara"][3], 4),
        ]
        arya = await _pull_and_ack(sessions, "kafsh-arya")
        assert [(i["event_id"], i["seq"]) for i in arya] == list(
            zip(ids["kafsh-arya"], (1, 2, 3), strict=True)
        )
        assert await _pull_and_ack(sessions, "ketab-sara") == []
