"""Finding 2 of issue 14 — every capture has its purchase. The hub's capture commits before
the node's purchase transaction; a capture that no purchase event names within the window
goes back to the shopper's lots (the beat's ``hub.reconcile_captures``) and is never
settled; one whose event does not match it is flagged with a reason; a purchase event that
comes after the reversal spends nothing. On the value service (SQLite and PostgreSQL, with
a race on PostgreSQL), and through the real pieces: a node killed between the hub's capture
and its own commit, and a till that gives up and retries with a new receipt. Time moves by
passing the hub a later ``now`` (or patching its clock), never by sleeping."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubConnection
from federation.ids import new_event_id
from hub import tasks as hub_tasks
from hub.app import create_app as create_hub
from hub.db.models import CaptureFlag, SettlementPending, SettlementPeriod, ValueHold
from hub.domain.value_rules import GENERAL
from hub.services import grants, registry, settlement, value
from hub.services.value import reconcile
from mallnet.celery_app import create_celery
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key, pseudonym
from shop_node.db.models import Purchase
from shop_node.domain.errors import NetworkValueRefused, NetworkValueUncertain
from shop_node.services.network import capture_at
from shop_node.services.purchases import Capture, record_purchase
from shop_node.services.relay import relay_all
from shop_node.services.runtime import NodeRuntime

from ..conftest import HubDatabases
from ..live_server import LiveServer
from .conftest import _connection, _hub_db
from .test_network_redemption import E164, _buy, _grant, _node
from .test_network_value import Hub, new_pseudonym, prepare_hub
from .test_settlement_api import _gql, _token

CAFE, ISSUER, OTHER = "kafe-gol", "ketab-sara", "kafsh-arya"
CREDIT = 300_000
WINDOW = reconcile.DEFAULT_MATCH_WINDOW


@pytest.fixture
async def hub(hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    """The value service on a hub with the test shops, on SQLite and on PostgreSQL."""
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        service = Hub(session_factory(engine))
        yield service
        assert await service.verify() == []


@pytest.fixture
async def pg_hub(pg_hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    url = (await pg_hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        yield Hub(session_factory(engine))


async def granted_hold(hub: Hub, who: str, amount: int, receipt: str) -> ValueHold:
    """A hold at the café made with the shopper's redemption grant (as the app gives one)."""

    async def work(session: AsyncSession) -> ValueHold:
        grant = await grants.grant_for_tools(session, who)
        data = value.HoldInput(who, amount, receipt, receipt)
        outcome = await grants.hold_with_grant(session, CAFE, data, grant.code)
        assert isinstance(outcome, value.HoldOutcome), outcome
        return outcome.hold

    return await hub.run(work)


async def spent(hub: Hub, amount: int = 100_000, receipt: str = "R-1") -> tuple[str, ValueHold]:
    """A shopper with 300,000 Rial of the bookshop's credit whose grant held ``amount`` at
    the café, captured for ``receipt``."""
    who = new_pseudonym()
    await hub.issue(who, GENERAL, CREDIT, issuer=ISSUER, rate=1)
    held = await granted_hold(hub, who, amount, receipt)
    captured = await hub.capture(CAFE, held.id, purchase=receipt)
    return who, captured.hold


def event_of(hold: ValueHold) -> value.PurchaseClaim:
    """What the node's purchase event says, when it matches the capture."""
    return value.PurchaseClaim(
        shop=hold.shop,
        event_id=new_event_id(),
        receipt_id=hold.purchase_ref,
        pseudonym=hold.pseudonym,
        hold_id=hold.id,
        paid_rial=hold.captured_rial,
    )


async def match(hub: Hub, claim: value.PurchaseClaim, now: dt.datetime) -> str | None:
    return await hub.run(lambda s: value.match_purchase(s, claim, now))


async def sweep(hub: Hub, now: dt.datetime) -> int:
    return await hub.run(lambda s: value.reverse_unmatched(s, now))


