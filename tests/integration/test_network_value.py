"""The hub's network value ledger against a real database: a property test over any
sequence of operations, idempotency, acceptance, settlement input, refunds, expiry, and
concurrency on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.envelope import PurchaseRefunded
from federation.ids import new_event_id
from hub.db.models import (
    SettlementPending,
    ValueHold,
    ValueHoldLot,
    ValueLot,
    ValueRedemption,
    ValueTransaction,
)
from hub.domain.value_rules import GENERAL, POOLED, TARGETED, accepted_at, split_capture, unit_of
from hub.services import registry, value
from hub.services.value import HoldInput, HoldOutcome, IssueInput, NetworkValueError
from mallnet.db import create_engine, engine_scope, session_factory, transaction, utcnow
from mallnet.migrations import upgrade

from ..conftest import HubDatabases

T = TypeVar("T")

SHOPS = {"ketab-sara": "books", "ketab-nou": "books", "kafe-gol": "cafe", "kafsh-arya": "shoes"}
RATE = 1_000  # Rial a pooled point, in these tests
ALL_KINDS = (POOLED, GENERAL, TARGETED)


def new_pseudonym() -> str:
    return secrets.token_hex(32)


async def prepare_hub(url: str) -> None:
    await upgrade("hub", url)
    async with (
        engine_scope(url) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        for slug, category in SHOPS.items():
            await registry.register_shop(session, registry.ShopInput(slug, slug, slug, category))


class Hub:
    """The value service, one transaction per call (as the API and the intake run it)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.keys = 0

    def key(self, prefix: str = "k") -> str:
        self.keys += 1
        return f"{prefix}-{secrets.token_hex(6)}-{self.keys}"

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await transaction(self.sessions, work)

    async def issue(
        self,
        who: str,
        kind: str,
        amount: int,
        *,
        issuer: str = "ketab-sara",
        expires_at: dt.datetime | None = None,
        shops: Sequence[str] = (),
        category: str | None = None,
        rate: int = RATE,
        origin: str = "test",
        now: dt.datetime | None = None,
    ) -> ValueLot:
        data = IssueInput(
            pseudonym=who,
            kind=kind,
            issuer=issuer,
            amount=amount,
            expires_at=expires_at or utcnow() + dt.timedelta(days=30),
            reason="test issue",
            origin=origin,
            key=self.key("issue"),
            rial_per_point=rate,
            accepted_shops=shops,
            accepted_category=category,
        )
        return await self.run(lambda s: value.issue(s, data, now))

    async def hold(
        self,
        shop: str,
        who: str,
        amount: int,
        *,
        key: str | None = None,
        partial: bool = False,
        kinds: Sequence[str] = ALL_KINDS,
        ttl: int = value.DEFAULT_HOLD_TTL_S,
    ) -> HoldOutcome:
        data = HoldInput(
            pseudonym=who,
            amount_rial=amount,
            purchase_ref="R-1",
            idempotency_key=key or self.key("hold"),
            partial=partial,
            kinds=kinds,
            ttl_s=ttl,
        )
        return await self.run(lambda s: value.hold(s, shop, data))

    async def capture(
        self, shop: str, hold_id: str, amount: int | None = None, purchase: str | None = None
    ) -> HoldOutcome:
        return await self.run(lambda s: value.capture(s, shop, hold_id, amount, purchase))

    async def purchase(
        self, shop: str, hold_id: str, amount: int | None = None, purchase: str | None = None
    ) -> HoldOutcome:
        """The capture, then the node's purchase event naming it as intake reconciles it
        (matched: the next close settles it)."""
        captured = await self.capture(shop, hold_id, amount, purchase)
        claim = value.PurchaseClaim(
            shop=shop,
            event_id=new_event_id(),
            receipt_id=captured.hold.purchase_ref,
            pseudonym=captured.hold.pseudonym,
            hold_id=hold_id,
            paid_rial=captured.hold.captured_rial,
        )
        assert await self.run(lambda s: value.match_purchase(s, claim, utcnow())) is None
        return captured

    async def void(self, shop: str, hold_id: str) -> HoldOutcome:
        return await self.run(lambda s: value.void(s, shop, hold_id))

    async def refund(
        self, shop: str, hold_id: str, amount: int, key: str, now: dt.datetime | None = None
    ) -> int:
        at = now or utcnow()
        return await self.run(lambda s: value.refund(s, shop, hold_id, amount, key, at))

    async def verify(self, who: str | None = None) -> list[str]:
        return await self.run(lambda s: value.verify(s, who))

    async def totals(self, unit: str, who: str | None = None) -> value.Totals:
        return await self.run(lambda s: value.totals(s, unit, who))

    async def lots(self, who: str) -> list[ValueLot]:
        async def work(session: AsyncSession) -> list[ValueLot]:
            query = select(ValueLot).where(ValueLot.pseudonym == who).order_by(ValueLot.id)
            return list((await session.scalars(query)).all())

        return await self.run(work)

    async def lot(self, lot_id: int) -> ValueLot:
        async def work(session: AsyncSession) -> ValueLot:
            found = await session.get(ValueLot, lot_id)
            assert found is not None
            return found

        return await self.run(work)

    async def get_hold(self, hold_id: str) -> tuple[ValueHold, list[ValueHoldLot]]:
        async def work(session: AsyncSession) -> tuple[ValueHold, list[ValueHoldLot]]:
            row = await session.get(ValueHold, hold_id)
            assert row is not None
            portions = await session.scalars(
                select(ValueHoldLot)
                .where(ValueHoldLot.hold_id == hold_id)
                .order_by(ValueHoldLot.position)
            )
            return row, list(portions.all())

        return await self.run(work)

    async def transactions(self, hold_id: str) -> Counter[str]:
        async def work(session: AsyncSession) -> Counter[str]:
            kinds = await session.scalars(
                select(ValueTransaction.kind).where(ValueTransaction.hold_id == hold_id)
            )
            return Counter(kinds.all())

        return await self.run(work)

    async def clawed(self, who: str) -> Counter[str]:
        """What clawbacks took back from ``who``, per unit, as the ledger says."""

        async def work(session: AsyncSession) -> Counter[str]:
            query = select(
                func.coalesce(func.sum(ValueTransaction.points), 0),
                func.coalesce(func.sum(ValueTransaction.credit_rial), 0),
            ).where(ValueTransaction.pseudonym == who, ValueTransaction.kind == "clawback")
            points, rial = (await session.execute(query)).one()
            return Counter({"point": int(points), "rial": int(rial)})

        return await self.run(work)

    async def count_transactions(self, who: str) -> int:
        async def work(session: AsyncSession) -> int:
            query = select(func.count()).where(ValueTransaction.pseudonym == who)
            return int(await session.scalar(query) or 0)

        return await self.run(work)

    async def pending_of(self, hold_id: str) -> int:
        """How many of the hold's settlement lines wait in the settlement outbox."""

        async def work(session: AsyncSession) -> int:
            query = (
                select(func.count())
                .select_from(SettlementPending)
                .join(ValueRedemption, ValueRedemption.id == SettlementPending.ref_id)
                .where(SettlementPending.kind == "capture", ValueRedemption.hold_id == hold_id)
            )
            return int(await session.scalar(query) or 0)

        return await self.run(work)

    async def redemptions(self, hold_id: str) -> list[ValueRedemption]:
        async def work(session: AsyncSession) -> list[ValueRedemption]:
            query = (
                select(ValueRedemption)
                .where(ValueRedemption.hold_id == hold_id)
                .order_by(ValueRedemption.id)
            )
            return list((await session.scalars(query)).all())

        return await self.run(work)


async def attempt(call: Awaitable[T]) -> T | str:
    """What ``call`` returns, or the code of the NetworkValueError it raises."""
    try:
        return await call
    except NetworkValueError as exc:
        return exc.code


async def problem(call: Awaitable[object]) -> str:
    """The code of the NetworkValueError ``call`` raises (fails if it raises none)."""
    with pytest.raises(NetworkValueError) as caught:
        await call
    return caught.value.code


# --- Databases ------------------------------------------------------------------------------


@pytest.fixture
def hub_url(hub_databases: HubDatabases) -> str:
    """A hub with the test shops, on SQLite and on PostgreSQL."""
    return hub_databases.new_sync(prepare_hub).url


@pytest.fixture
async def hub(hub_url: str) -> AsyncIterator[Hub]:
    async with engine_scope(hub_url) as engine:
        service = Hub(session_factory(engine))
        yield service
        assert await service.verify() == []


