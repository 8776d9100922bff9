"""Node events reach the hub exactly once: through outages, repeated deliveries and
forged or malformed batches (the hub a real server over HTTP, the node a real database)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from federation.client import HubConnection, HubRefused
from federation.problems import HubProblemCode
from hub.app import create_app as create_hub
from hub.db.models import FederationConflict, FederationEvent, LocalBalance, Membership, Shopper
from hub.services import registry
from mallnet.config import Settings
from mallnet.db import create_engine, engine_scope, session_factory, utcnow
from mallnet.scopes import Scope
from mallnet.secrets_store import pseudonym
from shop_node.db.models import OutboxEvent
from shop_node.domain.earning import Line
from shop_node.services.bootstrap import prepare_node
from shop_node.services.purchases import PurchaseInput, record_purchase
from shop_node.services.relay import relay_all, relay_once
from shop_node.services.runtime import NodeRuntime

from ..live_server import LiveServer
from .conftest import _connection, _hub_db


@pytest.fixture
async def node(network: tuple[Settings, dict[str, Any]]) -> AsyncIterator[NodeRuntime]:
    settings, _ = network
    await prepare_node(settings, "ketab-sara")
    engine = create_engine(settings.node_db_url("ketab-sara"))
    try:
        yield await NodeRuntime.start("ketab-sara", engine, settings)
    finally:
        await engine.dispose()


async def _buy(node: NodeRuntime, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        data = PurchaseInput(f"R-{i}", 100_000, [Line("general", 100_000)], f"0912{i % 7:07d}")
        await record_purchase(node, data, "pos")


async def _hub_counts(settings: Settings) -> dict[str, int]:
    async with engine_scope(settings.hub_db_url) as engine, session_factory(engine)() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (FederationEvent, Membership, LocalBalance)
        }


async def test_events_recorded_while_the_hub_is_down_arrive_once_when_it_returns(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    hub = _connection(network)
    await _buy(node, 500)
    # The hub is not running: the node keeps selling, the relay reports and keeps the events.
    down = await relay_once(node, hub)
    assert down.error is not None
    assert "unreachable" in down.error
    assert down.pending > 0
    with LiveServer(create_hub(settings), info["port"]):
        delivered = await relay_all(node, hub)
        again = await relay_once(node, hub)
        status = await _federation_status(network)
    assert again.sent == 0  # nothing left
    # The node reported its backlog with each batch; the last batch left nothing behind.
    assert status["node"] == "ketab-sara"
    assert status["pendingEvents"] == 0
    assert status["inboxDepth"] == 0
    assert status["contiguousSeq"] == status["highestSeq"] > 0

    async def outbox_total(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)

    total = await node.read(outbox_total)
    assert delivered == total
    counts = await _hub_counts(settings)
    assert counts["federation_events"] == total
    assert counts["memberships"] == 7  # seven distinct shoppers bought at ketab-sara
    assert counts["local_balances"] == 7
    balance = await _balance_of(settings, pseudonym(node.network_key, "+989120000000"))
    assert balance is not None
    assert balance.points > 0


async def test_the_same_batch_three_times_has_one_effect(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    await _buy(node, 5)
    from shop_node.services.relay import _next_batch

    batch = await node.transaction(lambda s: _next_batch(s, "ketab-sara", 200))
    hub = _connection(network)
    with LiveServer(create_hub(settings), info["port"]):
        results = [await hub.ingest(batch) for _ in range(3)]
    assert [r["accepted"] for r in results] == [len(batch), 0, 0]
    assert [r["duplicates"] for r in results] == [0, len(batch), len(batch)]
    assert results[-1]["contiguousSeq"] == len(batch)
    assert (await _hub_counts(settings))["federation_events"] == len(batch)


async def test_the_same_batch_from_several_relays_at_once_has_one_effect(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    """A relay retried while its first attempt is still in flight: the intake takes the
    node's stream row lock (FOR UPDATE on PostgreSQL), so one delivery applies the batch
    and the others find duplicates, never a second effect or a unique-key error."""
    settings, info = network
    await _buy(node, 5)
    from shop_node.services.relay import _next_batch

    batch = await node.transaction(lambda s: _next_batch(s, "ketab-sara", 200))
    hub = _connection(network)
    with LiveServer(create_hub(settings), info["port"]):
        # One request first, so the relays race in the intake, not in the hub's first load
        # of its signing keys (a race of its own: test_hub_oauth's key-load test).
        assert await hub.issuance_policy() is None
        results = await asyncio.gather(*(hub.ingest(batch) for _ in range(4)))
    assert sorted(r["accepted"] for r in results) == [0, 0, 0, len(batch)]
    assert sorted(r["duplicates"] for r in results) == [0, *[len(batch)] * 3]
    assert {r["contiguousSeq"] for r in results} == {len(batch)}
    assert await _hub_counts(settings) == {
        "federation_events": len(batch),
        "memberships": 5,
        "local_balances": 5,
    }


async def test_forged_malformed_and_conflicting_batches_apply_nothing(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    await _buy(node, 2)
    from shop_node.services.relay import _next_batch

    batch = await node.transaction(lambda s: _next_batch(s, "ketab-sara", 200))
    with LiveServer(create_hub(settings), info["port"]):
        # Node kafsh-arya's credentials cannot deliver ketab-sara's events.
        forged = await _raw_ingest(network, "kafsh-arya", batch)
        assert forged["code"] == "INVALID_BATCH"
        assert "claims node 'ketab-sara'" in forged["message"]
        broken = [*batch, {**batch[0], "event_id": "x", "seq": 99}]
        malformed = await _raw_ingest(network, "ketab-sara", broken)
        assert malformed["code"] == "INVALID_BATCH"
        assert (await _hub_counts(settings))["federation_events"] == 0
        first = await _raw_ingest(network, "ketab-sara", batch)
        assert first["accepted"] == len(batch)
        balance = next(e for e in batch if e["type"] == "balance.changed")
        changed = [{**balance, "payload": {**balance["payload"], "points": 999_999}}]
        conflict = await _raw_ingest(network, "ketab-sara", changed)
        assert conflict["conflicts"] == [balance["event_id"]]
        assert conflict["accepted"] == 0
        gap = [{**batch[0], "event_id": _new_id(), "seq": len(batch) + 3}]
        reported = await _raw_ingest(network, "ketab-sara", gap)
        assert reported["gaps"] == [len(batch) + 1, len(batch) + 2]
        assert reported["contiguousSeq"] == len(batch)


def _new_id() -> str:
    from federation.ids import new_event_id

    return new_event_id()


async def _raw_ingest(
    network: tuple[Settings, dict[str, Any]], slug: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    hub = _connection(network, slug)
    async with httpx.AsyncClient() as client:
        token = await hub._access_token(client)
        from federation.client import INGEST

        response = await client.post(
            f"{hub.hub_url}/graphql",
            json={"query": INGEST, "variables": {"events": json.loads(json.dumps(events))}},
            headers={"Authorization": f"Bearer {token}"},
        )
    data: dict[str, Any] = response.json()["data"]["ingestEvents"]
    return data


async def _balance_of(settings: Settings, identity: str) -> LocalBalance | None:
    async with engine_scope(settings.hub_db_url) as engine, session_factory(engine)() as session:
        return await session.scalar(select(LocalBalance).where(LocalBalance.pseudonym == identity))


async def _federation_status(network: tuple[Settings, dict[str, Any]]) -> dict[str, Any]:
    settings, _ = network
    admin = await asyncio.to_thread(
        _hub_db,
        settings,
        lambda s: registry.create_client(
            s, kind="console", name="ops", scopes=[Scope.MALL_REPORTS]
        ),
    )
    async with httpx.AsyncClient(base_url=settings.public_hub_url) as client:
        token = (
            await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(admin.client_id, admin.client_secret),
            )
        ).json()["access_token"]
        query = (
            "{ federationStatus { node contiguousSeq highestSeq pendingEvents oldestPendingS"
            " inboxDepth } }"
        )
        body = (
            await client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
        ).json()
    status: dict[str, Any] = body["data"]["federationStatus"][0]
    return status


async def test_large_purchases_are_split_into_batches_the_hub_accepts(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    lines = [Line("general", 1_000)] * 200  # the most lines a purchase may have
    for i in range(100):
        await record_purchase(node, PurchaseInput(f"BIG-{i}", 200_000, lines, "09121234567"), "pos")
    with LiveServer(create_hub(settings), info["port"]):
        delivered = await relay_all(node, _connection(network))
    assert delivered == (await _hub_counts(settings))["federation_events"]
    assert await _outbox_state(node) == {"pending": 0, "rejected": 0}


async def test_an_event_the_hub_refuses_is_set_aside_and_the_rest_go_through(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    await _buy(node, 10)

    async def corrupt(session: Any) -> None:
        row = await session.scalar(
            select(OutboxEvent).where(OutboxEvent.type == "purchase.recorded").limit(1)
        )
        row.payload = {**row.payload, "total_rial": -1}

    await node.transaction(corrupt)
    with LiveServer(create_hub(settings), info["port"]):
        report = await relay_once(node, _connection(network))
        again = await relay_once(node, _connection(network))
    assert report.rejected == 1
    assert report.acknowledged == report.sent - 1
    assert again.sent == 0  # the refused event is not sent again
    assert await _outbox_state(node) == {"pending": 0, "rejected": 1}


class _NotANodeHub(HubConnection):
    """A hub that does not take this client for a node (a misconfigured client id)."""

    async def ingest(
        self, events: list[dict[str, Any]], backlog: dict[str, int] | None = None
    ) -> dict[str, Any]:
        raise HubRefused(HubProblemCode.NOT_A_NODE, "only a node's client delivers events")


async def test_a_refusal_of_the_node_itself_sets_no_event_aside(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    # Given events waiting in the outbox
    await _buy(node, 3)
    connection = _connection(network)
    wrong = _NotANodeHub(connection.hub_url, connection.client_id, connection.client_secret)

    # When the hub refuses the client as not a node (not any event of the batch)
    report = await relay_once(node, wrong)

    # Then nothing is set aside: the error is reported and every event stays to be sent
    assert (report.rejected, report.acknowledged) == (0, 0)
    assert report.error is not None
    assert "NOT_A_NODE" in report.error
    assert await _outbox_state(node) == {"pending": report.sent, "rejected": 0}
    assert report.sent > 0


async def test_conflicts_are_final_and_recorded_once(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    await _buy(node, 3)
    hub = _connection(network)
    with LiveServer(create_hub(settings), info["port"]):
        await relay_all(node, hub)

        # As after a restore that went wrong: the node sends everything again, and one
        # event now says something else under the same id.
        async def restore(session: Any) -> None:
            await session.execute(update(OutboxEvent).values(delivered_at=None))
            row = await session.scalar(
                select(OutboxEvent).where(OutboxEvent.type == "balance.changed").limit(1)
            )
            row.payload = {**row.payload, "points": row.payload["points"] + 1}

        await node.transaction(restore)
        first = await relay_once(node, hub)
        second = await relay_once(node, hub)
    assert (first.rejected, first.acknowledged) == (1, first.sent - 1)
    assert second.sent == 0  # a conflict is a final answer: not sent again
    assert await _count_conflicts(settings) == 1


async def _outbox_state(node: NodeRuntime) -> dict[str, int]:
    async def read(session: Any) -> dict[str, int]:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.rejected_at.is_(None))
        )
        rejected = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.rejected_at.is_not(None))
        )
        return {"pending": int(pending or 0), "rejected": int(rejected or 0)}

    return await node.read(read)


async def _count_conflicts(settings: Settings) -> int:
    async with engine_scope(settings.hub_db_url) as engine, session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(FederationConflict)) or 0)


async def test_a_late_older_consent_report_does_not_bring_a_withdrawn_phone_back(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    settings, info = network
    from federation.envelope import MemberConsentChanged, make_envelope

    identity = pseudonym(node.network_key, "+989121234567")
    when = utcnow()

    def consent(seq: int, sharing: bool) -> dict[str, Any]:
        payload = MemberConsentChanged(
            pseudonym=identity,
            partner_sharing=sharing,
            promotional=False,
            phone="+989121234567" if sharing else None,
        )
        envelope = make_envelope(
            event_id=_new_id(), node="ketab-sara", seq=seq, occurred_at=when, payload=payload
        )
        return envelope.model_dump(mode="json")

    with LiveServer(create_hub(settings), info["port"]):
        await _raw_ingest(network, "ketab-sara", [consent(1, True)])
        assert await _hub_phone(settings, identity) == "+989121234567"
        await _raw_ingest(network, "ketab-sara", [consent(3, False)])  # withdrawn
        assert await _hub_phone(settings, identity) is None
        await _raw_ingest(network, "ketab-sara", [consent(2, True)])  # an older report, late
        assert await _hub_phone(settings, identity) is None


async def _hub_phone(settings: Settings, identity: str) -> str | None:
    async with engine_scope(settings.hub_db_url) as engine, session_factory(engine)() as session:
        shopper = await session.get(Shopper, identity)
        return None if shopper is None else shopper.phone


async def test_a_relay_that_dies_after_sending_loses_nothing_and_doubles_nothing(
    network: tuple[Settings, dict[str, Any]], node: NodeRuntime
) -> None:
    """The relay's steps up to the worst moment to die — events numbered, sent, applied by
    the hub — but never marked delivered; then a new relay run."""
    settings, info = network
    await _buy(node, 20)
    from shop_node.services.relay import _next_batch

    hub = _connection(network)
    with LiveServer(create_hub(settings), info["port"]):
        batch = await node.transaction(lambda s: _next_batch(s, "ketab-sara", 200))
        first = await hub.ingest(batch)  # ... and here the process is killed
        assert first["accepted"] == len(batch)
        delivered = await relay_all(node, hub)
    assert delivered == len(batch)  # acknowledged again, as duplicates
    assert (await _hub_counts(settings))["federation_events"] == len(batch)
    assert await _outbox_state(node) == {"pending": 0, "rejected": 0}