async def close(hub: Hub, now: dt.datetime) -> SettlementPeriod:
    """Mall finance cuts the open period at ``now`` and closes it; the audit agrees."""

    async def work(session: AsyncSession) -> SettlementPeriod:
        period = await settlement.cut(session, "test:finance", now)
        return (await settlement.close(session, period.id, "test:finance", now)).period

    period = await hub.run(work)
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []
    return period


def paid(period: SettlementPeriod) -> dict[str, Any]:
    """What a closed period settled: captures, pairs (debtor, creditor, gross, fee) and
    payment instructions."""
    assert period.result is not None
    return {
        "captures": period.captures,
        "pairs": period.result["pairs"],
        "instructions": period.result["instructions"],
    }


NOTHING = {"captures": 0, "pairs": [], "instructions": []}


async def available(hub: Hub, who: str) -> int:
    summary = await hub.run(lambda s: value.summary(s, who))
    return sum(c.available for c in summary.credit)


async def flags(hub: Hub, hold_id: str) -> list[tuple[str, str]]:
    async def work(session: AsyncSession) -> list[tuple[str, str]]:
        rows = await session.execute(
            select(CaptureFlag.kind, CaptureFlag.reason)
            .where(CaptureFlag.hold_id == hold_id)
            .order_by(CaptureFlag.id)
        )
        return [(kind, reason) for kind, reason in rows.all()]

    return await hub.run(work)


async def pending(hub: Hub) -> int:
    async def work(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(SettlementPending)) or 0)

    return await hub.run(work)


# --- The value service ----------------------------------------------------------------------


async def test_a_capture_without_its_purchase_event_goes_back_and_is_never_settled(
    hub: Hub,
) -> None:
    who, hold = await spent(hub)
    at = hold.resolved_at
    assert at is not None
    assert await available(hub, who) == CREDIT - 100_000

    # A close before the window ends: the capture waits (nothing enters the outbox).
    assert paid(await close(hub, at + dt.timedelta(minutes=1))) == NOTHING
    assert await hub.run(lambda s: value.waiting_captures(s)) == 1
    # Not before the window is over; then once, however often the beat comes by.
    assert await sweep(hub, at + WINDOW - dt.timedelta(seconds=1)) == 0
    assert await sweep(hub, at + WINDOW) == 1
    assert await sweep(hub, at + WINDOW + dt.timedelta(minutes=1)) == 0
    assert await hub.transactions(hold.id) == {"hold": 1, "capture": 1, "refund": 1}

    row, _ = await hub.get_hold(hold.id)
    assert (row.status, row.reconciliation, row.refunded_rial) == ("captured", "reversed", 100_000)
    assert await available(hub, who) == CREDIT
    [(kind, reason)] = await flags(hub, hold.id)
    assert kind == "reversed"
    assert "no purchase event named it within 15 minutes" in reason
    history = await hub.run(lambda s: value.history(s, who, 10))
    assert history[0].kind == "refund"
    assert history[0].reason.startswith("returned: capture at kafe-gol for purchase R-1 reversed")

    # Never settled: neither the capture nor its reversal is waiting, and the next close
    # pays nothing.
    assert await pending(hub) == 0
    assert paid(await close(hub, at + WINDOW + dt.timedelta(minutes=5))) == NOTHING
    assert await hub.run(lambda s: value.waiting_captures(s)) == 0
    # The till retrying the same receipt later is told, not answered as a replay.
    with pytest.raises(value.NetworkValueError, match="reversed") as late:
        await hub.capture(CAFE, hold.id, purchase="R-1")
    assert late.value.code == "HOLD_CLOSED"
    assert await available(hub, who) == CREDIT