@pytest.fixture
async def pg_hub(pg_hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    url = (await pg_hub_databases.new(prepare_hub)).url
    engine = create_engine(url)  # pooled: 30 connections at most, whatever the load
    try:
        yield Hub(session_factory(engine))
    finally:
        await engine.dispose()


# --- The property: any sequence of operations keeps every invariant -------------------------


@dataclass
class ModelHold:
    id: str
    shop: str
    key: str
    amount: int
    partial: bool
    kinds: tuple[str, ...]
    ttl: int
    held_rial: int
    portions: list[tuple[int, int, str]]  # (units, rial per unit, unit)
    status: str = "open"
    capture_arg: int | None = None
    captured_rial: int = 0
    refunded_rial: int = 0
    refunds: list[tuple[str, int]] = field(default_factory=list)  # (key, amount)
    # The capture reconciled with a purchase event: None, "matched" or "reversed".
    reconciliation: str | None = None


@dataclass
class Model:
    who: str
    clock: dt.datetime
    issued: Counter[str] = field(default_factory=Counter)
    clawed: Counter[str] = field(default_factory=Counter)
    holds: list[ModelHold] = field(default_factory=list)
    # receipt origin -> (issuer, unit, purchase total, refunded before)
    receipts: dict[str, list[Any]] = field(default_factory=dict)
    refunds_returned: int = 0


shops = st.sampled_from(sorted(SHOPS))
lot_kinds = st.sampled_from(
    [
        (POOLED, (), None),
        (GENERAL, (), None),
        (TARGETED, ("ketab-nou",), None),
        (TARGETED, ("kafe-gol", "kafsh-arya"), None),
        (TARGETED, (), "cafe"),
        (TARGETED, (), "books"),
    ]
)
hold_index = st.integers(0, 20)
share = st.tuples(st.integers(1, 110), st.integers(-700, 700))


def issues(
    kinds: st.SearchStrategy[tuple[str, tuple[str, ...], str | None]],
) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(
        st.just("issue"),
        kinds,
        st.integers(1, 25),  # points, or thousands of Rial of credit
        st.integers(0, 999),  # odd Rial on top for credit
        st.sampled_from([1, 5, 40]),  # days of validity
        st.sampled_from(["ketab-sara", "kafe-gol"]),
        st.integers(0, 2),  # which receipt of the issuer
        st.sampled_from([700, 1_000]),  # Rial a point
    )


issue_ops = issues(lot_kinds)
hold_ops = st.tuples(
    st.just("hold"),
    shops,
    share,  # of the value the shopper has (spendable here or not)
    st.booleans(),
    st.sampled_from([ALL_KINDS, ALL_KINDS, (POOLED,), (GENERAL, TARGETED), (TARGETED,)]),
    st.sampled_from([60, 3_600]),
)


def part(whole: int, share: tuple[int, int]) -> int:
    percent, give_or_take = share
    return max(1, whole * percent // 100 + give_or_take)


OPERATIONS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "issue": issue_ops,
    "hold": hold_ops,
    "hold_again": st.tuples(st.just("hold_again"), hold_index),
    # None: capture it all; else a share of what was held (in %) give or take some Rial.
    "capture": st.tuples(st.just("capture"), hold_index, st.none() | share),
    "capture_again": st.tuples(st.just("capture_again"), hold_index),
    "void": st.tuples(st.just("void"), hold_index),
    "expire_holds": st.tuples(st.just("expire_holds"), st.sampled_from([120, 7_200])),
    "expire_lots": st.tuples(st.just("expire_lots"), st.sampled_from([0, 2, 10, 60])),
    # A share of what is left to refund, or a few Rial (less than a point).
    # Refunds of one hold, each a share of what is left to refund or a few Rial (less
    # than a point), and whether it is sent again at once.
    "refund": st.tuples(
        st.just("refund"),
        hold_index,
        st.lists(
            st.tuples(share | st.tuples(st.just(0), st.integers(1, 999)), st.booleans()),
            min_size=1,
            max_size=3,
        ),
    ),
    "refund_again": st.tuples(st.just("refund_again"), hold_index),
    "clawback": st.tuples(st.just("clawback"), hold_index, st.integers(1, 1_000_000)),
    # The node's purchase event naming a hold reaches the hub.
    "match": st.tuples(st.just("match"), hold_index),
    # The beat, past the window: every capture no event matched goes back.
    "reconcile": st.tuples(st.just("reconcile")),
}
# Holds, captures and refunds more often than the rest: they are what the rest act on.
WEIGHTS = {"hold": 4, "capture": 3, "refund": 3, "match": 2}
operations = st.lists(
    st.sampled_from([name for name in OPERATIONS for _ in range(WEIGHTS.get(name, 1))]).flatmap(
        OPERATIONS.__getitem__
    ),
    min_size=3,
    max_size=20,
)
# Every shopper starts with pooled points and general credit (holds mix them), maybe more.
scenarios = st.tuples(
    issues(st.just((POOLED, (), None))),
    issues(st.just((GENERAL, (), None))),
    st.lists(issue_ops, max_size=3),
    operations,
).map(lambda parts: [parts[0], parts[1], *parts[2], *parts[3]])

PURCHASE_TOTAL = 1_000_000


async def apply(hub: Hub, model: Model, op: tuple[Any, ...]) -> None:
    name = op[0]
    if name == "issue":
        _, (kind, accepted, category), amount, odd, days, issuer, receipt, rate = op
        if kind != POOLED:
            amount = amount * 1_000 + odd
        unit = unit_of(kind)
        origin = f"receipt:{issuer}:{model.who[:8]}-{receipt}-{unit}"
        lot = await hub.issue(
            model.who,
            kind,
            amount,
            issuer=issuer,
            expires_at=model.clock + dt.timedelta(days=days),
            shops=accepted,
            category=category,
            rate=rate,
            origin=origin,
            now=model.clock,
        )
        assert (lot.amount, lot.remaining, lot.held) == (amount, amount, 0)
        assert lot.rial_per_point == (rate if kind == POOLED else 1)
        model.issued[unit] += amount
        if origin not in model.receipts:  # the hub's record of the purchase's total
            receipt_id = origin.split(":")[2]
            await hub.run(
                lambda s: value.record_purchase_total(
                    s, issuer, receipt_id, PURCHASE_TOTAL, model.clock
                )
            )
        model.receipts.setdefault(origin, [issuer, unit, PURCHASE_TOTAL, 0])
        return
    if name == "hold":
        _, shop, of_all, partial, kinds, ttl = op
        worth = sum(
            (lot.remaining - lot.held) * lot.rial_per_point for lot in await hub.lots(model.who)
        )
        amount = part(worth, of_all)
        key = hub.key("hold")
        outcome_or_code = await attempt(
            hub.hold(shop, model.who, amount, key=key, partial=partial, kinds=kinds, ttl=ttl)
        )
        if isinstance(outcome_or_code, str):
            assert outcome_or_code == "INSUFFICIENT_VALUE"
            event("hold refused")
            return
        event(f"hold of {len(outcome_or_code.portions)} lots")
        outcome = outcome_or_code
        row = outcome.hold
        assert not outcome.replayed
        assert 0 < row.held_rial <= amount
        assert partial or row.held_rial == amount
        rates = {lot.id: lot for lot in await hub.lots(model.who)}
        portions = []
        for p in outcome.portions:
            lot = rates[p.lot_id]
            assert lot.kind in kinds
            assert accepted_at(value.lot_view(lot), shop, SHOPS[shop])
            portions.append((p.units, lot.rial_per_point, unit_of(lot.kind)))
        assert sum(u * r for u, r, _ in portions) == row.held_rial
        model.holds.append(
            ModelHold(
                row.id, shop, key, amount, partial, tuple(kinds), ttl, row.held_rial, portions
            )
        )
        return
    if name == "expire_holds":
        seconds = op[1]
        await hub.run(lambda s: value.expire_holds(s, utcnow() + dt.timedelta(seconds=seconds)))
        for held in model.holds:
            if held.status == "open" and held.ttl < seconds:
                held.status = "expired"
        return
    if name == "expire_lots":
        model.clock += dt.timedelta(days=op[1])
        if await hub.run(lambda s: value.expire_lots(s, model.clock)):
            event("lots expired")
        return
    if name == "clawback":
        await clawback(hub, model, op[1], op[2])
        return
    if name == "reconcile":
        await reconcile(hub, model)
        return
    if not model.holds:
        return
    # Small indexes (what Hypothesis tries most) are the latest holds; a capture goes to an
    # open hold and a refund to a captured hold when there is one.
    candidates = model.holds
    if name == "capture":
        candidates = [h for h in model.holds if h.status == "open"] or model.holds
    elif name in ("refund", "refund_again", "match"):
        candidates = [h for h in model.holds if h.status == "captured"] or model.holds
    target = candidates[-1 - op[1] % len(candidates)]
    if name == "hold_again":
        again = hub.hold(
            target.shop,
            model.who,
            target.amount,
            key=target.key,
            partial=target.partial,
            kinds=target.kinds,
            ttl=target.ttl,
        )
        if target.status in ("voided", "expired"):
            # That hold is over: asking again makes a new one (released here at once, so
            # the model's holds stay as they are).
            fresh = await attempt(again)
            if isinstance(fresh, str):
                assert fresh == "INSUFFICIENT_VALUE"
            else:
                assert not fresh.replayed
                assert fresh.hold.id != target.id
                await hub.void(target.shop, fresh.hold.id)
            return
        outcome = await again
        assert outcome.replayed
        assert outcome.hold.id == target.id
        code = await problem(
            hub.hold(target.shop, model.who, target.amount + 1, key=target.key, ttl=target.ttl)
        )
        assert code == "IDEMPOTENCY_CONFLICT"
    elif name in ("capture", "capture_again"):
        if name == "capture":
            amount = None if op[2] is None else part(target.held_rial, op[2])
        else:
            amount = target.capture_arg
        if target.reconciliation == "reversed":
            # Its value went back: the same capture again is refused, not replayed.
            assert await problem(hub.capture(target.shop, target.id, amount)) == "HOLD_CLOSED"
            return
        if target.status == "captured":
            # "All of it" and the same amount named are one capture (hub.services.value.capture).
            def wanted_of(arg: int | None) -> int:
                return target.held_rial if arg is None else arg

            if wanted_of(amount) == wanted_of(target.capture_arg):
                outcome = await hub.capture(target.shop, target.id, amount)
                assert outcome.replayed
                assert outcome.hold.captured_rial == target.captured_rial
            else:
                assert await problem(hub.capture(target.shop, target.id, amount)) == "HOLD_CLOSED"
            return
        if target.status != "open":
            assert await problem(hub.capture(target.shop, target.id, amount)) == "HOLD_CLOSED"
            return
        wanted = target.held_rial if amount is None else amount
        expected = split_capture([(u, r) for u, r, _ in target.portions], wanted)[1]
        if wanted > target.held_rial or expected == 0:
            assert await problem(hub.capture(target.shop, target.id, amount)) == "INVALID_INPUT"
            return
        outcome = await hub.capture(target.shop, target.id, amount)
        assert not outcome.replayed
        assert outcome.hold.status == "captured"
        assert outcome.hold.captured_rial == expected <= wanted
        target.status, target.capture_arg, target.captured_rial = "captured", amount, expected
        event("captured in full" if expected == target.held_rial else "captured in part")
    elif name == "void":
        if target.status == "captured":
            assert await problem(hub.void(target.shop, target.id)) == "HOLD_CLOSED"
            return
        outcome = await hub.void(target.shop, target.id)
        assert outcome.replayed == (target.status != "open")
        assert outcome.hold.status == ("voided" if target.status == "open" else target.status)
        target.status = outcome.hold.status
    elif name == "refund":
        for share_of_rest, again in op[2]:
            await refund(hub, model, target, share_of_rest, again)
    elif name == "refund_again":
        await refund_again(hub, model, target)
    elif name == "match":
        await match(hub, target)
    else:  # pragma: no cover
        raise AssertionError(name)


async def refund(
    hub: Hub, model: Model, target: ModelHold, share_of_rest: tuple[int, int], again: bool
) -> None:
    key = hub.key("refund")
    amount = part(target.captured_rial - target.refunded_rial, share_of_rest)
    if target.status != "captured":
        code = await problem(hub.refund(target.shop, target.id, amount, key, model.clock))
        assert code == "HOLD_CLOSED"
        return
    returned = await hub.refund(target.shop, target.id, amount, key, model.clock)
    assert returned >= 0
    target.refunded_rial += max(0, min(amount, target.captured_rial - target.refunded_rial))
    target.refunds.append((key, amount))
    model.refunds_returned += returned
    event("refund returned value" if returned else "refund returned nothing")
    if any(lot.origin.startswith("lot:") for lot in await hub.lots(model.who)):
        event("refund made a new lot")
    if again:
        await refund_again(hub, model, target)


async def match(hub: Hub, target: ModelHold) -> None:
    """The node's purchase event for the hold, as it reports it (what it captured)."""
    row, _ = await hub.get_hold(target.id)
    claim = value.PurchaseClaim(
        target.shop, new_event_id(), row.purchase_ref, row.pseudonym, row.id, row.captured_rial
    )
    flagged = await hub.run(lambda s: value.match_purchase(s, claim, utcnow()))
    expected = {"matched": "already_matched", "reversed": "late_purchase"}.get(
        target.reconciliation or "", None if target.status == "captured" else "not_captured"
    )
    assert flagged == expected, (flagged, target)
    if flagged is None:
        target.reconciliation = "matched"
    event(f"purchase event: {flagged or 'matched'}")


async def reconcile(hub: Hub, model: Model) -> None:
    """Past the window, the beat reverses every capture no event matched (every shopper's:
    the database is shared), in full, back to its lots — once."""
    waiting = [h for h in model.holds if h.status == "captured" and h.reconciliation is None]
    before = {h.id: await hub.get_hold(h.id) for h in waiting}
    later = max(model.clock, utcnow()) + dt.timedelta(days=1)
    while await hub.run(lambda s: value.reverse_unmatched(s, later)):
        pass
    assert await hub.run(lambda s: value.reverse_unmatched(s, later)) == 0
    rates = {lot.id: lot.rial_per_point for lot in await hub.lots(model.who)}
    for target in waiting:
        row, portions = await hub.get_hold(target.id)
        assert (row.reconciliation, row.refunded_rial) == ("reversed", row.captured_rial)
        _, earlier = before[target.id]
        model.refunds_returned += sum(
            (p.refunded_units - q.refunded_units) * rates[p.lot_id]
            for p, q in zip(portions, earlier, strict=True)
        )
        target.reconciliation, target.refunded_rial = "reversed", target.captured_rial
    event(f"{len(waiting)} captures reversed")


async def refund_again(hub: Hub, model: Model, target: ModelHold) -> None:
    """The last refund of a hold sent again (same key, same amount): nothing changes."""
    if not target.refunds:
        return
    key, amount = target.refunds[-1]
    before = await hub.count_transactions(model.who)
    returned = await hub.refund(target.shop, target.id, amount, key, model.clock)
    assert returned == 0
    assert await hub.count_transactions(model.who) == before
    row, _ = await hub.get_hold(target.id)
    assert row.refunded_rial == target.refunded_rial


async def clawback(hub: Hub, model: Model, index: int, asked: int) -> None:
    """The issuing shop refunds part of a purchase: the hub takes back its share of the
    value that purchase issued (what is still available of it)."""
    origins = sorted(model.receipts)
    if not origins:
        return
    origin = origins[index % len(origins)]
    issuer, unit, total, before = model.receipts[origin]
    amount = min(asked, total - before)
    if amount <= 0:
        return
    lots = [lot for lot in await hub.lots(model.who) if lot.origin == origin]
    wanted = sum(
        lot.amount * (before + amount) // total - lot.amount * before // total for lot in lots
    )
    refund_id = hub.key("refund")
    refunded = PurchaseRefunded(
        receipt_id=origin.split(":")[2],
        refund_id=refund_id,
        pseudonym=model.who,
        amount_rial=amount,
        purchase_total_rial=total,
        refunded_before_rial=before,
    )
    taken = await hub.run(lambda s: value.clawback_for_refund(s, issuer, refunded, model.clock))
    assert 0 <= taken <= wanted
    again = await hub.run(lambda s: value.clawback_for_refund(s, issuer, refunded, model.clock))
    assert again == 0  # the same refund event again takes nothing more
    model.receipts[origin][3] = before + amount
    # Held or spent value is owed and taken when it comes back: at most what was wanted.
    model.clawed[unit] += wanted
    event("clawback took value" if taken else "clawback took nothing")


async def check_invariants(hub: Hub, model: Model) -> None:
    assert await hub.verify() == []
    assert await hub.verify(model.who) == []
    lots = await hub.lots(model.who)
    for lot in lots:
        assert 0 <= lot.held <= lot.remaining <= lot.amount, lot.id
    rate = {lot.id: lot.rial_per_point for lot in lots}
    unit = {lot.id: unit_of(lot.kind) for lot in lots}
    captured: Counter[str] = Counter()
    held: Counter[str] = Counter()
    returned_rial = 0
    for expected in model.holds:
        row, portions = await hub.get_hold(expected.id)
        assert row.status == expected.status, (row.id, row.status, expected.status)
        assert row.reconciliation == expected.reconciliation, (row.id, row.reconciliation)
        assert 0 <= row.refunded_rial <= row.captured_rial <= row.held_rial <= row.requested_rial
        assert row.captured_rial == expected.captured_rial
        assert row.refunded_rial == expected.refunded_rial
        for p in portions:
            assert 0 <= p.refunded_units <= p.captured_units <= p.units
            if row.status == "open":
                assert p.captured_units == 0
                held[unit[p.lot_id]] += p.units
            captured[unit[p.lot_id]] += p.captured_units - p.refunded_units
            returned_rial += p.refunded_units * rate[p.lot_id]
        if row.status == "captured":
            assert row.captured_rial == sum(p.captured_units * rate[p.lot_id] for p in portions)
            # Refunds return at most what was refunded, less by under a point; all of it
            # returns exactly what was captured.
            back = sum(p.refunded_units * rate[p.lot_id] for p in portions)
            top = max(rate[p.lot_id] for p in portions)
            assert row.refunded_rial - top < back <= row.refunded_rial
            if row.refunded_rial == row.captured_rial:
                assert all(p.refunded_units == p.captured_units for p in portions)
        rows = await hub.redemptions(row.id)
        assert sum(r.amount_rial for r in rows) == sum(
            (p.captured_units - p.refunded_units) * rate[p.lot_id] for p in portions
        )
        assert all(r.amount_rial == r.units * rate[r.lot_id] for r in rows)
        # Only a matched capture's lines wait for settlement (no close runs here).
        waiting = await hub.pending_of(row.id)
        assert waiting == (len(rows) if expected.reconciliation == "matched" else 0)
    assert returned_rial == model.refunds_returned
    for u in ("point", "rial"):
        t = await hub.totals(u, model.who)
        assert t.issued == t.remaining + t.captured + t.expired, t
        clawed = (await hub.clawed(model.who))[u]
        assert clawed <= model.clawed[u], (u, clawed, model.clawed)
        assert t.issued == model.issued[u] - clawed, (u, t, model.issued, clawed)
        assert t.remaining == sum(lot.remaining for lot in lots if unit[lot.id] == u)
        assert t.held == sum(lot.held for lot in lots if unit[lot.id] == u) == held[u]
        assert t.captured == captured[u]
        assert t.expired >= 0


async def scenario(url: str, ops: list[tuple[Any, ...]]) -> None:
    # An engine per event loop; pooled, as the service is (a connection per call is slow).
    engine = create_engine(url)
    try:
        hub = Hub(session_factory(engine))
        model = Model(who=new_pseudonym(), clock=utcnow())
        for op in ops:
            await apply(hub, model, op)
            assert await hub.verify(model.who) == [], op
        await check_invariants(hub, model)
    finally:
        await engine.dispose()


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=scenarios)
# Found by this test: a captured hold asked again for the amount it captured, named this
# time (1 percent of a hold of a few Rial is all of it), is the same capture.
@example(
    ops=[
        ("issue", ("pooled_points", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        ("issue", ("general_credit", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        ("issue", ("pooled_points", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        ("issue", ("pooled_points", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        ("expire_lots", 2),
        (
            "hold",
            "kafe-gol",
            (1, 0),
            False,
            ("pooled_points", "general_credit", "targeted_credit"),
            60,
        ),
        ("issue", ("targeted_credit", ("ketab-nou",), None), 1, 0, 1, "ketab-sara", 0, 700),
        (
            "hold",
            "ketab-nou",
            (1, -9),
            False,
            ("pooled_points", "general_credit", "targeted_credit"),
            60,
        ),
        ("refund", 0, [((0, 1), False)]),
        ("issue", ("pooled_points", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        ("capture", 0, None),
        ("issue", ("pooled_points", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        (
            "hold",
            "kafe-gol",
            (1, 0),
            False,
            ("pooled_points", "general_credit", "targeted_credit"),
            60,
        ),
        ("issue", ("pooled_points", (), None), 1, 0, 1, "ketab-sara", 0, 700),
        ("capture", 0, (1, 0)),
    ]
)
# Reconciliation: one capture matched by its purchase event, the other reversed by the beat
# and its event arriving late; refunds of both; the reversed one captured again.
@example(
    ops=[
        ("issue", ("pooled_points", (), None), 20, 0, 40, "ketab-sara", 0, 1_000),
        ("issue", ("general_credit", (), None), 20, 0, 40, "kafe-gol", 0, 1_000),
        ("hold", "kafe-gol", (40, 0), False, ALL_KINDS, 3_600),
        ("capture", 0, None),
        ("hold", "kafsh-arya", (40, 0), True, ALL_KINDS, 3_600),
        ("refund", 0, [((50, 0), False)]),
        ("capture", 0, None),
        ("match", 0),
        ("reconcile",),
        ("match", 1),
        ("refund", 1, [((50, 0), True)]),
        ("refund", 0, [((50, 0), True)]),
        ("capture_again", 1),
        ("reconcile",),
    ]
)
def test_any_sequence_of_operations_keeps_the_ledger_whole(
    hub_url: str, ops: list[tuple[Any, ...]]
) -> None:
    """One database for all examples (a fresh shopper each): the ledger of the whole
    database stays balanced too, whatever the other shoppers did."""
    asyncio.run(scenario(hub_url, ops))


# --- Issuance and the audit -----------------------------------------------------------------


async def test_issuing_with_the_same_key_again_issues_once(hub: Hub) -> None:
    who = new_pseudonym()
    data = IssueInput(
        pseudonym=who,
        kind=GENERAL,
        issuer="ketab-sara",
        amount=5_000,
        expires_at=utcnow() + dt.timedelta(days=30),
        reason="welcome",
        origin="test",
        key="welcome-1",
    )
    first = await hub.run(lambda s: value.issue(s, data))
    again = await hub.run(lambda s: value.issue(s, data))
    assert again.id == first.id
    assert len(await hub.lots(who)) == 1
    assert await hub.count_transactions(who) == 1
    assert await hub.totals("rial", who) == value.Totals(5_000, 5_000, 0, 0, 0)


@pytest.mark.parametrize("amount", [0, -5, 10**15 + 1])
async def test_issuing_nothing_is_refused(hub: Hub, amount: int) -> None:
    assert await problem(hub.issue(new_pseudonym(), GENERAL, amount)) == "INVALID_INPUT"


async def test_a_purchase_issues_what_the_policy_in_force_grants_once(hub: Hub) -> None:
    who = new_pseudonym()
    policy = {
        "pooled_share_bp": 2_000,
        "pooled_valid_days": 90,
        "credit_rules": [
            {"credit_bp": 1_000, "accepted_shops": ["kafe-gol"], "valid_days": 7},
            {"credit_bp": 500, "min_purchase_rial": 5_000_000},
        ],
    }
    await hub.run(lambda s: value.set_point_value(s, 1_500, "admin"))
    await hub.run(lambda s: value.set_issuance_policy(s, "ketab-sara", policy, "admin"))
    occurred = utcnow()
    facts = value.PurchaseFacts(
        total_rial=1_000_000,
        paid_with_value_rial=200_000,
        points_earned=55,
        lines=[("books", 1_000_000)],
    )

    async def purchase(session: AsyncSession) -> list[ValueLot]:
        return await value.issue_for_purchase(
            session, "ketab-sara", "E-1", "R-9", who, facts, occurred
        )

    lots = await hub.run(purchase)
    assert [
        (lot.kind, lot.amount, lot.rial_per_point, lot.accepted_shops, lot.expires_at)
        for lot in lots
    ] == [
        (POOLED, 11, 1_500, [], occurred + dt.timedelta(days=90)),
        (TARGETED, 80_000, 1, ["kafe-gol"], occurred + dt.timedelta(days=7)),
    ]
    assert all(lot.origin == "receipt:ketab-sara:R-9" for lot in lots)
    # The same event again issues nothing more.
    assert [lot.id for lot in await hub.run(purchase)] == [lot.id for lot in lots]
    assert len(await hub.lots(who)) == 2
    # A purchase from before the shop had a policy issues nothing.
    early = await hub.run(
        lambda s: value.issue_for_purchase(
            s, "ketab-sara", "E-0", "R-8", who, facts, occurred - dt.timedelta(days=1)
        )
    )
    assert early == []


async def test_verify_reports_a_tampered_ledger(hub: Hub) -> None:
    """The audit the property test relies on does find broken invariants."""
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 5_000)
    assert await hub.verify(who) == []

    async def tamper(session: AsyncSession) -> None:
        await session.execute(
            value.LOTS.update().where(value.LOTS.c.id == lot.id).values(remaining=4_999)
        )

    await hub.run(tamper)
    problems = await hub.verify(who)
    assert any(f"lot {lot.id}: cache remaining=4999" in p for p in problems), problems

    async def repair_and_unbalance(session: AsyncSession) -> None:
        await session.execute(
            value.LOTS.update().where(value.LOTS.c.id == lot.id).values(remaining=5_000)
        )
        txn = await session.scalar(
            select(ValueTransaction.id).where(ValueTransaction.pseudonym == who)
        )
        await session.execute(
            value.POSTINGS.insert().values(
                transaction_id=txn, account="expired", unit="rial", amount=7
            )
        )

    await hub.run(repair_and_unbalance)
    problems = await hub.verify(who)
    assert any("is unbalanced in rial: 7" in p for p in problems), problems
    assert any("rial: issued 5000 != remaining+captured+expired" in p for p in problems)

    async def undo(session: AsyncSession) -> None:
        await session.execute(value.POSTINGS.delete().where(value.POSTINGS.c.amount == 7))

    await hub.run(undo)  # the fixture checks the whole ledger at the end


# --- Idempotency ----------------------------------------------------------------------------


async def test_the_same_hold_request_again_is_the_same_hold(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000)
    first = await hub.hold("kafsh-arya", who, 4_000, key="pos-1")
    again = await hub.hold("kafsh-arya", who, 4_000, key="pos-1")
    assert not first.replayed
    assert again.replayed
    assert again.hold.id == first.hold.id
    assert [(p.lot_id, p.units) for p in again.portions] == [(lot.id, 4_000)]
    assert (await hub.lot(lot.id)).held == 4_000
    assert await hub.transactions(first.hold.id) == {"hold": 1}


@pytest.mark.parametrize(
    "change",
    [{"amount": 4_001}, {"partial": True}, {"kinds": (POOLED,)}, {"ttl": 60}, {"who": "other"}],
)
async def test_the_same_hold_key_for_another_request_is_a_conflict(
    hub: Hub, change: dict[str, Any]
) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    first = await hub.hold("kafsh-arya", who, 4_000, key="pos-1")
    request: dict[str, Any] = {
        "who": who,
        "amount": 4_000,
        "partial": False,
        "kinds": ALL_KINDS,
        "ttl": value.DEFAULT_HOLD_TTL_S,
    } | change
    if request["who"] == "other":
        request["who"] = new_pseudonym()
    code = await problem(
        hub.hold(
            "kafsh-arya",
            request["who"],
            request["amount"],
            key="pos-1",
            partial=request["partial"],
            kinds=request["kinds"],
            ttl=request["ttl"],
        )
    )
    assert code == "IDEMPOTENCY_CONFLICT"
    assert await hub.transactions(first.hold.id) == {"hold": 1}


async def test_hold_keys_are_per_shop(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    one = await hub.hold("kafsh-arya", who, 4_000, key="pos-1")
    two = await hub.hold("kafe-gol", who, 4_000, key="pos-1")
    assert not two.replayed
    assert two.hold.id != one.hold.id


async def test_capturing_twice_the_same_amount_is_a_replay(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    first = await hub.capture("kafsh-arya", held.hold.id, 5_000)
    again = await hub.capture("kafsh-arya", held.hold.id, 5_000)
    assert (first.replayed, again.replayed) == (False, True)
    assert first.hold.captured_rial == again.hold.captured_rial == 5_000
    assert await hub.transactions(held.hold.id) == {"hold": 1, "capture": 1, "release": 1}
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held) == (5_000, 0)
    # Another amount on a captured hold is refused, as is a void.
    assert await problem(hub.capture("kafsh-arya", held.hold.id, 4_000)) == "HOLD_CLOSED"
    assert await problem(hub.capture("kafsh-arya", held.hold.id)) == "HOLD_CLOSED"
    assert await problem(hub.void("kafsh-arya", held.hold.id)) == "HOLD_CLOSED"


async def test_a_full_capture_again_is_a_replay(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    await hub.capture("kafsh-arya", held.hold.id)
    again = await hub.capture("kafsh-arya", held.hold.id)
    assert again.replayed
    assert again.hold.captured_rial == 6_000
    assert await hub.transactions(held.hold.id) == {"hold": 1, "capture": 1}


async def test_capture_after_void_is_refused(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    await hub.void("kafsh-arya", held.hold.id)
    assert await problem(hub.capture("kafsh-arya", held.hold.id)) == "HOLD_CLOSED"
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held) == (10_000, 0)
    assert await hub.redemptions(held.hold.id) == []


async def test_voiding_twice_releases_once(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    first = await hub.void("kafsh-arya", held.hold.id)
    again = await hub.void("kafsh-arya", held.hold.id)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.hold.status == "voided"
    assert await hub.transactions(held.hold.id) == {"hold": 1, "release": 1}
    assert (await hub.lot(lot.id)).held == 0


async def test_another_shop_cannot_touch_a_hold(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    assert await problem(hub.capture("kafe-gol", held.hold.id)) == "NOT_FOUND"
    assert await problem(hub.void("kafe-gol", held.hold.id)) == "NOT_FOUND"
    assert await hub.transactions(held.hold.id) == {"hold": 1}


async def test_a_capture_for_another_purchase_is_refused(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)  # for purchase R-1
    code = await problem(hub.capture("kafsh-arya", held.hold.id, purchase="R-2"))
    assert code == "HOLD_MISMATCH"
    assert (await hub.get_hold(held.hold.id))[0].status == "open"
    captured = await hub.capture("kafsh-arya", held.hold.id, purchase="R-1")
    assert captured.hold.captured_rial == 6_000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pseudonym": "not-a-pseudonym"}, "pseudonym"),
        ({"pseudonym": "A" * 64}, "pseudonym"),
        ({"amount_rial": 0}, "amountRial"),
        ({"amount_rial": True}, "amountRial"),
        ({"amount_rial": 10**15 + 1}, "amountRial"),
        ({"ttl_s": 29}, "ttlSeconds"),
        ({"ttl_s": 24 * 3600 + 1}, "ttlSeconds"),
        ({"kinds": ()}, "kinds"),
        ({"kinds": ("local_points",)}, "kinds"),
        ({"idempotency_key": ""}, "idempotencyKey"),
        ({"idempotency_key": "x" * 65}, "idempotencyKey"),
        ({"idempotency_key": "کلید"}, "idempotencyKey"),
        ({"purchase_ref": ""}, "purchaseRef"),
    ],
)
async def test_invalid_hold_requests_are_refused(
    hub: Hub, change: dict[str, Any], field: str
) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    request: dict[str, Any] = {
        "pseudonym": who,
        "amount_rial": 1_000,
        "purchase_ref": "R-1",
        "idempotency_key": "pos-1",
    } | change
    with pytest.raises(NetworkValueError) as caught:
        await hub.run(lambda s: value.hold(s, "kafsh-arya", HoldInput(**request)))
    assert (caught.value.code, caught.value.field) == ("INVALID_INPUT", field)
    assert await hub.count_transactions(who) == 1  # the issue only


async def test_an_expired_hold_cannot_be_captured(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000, ttl=60)
    later = utcnow() + dt.timedelta(seconds=61)
    with monkeypatch.context() as patch:
        patch.setattr(value.holds, "utcnow", lambda: later)
        assert await problem(hub.capture("kafsh-arya", held.hold.id)) == "HOLD_EXPIRED"
    assert (await hub.lot(lot.id)).held == 6_000  # until the expiry job runs
    assert await hub.run(lambda s: value.expire_holds(s, later)) == 1
    assert await hub.run(lambda s: value.expire_holds(s, later)) == 0
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held) == (10_000, 0)
    assert await problem(hub.capture("kafsh-arya", held.hold.id)) == "HOLD_CLOSED"
    voided = await hub.void("kafsh-arya", held.hold.id)
    assert voided.replayed
    assert voided.hold.status == "expired"
    assert await hub.transactions(held.hold.id) == {"hold": 1, "release": 1}


async def test_expiring_holds_leaves_the_others_open(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    short = await hub.hold("kafsh-arya", who, 1_000, ttl=60)
    long = await hub.hold("kafsh-arya", who, 2_000, ttl=3_600)
    assert await hub.run(lambda s: value.expire_holds(s, utcnow() + dt.timedelta(minutes=5))) == 1
    assert (await hub.get_hold(short.hold.id))[0].status == "expired"
    assert (await hub.get_hold(long.hold.id))[0].status == "open"
    assert (await hub.capture("kafsh-arya", long.hold.id)).hold.captured_rial == 2_000


async def test_a_refund_with_the_same_key_again_has_no_effect(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    await hub.capture("kafsh-arya", held.hold.id)
    assert await hub.refund("kafsh-arya", held.hold.id, 2_500, "refund-1") == 2_500
    assert await hub.refund("kafsh-arya", held.hold.id, 2_500, "refund-1") == 0
    row, portions = await hub.get_hold(held.hold.id)
    assert row.refunded_rial == 2_500
    assert [p.refunded_units for p in portions] == [2_500]
    assert (await hub.lot(lot.id)).remaining == 4_000 + 2_500
    assert (await hub.transactions(held.hold.id))["refund"] == 1
    # A new key refunds more, never beyond what was captured.
    assert await hub.refund("kafsh-arya", held.hold.id, 10_000, "refund-2") == 3_500
    assert await hub.refund("kafsh-arya", held.hold.id, 1, "refund-3") == 0
    assert (await hub.lot(lot.id)).remaining == 10_000


async def test_a_refund_that_returned_no_point_is_not_applied_again(hub: Hub) -> None:
    """Points return whole, rounded down: a refund of 500 Rial of a 1,000 Rial point
    returns nothing yet, and a second refund of 700 (1,200 in all) returns one point. Sent
    again with the same key, either refund must have no further effect."""
    who = new_pseudonym()
    lot = await hub.issue(who, POOLED, 5)
    held = await hub.hold("kafsh-arya", who, 5_000)
    await hub.capture("kafsh-arya", held.hold.id)
    assert await hub.refund("kafsh-arya", held.hold.id, 500, "refund-1") == 0
    assert await hub.refund("kafsh-arya", held.hold.id, 700, "refund-2") == 1_000
    before = await hub.count_transactions(who)
    assert await hub.refund("kafsh-arya", held.hold.id, 500, "refund-1") == 0
    assert await hub.refund("kafsh-arya", held.hold.id, 700, "refund-2") == 0
    row, portions = await hub.get_hold(held.hold.id)
    assert row.refunded_rial == 1_200
    assert [p.refunded_units for p in portions] == [1]
    assert (await hub.lot(lot.id)).remaining == 1
    assert await hub.count_transactions(who) == before


async def test_only_a_captured_hold_is_refunded(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 10_000)
    held = await hub.hold("kafsh-arya", who, 6_000)
    code = await problem(hub.refund("kafsh-arya", held.hold.id, 1_000, "refund-1"))
    assert code == "HOLD_CLOSED"
    code = await problem(hub.refund("kafe-gol", held.hold.id, 1_000, "refund-2"))
    assert code == "NOT_FOUND"


# --- Holding and capturing ------------------------------------------------------------------


async def test_a_hold_takes_the_soonest_expiring_value_first(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    late = await hub.issue(who, GENERAL, 5_000, expires_at=now + dt.timedelta(days=90))
    soon = await hub.issue(who, GENERAL, 3_000, expires_at=now + dt.timedelta(days=2))
    middle = await hub.issue(who, POOLED, 4, expires_at=now + dt.timedelta(days=10))
    held = await hub.hold("kafsh-arya", who, 9_000)
    assert [(p.lot_id, p.units) for p in held.portions] == [
        (soon.id, 3_000),
        (middle.id, 4),
        (late.id, 2_000),
    ]
    assert held.hold.held_rial == 9_000


async def test_not_enough_value_is_refused_unless_partial(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 3_000)
    code = await problem(hub.hold("kafsh-arya", who, 5_000))
    assert code == "INSUFFICIENT_VALUE"
    assert (await hub.lot(lot.id)).held == 0
    partial = await hub.hold("kafsh-arya", who, 5_000, partial=True)
    assert (partial.hold.requested_rial, partial.hold.held_rial) == (5_000, 3_000)
    code = await problem(hub.hold("kafsh-arya", who, 1, partial=True))
    assert code == "INSUFFICIENT_VALUE"  # all of it is held now


async def test_points_are_held_whole(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, POOLED, 5)
    assert await problem(hub.hold("kafsh-arya", who, 3_500)) == "INSUFFICIENT_VALUE"
    assert await problem(hub.hold("kafsh-arya", who, 999, partial=True)) == "INSUFFICIENT_VALUE"
    held = await hub.hold("kafsh-arya", who, 3_500, partial=True)
    assert held.hold.held_rial == 3_000
    assert [p.units for p in held.portions] == [3]


async def test_the_kinds_asked_for_limit_what_is_held(hub: Hub) -> None:
    who = new_pseudonym()
    points = await hub.issue(who, POOLED, 5)
    await hub.issue(who, GENERAL, 5_000, expires_at=utcnow() + dt.timedelta(days=1))
    held = await hub.hold("kafsh-arya", who, 2_000, kinds=(POOLED,))
    assert [(p.lot_id, p.units) for p in held.portions] == [(points.id, 2)]


async def test_a_partial_capture_releases_the_rest(hub: Hub) -> None:
    who = new_pseudonym()
    points = await hub.issue(who, POOLED, 5, expires_at=utcnow() + dt.timedelta(days=1))
    credit = await hub.issue(who, GENERAL, 5_000)
    held = await hub.hold("kafsh-arya", who, 7_000)
    assert [p.units for p in held.portions] == [5, 2_000]
    captured = await hub.capture("kafsh-arya", held.hold.id, 3_700)
    assert captured.hold.captured_rial == 3_700
    assert [p.captured_units for p in captured.portions] == [3, 700]
    assert ((await hub.lot(points.id)).remaining, (await hub.lot(points.id)).held) == (2, 0)
    assert ((await hub.lot(credit.id)).remaining, (await hub.lot(credit.id)).held) == (4_300, 0)
    assert await hub.transactions(held.hold.id) == {"hold": 1, "capture": 1, "release": 1}


async def test_a_capture_of_more_than_held_or_less_than_a_point_is_refused(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, POOLED, 5)
    held = await hub.hold("kafsh-arya", who, 3_000)
    assert await problem(hub.capture("kafsh-arya", held.hold.id, 3_001)) == "INVALID_INPUT"
    assert await problem(hub.capture("kafsh-arya", held.hold.id, 999)) == "INVALID_INPUT"
    assert await problem(hub.capture("kafsh-arya", held.hold.id, 0)) == "INVALID_INPUT"
    assert (await hub.capture("kafsh-arya", held.hold.id, 2_999)).hold.captured_rial == 2_000


async def test_a_hold_uses_points_when_credit_that_expires_sooner_cannot_cover(hub: Hub) -> None:
    """500 Rial of credit expiring tomorrow and 2 points (2,000 Rial): a payment of 2,000
    Rial is covered by the points, so it must not be refused."""
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 500, expires_at=utcnow() + dt.timedelta(days=1))
    await hub.issue(who, POOLED, 2, expires_at=utcnow() + dt.timedelta(days=30))
    held = await hub.hold("kafsh-arya", who, 2_000)
    assert held.hold.held_rial == 2_000


async def test_a_partial_capture_takes_what_the_hold_can_cover(hub: Hub) -> None:
    """A hold of 500 Rial of credit and 2 points (2,500 Rial) captured for 2,000 Rial: the
    2 points cover it exactly; the capture must not stop at 1,500."""
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 500, expires_at=utcnow() + dt.timedelta(days=1))
    await hub.issue(who, POOLED, 2, expires_at=utcnow() + dt.timedelta(days=30))
    held = await hub.hold("kafsh-arya", who, 2_500)
    captured = await hub.capture("kafsh-arya", held.hold.id, 2_000)
    assert captured.hold.captured_rial == 2_000


# --- Acceptance -----------------------------------------------------------------------------


async def test_targeted_credit_is_spent_only_at_its_shops(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, TARGETED, 5_000, shops=("ketab-nou", "kafe-gol"))
    assert await problem(hub.hold("kafsh-arya", who, 1_000)) == "INSUFFICIENT_VALUE"
    assert await problem(hub.hold("ketab-sara", who, 1_000, partial=True)) == "INSUFFICIENT_VALUE"
    assert await hub.run(lambda s: value.spendable_at(s, who, "kafsh-arya")) == (0, 0, 0)
    assert await hub.run(lambda s: value.spendable_at(s, who, "kafe-gol")) == (0, 5_000, 5_000)
    for shop in ("ketab-nou", "kafe-gol"):
        held = await hub.hold(shop, who, 1_000)
        assert [(p.lot_id, p.units) for p in held.portions] == [(lot.id, 1_000)]


async def test_targeted_credit_for_a_category_is_spent_at_its_shops(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, TARGETED, 5_000, category="books")
    assert await problem(hub.hold("kafe-gol", who, 1_000)) == "INSUFFICIENT_VALUE"
    assert await problem(hub.hold("kafsh-arya", who, 1_000)) == "INSUFFICIENT_VALUE"
    for shop in ("ketab-sara", "ketab-nou"):
        held = await hub.hold(shop, who, 1_000)
        assert [(p.lot_id, p.units) for p in held.portions] == [(lot.id, 1_000)]


async def test_an_unknown_shop_takes_only_value_valid_everywhere(hub: Hub) -> None:
    who = new_pseudonym()
    await hub.issue(who, TARGETED, 5_000, category="books")
    general = await hub.issue(who, GENERAL, 1_000)
    held = await hub.hold("no-such-shop", who, 3_000, partial=True)
    assert [(p.lot_id, p.units) for p in held.portions] == [(general.id, 1_000)]


@pytest.mark.parametrize("kind", [POOLED, GENERAL])
async def test_pooled_points_and_general_credit_are_spent_everywhere(hub: Hub, kind: str) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, kind, 50 if kind == POOLED else 50_000, issuer="kafe-gol")
    for shop in SHOPS:
        held = await hub.hold(shop, who, 2_000)
        assert [p.lot_id for p in held.portions] == [lot.id]
        await hub.capture(shop, held.hold.id)
    assert (await hub.lot(lot.id)).remaining == (42 if kind == POOLED else 42_000)


async def test_targeted_credit_is_spent_before_general_value_when_it_expires_sooner(
    hub: Hub,
) -> None:
    who = new_pseudonym()
    now = utcnow()
    general = await hub.issue(who, GENERAL, 5_000, expires_at=now + dt.timedelta(days=5))
    targeted = await hub.issue(
        who, TARGETED, 1_000, shops=("ketab-nou",), expires_at=now + dt.timedelta(days=1)
    )
    at_other = await hub.hold("kafsh-arya", who, 2_000)
    assert [(p.lot_id, p.units) for p in at_other.portions] == [(general.id, 2_000)]
    at_listed = await hub.hold("ketab-nou", who, 2_000)
    assert [(p.lot_id, p.units) for p in at_listed.portions] == [
        (targeted.id, 1_000),
        (general.id, 1_000),
    ]


# --- Settlement input -----------------------------------------------------------------------


async def test_a_capture_records_who_issued_and_who_redeemed_per_lot(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    points = await hub.issue(
        who, POOLED, 4, issuer="kafe-gol", rate=1_200, expires_at=now + dt.timedelta(days=1)
    )
    credit = await hub.issue(who, GENERAL, 10_000, issuer="ketab-sara")
    held = await hub.hold("kafsh-arya", who, 8_000)
    captured = await hub.capture("kafsh-arya", held.hold.id, 7_000)
    assert captured.hold.captured_rial == 7_000
    rows = await hub.redemptions(held.hold.id)
    assert [
        (r.lot_id, r.kind, r.issuer_shop, r.redeemer_shop, r.units, r.amount_rial) for r in rows
    ] == [
        (points.id, POOLED, "kafe-gol", "kafsh-arya", 4, 4_800),
        (credit.id, GENERAL, "ketab-sara", "kafsh-arya", 2_200, 2_200),
    ]
    assert len({r.transaction_id for r in rows}) == 1

    # A refund adds the same rows, negative; the net is what was spent and not refunded.
    returned = await hub.refund("kafsh-arya", held.hold.id, 5_000, "refund-1")
    # Credit first (2,200 Rial), then whole points, rounded down: 2 points (2,400).
    assert returned == 4_600
    rows = await hub.redemptions(held.hold.id)
    reversal = [(r.lot_id, r.units, r.amount_rial) for r in rows[2:]]
    assert reversal == [(points.id, -2, -2_400), (credit.id, -2_200, -2_200)]
    assert all(r.redeemer_shop == "kafsh-arya" for r in rows)
    net: Counter[str] = Counter()
    for r in rows:
        net[r.issuer_shop] += r.amount_rial
    assert net == {"kafe-gol": 2_400, "ketab-sara": 0}
    assert sum(r.amount_rial for r in rows) == 7_000 - 4_600
    # Refunding the rest nets every issuer to zero.
    assert await hub.refund("kafsh-arya", held.hold.id, 10_000, "refund-2") == 2_400
    rows = await hub.redemptions(held.hold.id)
    assert sum(r.amount_rial for r in rows) == 0
    assert sum(r.units for r in rows if r.lot_id == credit.id) == 0
    assert (await hub.lot(points.id)).remaining == 4
    assert (await hub.lot(credit.id)).remaining == 10_000


async def test_the_point_value_of_a_lot_is_kept_when_the_mall_changes_it(hub: Hub) -> None:
    who = new_pseudonym()
    old = await hub.issue(who, POOLED, 3, rate=1_000, expires_at=utcnow() + dt.timedelta(days=1))
    new = await hub.issue(who, POOLED, 3, rate=2_000)
    held = await hub.hold("kafsh-arya", who, 7_000)
    await hub.capture("kafsh-arya", held.hold.id)
    rows = await hub.redemptions(held.hold.id)
    assert [(r.lot_id, r.units, r.amount_rial) for r in rows] == [
        (old.id, 3, 3_000),
        (new.id, 2, 4_000),
    ]


# --- Refunds and expiry ---------------------------------------------------------------------


async def test_a_refund_returns_value_to_the_lots_it_came_from(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    first = await hub.issue(who, GENERAL, 2_000, expires_at=now + dt.timedelta(days=1))
    second = await hub.issue(who, GENERAL, 5_000, issuer="kafe-gol")
    held = await hub.hold("kafsh-arya", who, 6_000)
    await hub.capture("kafsh-arya", held.hold.id)
    # Laid end to end: the first 2,000 Rial refunded go back to the first lot.
    assert await hub.refund("kafsh-arya", held.hold.id, 2_500, "refund-1") == 2_500
    assert (await hub.lot(first.id)).remaining == 2_000
    assert (await hub.lot(second.id)).remaining == 1_000 + 500
    assert len(await hub.lots(who)) == 2


async def test_a_refund_to_an_expired_lot_makes_a_new_lot_of_the_same_issuer(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    lot = await hub.issue(
        who,
        TARGETED,
        6_000,
        issuer="kafe-gol",
        shops=("kafsh-arya",),
        expires_at=now + dt.timedelta(days=3),
        now=now - dt.timedelta(days=7),  # a 10-day lot
    )
    held = await hub.hold("kafsh-arya", who, 4_000)
    await hub.capture("kafsh-arya", held.hold.id)
    later = now + dt.timedelta(days=4)
    assert await hub.run(lambda s: value.expire_lots(s, later)) == 1
    assert await hub.totals("rial", who) == value.Totals(6_000, 0, 0, 4_000, 2_000)

    assert await hub.refund("kafsh-arya", held.hold.id, 3_000, "refund-1", later) == 3_000
    assert (await hub.lot(lot.id)).remaining == 0
    lots = await hub.lots(who)
    assert len(lots) == 2
    fresh = lots[1]
    assert (fresh.kind, fresh.issuer_shop, fresh.accepted_shops) == (
        TARGETED,
        "kafe-gol",
        ["kafsh-arya"],
    )
    assert (fresh.amount, fresh.remaining, fresh.held, fresh.rial_per_point) == (3_000, 3_000, 0, 1)
    assert fresh.origin == f"lot:{lot.id}"
    # It lives at least 30 days (the original lived 10).
    assert fresh.expires_at == later + dt.timedelta(days=value.REFUND_LOT_DAYS)
    assert await hub.totals("rial", who) == value.Totals(6_000, 3_000, 0, 1_000, 2_000)
    # Settlement: the reversal names the original lot and its issuer.
    rows = await hub.redemptions(held.hold.id)
    assert [(r.lot_id, r.issuer_shop, r.amount_rial) for r in rows] == [
        (lot.id, "kafe-gol", 4_000),
        (lot.id, "kafe-gol", -3_000),
    ]
    # The new lot is spendable where the original was.
    assert await problem(hub.hold("ketab-sara", who, 1_000)) == "INSUFFICIENT_VALUE"
    again = await hub.hold("kafsh-arya", who, 3_000)
    assert [p.lot_id for p in again.portions] == [fresh.id]


async def test_a_refund_lot_lives_as_long_as_a_long_original(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    lot = await hub.issue(
        who,
        POOLED,
        10,
        expires_at=now + dt.timedelta(days=1),
        now=now - dt.timedelta(days=364),  # a lot of a year
    )
    held = await hub.hold("kafsh-arya", who, 4_000)
    await hub.capture("kafsh-arya", held.hold.id)
    later = now + dt.timedelta(days=2)
    await hub.run(lambda s: value.expire_lots(s, later))
    assert await hub.refund("kafsh-arya", held.hold.id, 4_000, "refund-1", later) == 4_000
    fresh = (await hub.lots(who))[1]
    assert fresh.origin == f"lot:{lot.id}"
    assert (fresh.kind, fresh.amount, fresh.remaining, fresh.rial_per_point) == (POOLED, 4, 4, RATE)
    assert fresh.expires_at == later + dt.timedelta(days=365)


async def test_expiry_takes_what_is_available_and_waits_for_what_is_held(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    lot = await hub.issue(who, GENERAL, 10_000, expires_at=now + dt.timedelta(days=1))
    held = await hub.hold("kafsh-arya", who, 4_000)
    later = now + dt.timedelta(days=2)
    assert await hub.run(lambda s: value.expire_lots(s, later)) == 1
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held) == (4_000, 4_000)
    assert await hub.run(lambda s: value.expire_lots(s, later)) == 0
    await hub.void("kafsh-arya", held.hold.id)
    assert await hub.run(lambda s: value.expire_lots(s, later)) == 1
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held) == (0, 0)
    assert await hub.totals("rial", who) == value.Totals(10_000, 0, 0, 0, 10_000)
    # Expired value is not spendable.
    assert await hub.run(lambda s: value.spendable_at(s, who, "kafsh-arya", later)) == (0, 0, 0)


async def test_expiry_still_works_after_a_refund_that_raced_it(hub: Hub) -> None:
    """The intake takes its clock when a batch starts: a refund in a batch that started
    just before a lot's expiry returns value to that lot even when the expiry job has swept
    it meanwhile. The next sweep must expire that value, not fail (a failing sweep fails
    its whole batch, every run: no lot would expire any more)."""
    who = new_pseudonym()
    now = utcnow()
    expiry = now + dt.timedelta(days=1)
    lot = await hub.issue(who, GENERAL, 10_000, expires_at=expiry)
    held = await hub.hold("kafsh-arya", who, 5_000)
    await hub.capture("kafsh-arya", held.hold.id)
    batch_started = expiry - dt.timedelta(seconds=1)
    sweep = expiry + dt.timedelta(seconds=1)
    assert await hub.run(lambda s: value.expire_lots(s, sweep)) == 1  # 5,000 expire
    assert await hub.refund("kafsh-arya", held.hold.id, 5_000, "refund-1", batch_started) == 5_000
    assert (await hub.lot(lot.id)).remaining == 5_000
    later = sweep + dt.timedelta(minutes=1)
    assert await hub.run(lambda s: value.expire_lots(s, later)) == 1
    assert (await hub.lot(lot.id)).remaining == 0
    assert await hub.totals("rial", who) == value.Totals(10_000, 0, 0, 0, 10_000)


async def test_expiry_is_not_early(hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    lot = await hub.issue(who, GENERAL, 10_000, expires_at=now + dt.timedelta(days=1))
    at = now + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    assert await hub.run(lambda s: value.expire_lots(s, at)) == 0
    assert (await hub.lot(lot.id)).remaining == 10_000
    assert await hub.run(lambda s: value.expire_lots(s, now + dt.timedelta(days=1))) == 1


# --- Clawback -------------------------------------------------------------------------------


def refunded(
    who: str, receipt: str, refund_id: str, amount: int, before: int, total: int = 1_000_000
) -> PurchaseRefunded:
    return PurchaseRefunded(
        receipt_id=receipt,
        refund_id=refund_id,
        pseudonym=who,
        amount_rial=amount,
        purchase_total_rial=total,
        refunded_before_rial=before,
    )


async def test_a_refund_at_the_issuing_shop_takes_back_its_share_of_the_value(hub: Hub) -> None:
    who = new_pseudonym()
    origin = "receipt:ketab-sara:R-7"
    points = await hub.issue(who, POOLED, 7, origin=origin)
    credit = await hub.issue(who, GENERAL, 10_001, origin=origin)
    other = await hub.issue(who, GENERAL, 5_000, origin="receipt:ketab-sara:R-8")
    now = utcnow()
    # The hub's own record of the purchase (taken at the intake of its event): 1,000,000 Rial
    await hub.run(lambda s: value.record_purchase_total(s, "ketab-sara", "R-7", 1_000_000, now))

    async def claw(refund: PurchaseRefunded) -> int:
        return await hub.run(lambda s: value.clawback_for_refund(s, "ketab-sara", refund, now))

    # A third of the purchase: 2 of 7 points (rounded down), 3,333 of 10,001 Rial.
    assert await claw(refunded(who, "R-7", "F-1", 333_334, 0)) == 2 + 3_333
    assert (await hub.lot(points.id)).remaining == 5
    assert (await hub.lot(credit.id)).remaining == 10_001 - 3_333
    # The same refund again takes nothing more.
    assert await claw(refunded(who, "R-7", "F-1", 333_334, 0)) == 0
    # The rest of the purchase takes the rest: all of it, cumulatively.
    assert await claw(refunded(who, "R-7", "F-2", 666_666, 333_334)) == 5 + 6_668
    assert (await hub.lot(points.id)).remaining == 0
    assert (await hub.lot(credit.id)).remaining == 0
    assert (await hub.lot(other.id)).remaining == 5_000
    # Issued is net of what was taken back.
    assert await hub.totals("point", who) == value.Totals(0, 0, 0, 0, 0)
    assert await hub.totals("rial", who) == value.Totals(5_000, 5_000, 0, 0, 0)


async def test_a_clawback_leaves_spent_and_held_value_alone(hub: Hub) -> None:
    who = new_pseudonym()
    origin = "receipt:ketab-sara:R-7"
    lot = await hub.issue(who, GENERAL, 10_000, origin=origin)
    spent = await hub.hold("kafsh-arya", who, 6_000)
    await hub.capture("kafsh-arya", spent.hold.id)
    held = await hub.hold("kafsh-arya", who, 3_000)
    now = utcnow()
    taken = await hub.run(
        lambda s: value.clawback_for_refund(
            s, "ketab-sara", refunded(who, "R-7", "F-1", 1_000_000, 0), now
        )
    )
    assert taken == 1_000  # only what was neither spent nor held
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held) == (3_000, 3_000)
    assert (await hub.capture("kafsh-arya", held.hold.id)).hold.captured_rial == 3_000
    assert await hub.totals("rial", who) == value.Totals(9_000, 0, 0, 9_000, 0)


async def test_value_of_a_refunded_purchase_is_taken_back_when_it_comes_back(hub: Hub) -> None:
    """The purchase that issued the value is refunded while the value is held or spent:
    the issuer is owed it, and takes it as soon as a void or a refund brings it back —
    the shopper never spends value from a refunded purchase."""
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000, origin="receipt:ketab-sara:R-8")
    spent = await hub.hold("kafsh-arya", who, 6_000)
    await hub.capture("kafsh-arya", spent.hold.id)
    held = await hub.hold("kafe-gol", who, 4_000)
    now = utcnow()
    refund = refunded(who, "R-8", "F-2", 1_000_000, 0)
    assert await hub.run(lambda s: value.clawback_for_refund(s, "ketab-sara", refund, now)) == 0
    assert (await hub.lot(lot.id)).clawback_due == 10_000
    again = await hub.run(lambda s: value.clawback_for_refund(s, "ketab-sara", refund, now))
    assert again == 0
    assert (await hub.lot(lot.id)).clawback_due == 10_000  # a replay owes nothing more
    await hub.void("kafe-gol", held.hold.id)
    after = await hub.lot(lot.id)
    assert (after.remaining, after.held, after.clawback_due) == (0, 0, 6_000)
    assert await hub.run(lambda s: value.spendable_at(s, who, "kafe-gol")) == (0, 0, 0)
    await hub.refund("kafsh-arya", spent.hold.id, 6_000, "refund-8")
    after = await hub.lot(lot.id)
    assert (after.remaining, after.clawback_due) == (0, 0)
    assert await hub.totals("rial", who) == value.Totals(0, 0, 0, 0, 0)
    assert await hub.verify(who) == []


async def test_a_clawback_only_touches_the_refunding_shops_purchase(hub: Hub) -> None:
    who = new_pseudonym()
    lot = await hub.issue(who, GENERAL, 10_000, origin="receipt:ketab-sara:R-7")
    now = utcnow()
    taken = await hub.run(
        lambda s: value.clawback_for_refund(
            s, "kafe-gol", refunded(who, "R-7", "F-1", 1_000_000, 0), now
        )
    )
    assert taken == 0
    assert (await hub.lot(lot.id)).remaining == 10_000


# --- Concurrency on PostgreSQL --------------------------------------------------------------


async def outcome_of(call: Awaitable[HoldOutcome]) -> str:
    try:
        result = await call
    except NetworkValueError as exc:
        return exc.code
    return "replayed" if result.replayed else "done"


@pytest.mark.postgres
async def test_concurrent_holds_never_hold_more_than_there_is(pg_hub: Hub) -> None:
    who = new_pseudonym()
    now = utcnow()
    lots = [
        await pg_hub.issue(who, GENERAL, 3_000, expires_at=now + dt.timedelta(days=1)),
        await pg_hub.issue(who, GENERAL, 4_000, expires_at=now + dt.timedelta(days=2)),
        await pg_hub.issue(who, GENERAL, 3_000, expires_at=now + dt.timedelta(days=3)),
    ]
    shops_cycle = sorted(SHOPS)
    results = await asyncio.gather(
        *(
            outcome_of(pg_hub.hold(shops_cycle[i % 4], who, 1_000, key=f"pos-{i}"))
            for i in range(100)
        )
    )
    assert Counter(results) == {"done": 10, "INSUFFICIENT_VALUE": 90}
    for lot in lots:
        after = await pg_hub.lot(lot.id)
        assert after.remaining == after.held == lot.amount
    assert await pg_hub.totals("rial", who) == value.Totals(10_000, 10_000, 10_000, 0, 0)
    assert await pg_hub.verify() == []


@pytest.mark.postgres
async def test_concurrent_captures_of_a_hold_capture_once(pg_hub: Hub) -> None:
    who = new_pseudonym()
    lot = await pg_hub.issue(who, GENERAL, 10_000)
    held = await pg_hub.hold("kafsh-arya", who, 6_000)
    results = await asyncio.gather(
        *(outcome_of(pg_hub.capture("kafsh-arya", held.hold.id, 5_000)) for _ in range(20))
    )
    assert Counter(results) == {"done": 1, "replayed": 19}
    assert await pg_hub.transactions(held.hold.id) == {"hold": 1, "capture": 1, "release": 1}
    assert len(await pg_hub.redemptions(held.hold.id)) == 1
    after = await pg_hub.lot(lot.id)
    assert (after.remaining, after.held) == (5_000, 0)
    assert await pg_hub.verify() == []


@pytest.mark.postgres
async def test_concurrent_voids_of_a_hold_release_once(pg_hub: Hub) -> None:
    who = new_pseudonym()
    lot = await pg_hub.issue(who, GENERAL, 10_000)
    held = await pg_hub.hold("kafsh-arya", who, 6_000)
    results = await asyncio.gather(
        *(outcome_of(pg_hub.void("kafsh-arya", held.hold.id)) for _ in range(20))
    )
    assert Counter(results) == {"done": 1, "replayed": 19}
    assert await pg_hub.transactions(held.hold.id) == {"hold": 1, "release": 1}
    after = await pg_hub.lot(lot.id)
    assert (after.remaining, after.held) == (10_000, 0)
    assert await pg_hub.verify() == []


@pytest.mark.postgres
async def test_concurrent_captures_voids_and_expiry_of_a_hold_have_one_effect(
    pg_hub: Hub,
) -> None:
    who = new_pseudonym()
    lot = await pg_hub.issue(who, GENERAL, 10_000)
    held = await pg_hub.hold("kafsh-arya", who, 6_000, ttl=60)
    later = utcnow() + dt.timedelta(minutes=5)

    async def expire() -> str:
        count = await pg_hub.run(lambda s: value.expire_holds(s, later))
        return "done" if count else "nothing"

    calls: list[Awaitable[str]] = []
    for i in range(30):
        if i % 3 == 0:
            calls.append(outcome_of(pg_hub.capture("kafsh-arya", held.hold.id)))
        elif i % 3 == 1:
            calls.append(outcome_of(pg_hub.void("kafsh-arya", held.hold.id)))
        else:
            calls.append(expire())
    results = await asyncio.gather(*calls)
    assert results.count("done") == 1
    row, _ = await pg_hub.get_hold(held.hold.id)
    kinds = await pg_hub.transactions(held.hold.id)
    after = await pg_hub.lot(lot.id)
    if row.status == "captured":
        assert kinds == {"hold": 1, "capture": 1}
        assert (after.remaining, after.held) == (4_000, 0)
    else:
        assert row.status in ("voided", "expired")
        assert kinds == {"hold": 1, "release": 1}
        assert (after.remaining, after.held) == (10_000, 0)
    assert set(results) <= {"done", "replayed", "nothing", "HOLD_CLOSED"}
    assert await pg_hub.verify() == []


@pytest.mark.postgres
async def test_concurrent_refunds_with_the_same_key_refund_once(pg_hub: Hub) -> None:
    who = new_pseudonym()
    lot = await pg_hub.issue(who, GENERAL, 10_000)
    held = await pg_hub.hold("kafsh-arya", who, 6_000)
    await pg_hub.capture("kafsh-arya", held.hold.id)
    results = await asyncio.gather(
        *(pg_hub.refund("kafsh-arya", held.hold.id, 2_000, "refund-1") for _ in range(10))
    )
    assert sorted(results) == [0] * 9 + [2_000]
    row, _ = await pg_hub.get_hold(held.hold.id)
    assert row.refunded_rial == 2_000
    assert (await pg_hub.lot(lot.id)).remaining == 6_000
    assert (await pg_hub.transactions(held.hold.id))["refund"] == 1
    assert await pg_hub.verify() == []


@pytest.mark.postgres
async def test_concurrent_holds_and_captures_of_one_shopper_stay_whole(pg_hub: Hub) -> None:
    """Holds from several shops, each captured in part or voided at once, on lots that
    expire in a different order than their ids: the ledger stays balanced."""
    who = new_pseudonym()
    now = utcnow()
    for days, amount in ((9, 4_000), (3, 2_500), (6, 3_500)):
        await pg_hub.issue(who, GENERAL, amount, expires_at=now + dt.timedelta(days=days))
    await pg_hub.issue(who, POOLED, 6, expires_at=now + dt.timedelta(days=1))

    async def shop_visit(i: int) -> int:
        shop = sorted(SHOPS)[i % 4]
        try:
            held = await pg_hub.hold(shop, who, 1_700, key=f"visit-{i}", partial=True)
        except NetworkValueError:
            return 0
        if i % 3 == 0:
            await pg_hub.void(shop, held.hold.id)
            return 0
        amount = min(1_500, held.hold.held_rial)
        return (await pg_hub.capture(shop, held.hold.id, amount)).hold.captured_rial

    spent = sum(await asyncio.gather(*(shop_visit(i) for i in range(40))))
    points = await pg_hub.totals("point", who)
    rial = await pg_hub.totals("rial", who)
    assert points.captured * RATE + rial.captured == spent
    assert points.held == rial.held == 0
    assert points.issued == points.remaining + points.captured
    assert rial.issued == rial.remaining + rial.captured
    assert spent > 0
    assert await pg_hub.verify() == []