async def test_a_matched_capture_is_settled_and_never_reversed(hub: Hub) -> None:
    _who, hold = await spent(hub)
    at = hold.resolved_at
    assert at is not None
    # The node's purchase event, relayed a second later.
    claim = event_of(hold)
    assert await match(hub, claim, at + dt.timedelta(seconds=1)) is None
    assert await sweep(hub, at + dt.timedelta(days=1)) == 0
    row, _ = await hub.get_hold(hold.id)
    assert (row.reconciliation, row.purchase_event_id) == ("matched", claim.event_id)
    # Another event naming the same capture is flagged; the capture stays matched.
    assert await match(hub, event_of(hold), at + dt.timedelta(seconds=2)) == "already_matched"
    assert await sweep(hub, at + dt.timedelta(days=2)) == 0

    settled = paid(await close(hub, at + dt.timedelta(minutes=1)))
    assert settled["captures"] == 1
    assert [pair[:3] for pair in settled["pairs"]] == [[ISSUER, CAFE, 100_000]]
    assert await hub.transactions(hold.id) == {"hold": 1, "capture": 1}


@pytest.mark.parametrize(
    ("field", "reported", "kind", "why"),
    [
        ("pseudonym", "ff" * 32, "shopper_mismatch", "another shopper's"),
        ("paid_rial", 60_000, "amount_mismatch", "60000 Rial were paid"),
        ("receipt_id", "R-2", "receipt_mismatch", "captured for receipt 'R-1'"),
        ("shop", OTHER, "unknown_hold", "a hold this shop does not have"),
        ("hold_id", "01J0000000000000000000000A", "unknown_hold", "does not have"),
    ],
)
async def test_a_purchase_event_that_does_not_match_its_capture_is_flagged(
    hub: Hub, field: str, reported: Any, kind: str, why: str
) -> None:
    who, hold = await spent(hub)
    at = hold.resolved_at
    assert at is not None
    claim = replace(event_of(hold), **{field: reported})
    assert await match(hub, claim, at + dt.timedelta(seconds=1)) == kind

    async def flag_of(session: AsyncSession) -> CaptureFlag:
        found = await session.scalar(
            select(CaptureFlag).where(CaptureFlag.event_id == claim.event_id)
        )
        assert found is not None
        return found

    flag = await hub.run(flag_of)
    assert (flag.kind, flag.shop, flag.receipt_id) == (kind, claim.shop, claim.receipt_id)
    assert why in flag.reason
    assert flag.reported_rial == claim.paid_rial
    # Unmatched: not settled, and reversed after the window like a capture with no event.
    row, _ = await hub.get_hold(hold.id)
    assert row.reconciliation is None
    assert paid(await close(hub, at + dt.timedelta(minutes=1))) == NOTHING
    assert await sweep(hub, at + WINDOW) == 1
    assert await available(hub, who) == CREDIT
    assert paid(await close(hub, at + WINDOW + dt.timedelta(minutes=1))) == NOTHING


async def test_a_purchase_event_after_the_reversal_spends_nothing_and_is_flagged(
    hub: Hub,
) -> None:
    """A late node: its purchase was recorded, but its event reached the hub after the
    window. The value stays with the shopper (capturing again would need her grant); the
    purchase stands as not paid with network value, and mall management sees why."""
    who, hold = await spent(hub)
    at = hold.resolved_at
    assert at is not None
    assert await sweep(hub, at + WINDOW) == 1
    claim = event_of(hold)
    assert await match(hub, claim, at + WINDOW + dt.timedelta(minutes=3)) == "late_purchase"

    row, _ = await hub.get_hold(hold.id)
    assert row.reconciliation == "reversed"
    assert row.purchase_event_id is None
    assert [kind for kind, _ in await flags(hub, hold.id)] == ["reversed", "late_purchase"]
    late = (await flags(hub, hold.id))[1][1]
    assert "stands as not paid with network value (100000 Rial)" in late
    assert await available(hub, who) == CREDIT
    assert await pending(hub) == 0
    assert paid(await close(hub, at + WINDOW + dt.timedelta(minutes=5))) == NOTHING
    assert await hub.transactions(hold.id) == {"hold": 1, "capture": 1, "refund": 1}


async def test_a_refund_that_comes_before_the_purchase_event_settles_with_it(hub: Hub) -> None:
    """Batches can arrive out of order: a refund applied before its purchase event enters
    the settlement outbox with the capture when the event matches it."""
    _who, hold = await spent(hub)
    at = hold.resolved_at
    assert at is not None
    assert await hub.refund(CAFE, hold.id, 40_000, "kafe-gol:RF-1") == 40_000
    assert await pending(hub) == 0
    assert await match(hub, event_of(hold), at + dt.timedelta(seconds=1)) is None
    assert await pending(hub) == 2
    settled = paid(await close(hub, at + dt.timedelta(minutes=1)))
    assert settled["captures"] == 2
    assert [pair[:3] for pair in settled["pairs"]] == [[ISSUER, CAFE, 60_000]]
    assert await sweep(hub, at + WINDOW) == 0


async def test_an_event_naming_a_hold_that_was_not_captured_is_flagged(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, CREDIT, issuer=ISSUER, rate=1)
    held = await granted_hold(hub, who, 100_000, "R-1")
    claim = replace(event_of(held), paid_rial=100_000)
    assert await match(hub, claim, utcnow()) == "not_captured"
    [(kind, reason)] = await flags(hub, held.id)
    assert (kind, reason) == ("not_captured", "the hold is open, not captured")
    assert await sweep(hub, utcnow() + WINDOW) == 0  # nothing captured: nothing to reverse
    assert await available(hub, who) == CREDIT - 100_000  # still held, until it expires


@pytest.mark.postgres
async def test_purchase_events_racing_the_sweep_have_one_outcome_each(pg_hub: Hub) -> None:
    """At the very end of the window, purchase events and three sweeps at once: each
    capture is either matched (and settled) or reversed (and its event flagged late) —
    never both, never neither — with no retry and no deadlock."""
    captured = [await spent(pg_hub, 50_000, f"R-{i}") for i in range(12)]
    late = max(hold.resolved_at for _, hold in captured if hold.resolved_at) + WINDOW
    outcomes = await asyncio.gather(
        *(match(pg_hub, event_of(hold), late) for _, hold in captured),
        *(sweep(pg_hub, late) for _ in range(3)),
    )
    kinds, swept = outcomes[: len(captured)], outcomes[len(captured) :]
    assert set(kinds) <= {None, "late_purchase"}
    assert sum(swept) == kinds.count("late_purchase")
    for (who, hold), kind in zip(captured, kinds, strict=True):
        row, _ = await pg_hub.get_hold(hold.id)
        assert row.reconciliation == ("matched" if kind is None else "reversed")
        assert await available(pg_hub, who) == (CREDIT - 50_000 if kind is None else CREDIT)
    assert await pending(pg_hub) == kinds.count(None)
    assert await pg_hub.verify() == []


def test_beat_schedules_the_reconciliation_every_value_sweep(tmp_path: Any) -> None:
    app = create_celery(Settings(data_dir=tmp_path, value_sweep_interval_s=45))
    entry = app.conf.beat_schedule["reconcile-network-captures"]
    assert entry["task"] == "hub.reconcile_captures"
    assert entry["schedule"] == dt.timedelta(seconds=45)
    assert Settings(data_dir=tmp_path).capture_match_window_s == 15 * 60


# --- Through the node -------------------------------------------------------------------------


class NodeKilled(Exception):
    """The node process dying: nothing of its open transaction is committed."""


def dies_after(capture: Capture) -> Capture:
    """The fault at that exact point: the hub's capture has committed and answered, the
    node's purchase transaction has not."""

    async def capture_then_die(
        hold_id: str, amount: int | None, receipt: str, left: int, shopper: str
    ) -> int:
        await capture(hold_id, amount, receipt, left, shopper)
        raise NodeKilled("killed between the hub's capture and the node's commit")

    return capture_then_die


def gives_up_after(capture: Capture) -> Capture:
    """The capture reaches the hub, its answer does not come back: the till gives up."""

    async def capture_lost(
        hold_id: str, amount: int | None, receipt: str, left: int, shopper: str
    ) -> int:
        await capture(hold_id, amount, receipt, left, shopper)
        raise NetworkValueUncertain("no answer from the hub")

    return capture_lost


async def _hub_db_async(settings: Settings, work: Any) -> Any:
    """A hub transaction from an async test (``_hub_db`` runs its own event loop)."""
    return await asyncio.to_thread(_hub_db, settings, work)


async def _give_credit(settings: Settings) -> str:
    who = pseudonym(network_key(settings), E164)

    async def give(session: AsyncSession) -> Any:
        return await value.issue(
            session,
            value.IssueInput(
                pseudonym=who,
                kind=GENERAL,
                issuer=OTHER,
                amount=CREDIT,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key="lot-1",
            ),
        )

    await _hub_db_async(settings, give)
    return who


async def _hold(hub: HubConnection, settings: Settings, who: str, receipt: str) -> str:
    """The till holds 100,000 Rial with the code the hub texted the shopper."""
    held = await hub.hold(
        {
            "pseudonym": who,
            "amountRial": 100_000,
            "purchaseRef": receipt,
            "idempotencyKey": receipt,
            "grant": await _grant(hub, settings),
        }
    )
    return str(held["id"])


async def _purchases(node: NodeRuntime) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        return list(await session.scalars(select(Purchase.receipt_id).order_by(Purchase.id)))

    return await node.transaction(work)


async def _hub_state(settings: Settings, who: str) -> tuple[int, int, list[str]]:
    """The shopper's available credit, captures waiting for their event, and the value
    ledger's check of itself."""

    async def work(session: AsyncSession) -> tuple[int, int, list[str]]:
        summary = await value.summary(session, who)
        return (
            sum(c.available for c in summary.credit),
            await value.waiting_captures(session),
            await value.verify(session),
        )

    state: tuple[int, int, list[str]] = await _hub_db_async(settings, work)
    return state


async def _close(settings: Settings, now: dt.datetime) -> dict[str, Any]:
    async def work(session: AsyncSession) -> tuple[dict[str, Any], list[str]]:
        period = await settlement.cut(session, "test:finance", now)
        closed = (await settlement.close(session, period.id, "test:finance", now)).period
        return paid(closed), await settlement.verify(session, closed.id)

    settled, problems = await _hub_db_async(settings, work)
    assert problems == []
    return dict(settled)


async def _beat_at(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, now: dt.datetime
) -> dict[str, int]:
    """The beat's task, run as a worker runs it, with the hub's clock at ``now``."""
    monkeypatch.setattr(hub_tasks, "get_settings", lambda: settings)
    monkeypatch.setattr(reconcile, "utcnow", lambda: now)
    done: dict[str, int] = await asyncio.to_thread(hub_tasks.reconcile_captures)
    return done


async def test_a_node_killed_between_the_hubs_capture_and_its_commit(
    network: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, info = network
    who = await _give_credit(settings)
    node, engine = await _node(settings, ISSUER)
    hub = _connection(network, ISSUER)
    try:
        with LiveServer(create_hub(settings), info["port"]):
            hold_id = await _hold(hub, settings, who, "R-1")
            with pytest.raises(NodeKilled, match="between the hub's capture"):
                await record_purchase(
                    node,
                    _buy("R-1", 100_000, network_hold_id=hold_id),
                    "pos",
                    dies_after(capture_at(hub)),
                )
            # The node restarts with nothing of the purchase: no row, no event to relay.
            assert await _purchases(node) == []
            assert await relay_all(node, hub) == 0
            captured_at = utcnow()
            assert await _hub_state(settings, who) == (CREDIT - 100_000, 1, [])

            # Mall finance closes meanwhile: the capture is not paid.
            assert await _close(settings, captured_at + dt.timedelta(seconds=1)) == NOTHING
            # The beat, within the window and after it; then again, with no effect.
            assert await _beat_at(monkeypatch, settings, captured_at) == {"reversed": 0}
            later = captured_at + dt.timedelta(minutes=16)
            assert await _beat_at(monkeypatch, settings, later) == {"reversed": 1}
            assert await _beat_at(monkeypatch, settings, later) == {"reversed": 0}
            assert await _hub_state(settings, who) == (CREDIT, 0, [])
            assert await _close(settings, later + dt.timedelta(seconds=1)) == NOTHING

            # Mall management sees why; the shop sees its own flag, another shop none.
            finance = await _hub_db_async(
                settings,
                lambda s: registry.create_client(
                    s, kind="service", name="finance", scopes=[Scope.MALL_SETTLEMENT]
                ),
            )
            url = settings.public_hub_url
            views = {}
            for name, creds, scope in (
                ("mall", finance, "mall:settlement"),
                (ISSUER, info["creds"][ISSUER], "node:federate"),
                (OTHER, info["creds"][OTHER], "node:federate"),
            ):
                token = await asyncio.to_thread(
                    _token, url, creds.client_id, creds.client_secret, scope
                )
                body = await asyncio.to_thread(_gql, url, token, "CaptureReconciliation")
                views[name] = body["data"]["captureReconciliation"]
            [flag] = views["mall"]["flags"]
            assert (flag["kind"], flag["shop"], flag["holdId"], flag["receiptId"]) == (
                "reversed",
                ISSUER,
                hold_id,
                "R-1",
            )
            assert "no purchase event named it within 15 minutes" in flag["reason"]
            assert views[ISSUER] == views["mall"]
            assert views[OTHER] == {"waiting": 0, "flags": []}

            # The till retrying the same receipt now is refused; nothing is recorded.
            with pytest.raises(NetworkValueRefused, match="reversed") as refused:
                await record_purchase(
                    node, _buy("R-1", 100_000, network_hold_id=hold_id), "pos", capture_at(hub)
                )
            assert refused.value.hub_code == "HOLD_CLOSED"
            assert await _purchases(node) == []
            assert await _hub_state(settings, who) == (CREDIT, 0, [])
    finally:
        await engine.dispose()


async def test_a_till_that_retries_with_a_new_receipt_pays_once(
    network: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, info = network
    who = await _give_credit(settings)
    node, engine = await _node(settings, ISSUER)
    hub = _connection(network, ISSUER)
    try:
        with LiveServer(create_hub(settings), info["port"]):
            # The first try: captured at the hub, the answer lost, the till gives up.
            first = await _hold(hub, settings, who, "R-1")
            with pytest.raises(NetworkValueUncertain, match="no answer"):
                await record_purchase(
                    node,
                    _buy("R-1", 100_000, network_hold_id=first),
                    "pos",
                    gives_up_after(capture_at(hub)),
                )
            # It starts again with a new receipt: a new grant, a new hold, a purchase.
            second = await _hold(hub, settings, who, "R-2")
            done = await record_purchase(
                node, _buy("R-2", 100_000, network_hold_id=second), "pos", capture_at(hub)
            )
            assert done.purchase.network_paid_rial == 100_000
            assert await relay_all(node, hub) > 0
            assert await _purchases(node) == ["R-2"]
            # Both captured; the second's event has matched it.
            now = utcnow()
            assert await _hub_state(settings, who) == (CREDIT - 200_000, 1, [])

            later = now + dt.timedelta(minutes=16)
            assert await _beat_at(monkeypatch, settings, later) == {"reversed": 1}
            assert await _hub_state(settings, who) == (CREDIT - 100_000, 0, [])

        async def holds(session: AsyncSession) -> dict[str, str | None]:
            rows = await session.execute(select(ValueHold.id, ValueHold.reconciliation))
            return dict(rows.all())

        assert await _hub_db_async(settings, holds) == {first: "reversed", second: "matched"}
        # Only the second capture is settled: the shoe shop's credit, spent at the bookshop.
        settled = await _close(settings, later + dt.timedelta(seconds=1))
        assert settled["captures"] == 1
        assert [pair[:3] for pair in settled["pairs"]] == [[OTHER, ISSUER, 100_000]]
    finally:
        await engine.dispose()
