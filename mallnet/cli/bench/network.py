"""``mallnet bench network``: the hub's network value under load, beside its bare services.

A fresh hub database is migrated and filled with a year of realistic network value —
shoppers, lots issued by three shops, past holds captured, partly captured or voided,
expiries, a few holds still open — written with COPY, every value transaction balanced and
every lot's ``remaining``/``held`` cache equal to its postings (``hub.services.value.verify`` is run
on sample shoppers). A real hub server process then serves, over HTTP:

* hold + capture pairs (``holdNetworkValue`` then ``captureNetworkHold``, the operations a
  node sends) from C concurrent node clients with client_credentials tokens from the hub's
  own ``/oauth/token``;
* ``me { wallet valueHistory(first: 20) }`` from C concurrent shoppers, with access tokens
  minted by the hub's own token generator and signing key.

In the same run, at the same concurrency, the "bare" side calls the same code in this
process with no HTTP, GraphQL or token in the way: ``hub.services.value.hold`` and
``capture``, each in one transaction through ``mallnet.db.transaction`` as the resolvers run
them, and what the ``me`` resolver reads, on an engine and session factory made as the
hub's app makes them. The difference between the two sides is what HTTP, GraphQL and the
token check cost; neither measured side runs SQL written by the bench.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.client import CAPTURE, HOLD
from federation.ids import new_event_id
from hub.api.wallet import value_history, wallet
from hub.domain.problems import HubError, Refusal
from hub.domain.value_rules import (
    GENERAL,
    POOLED,
    TARGETED,
    Grant,
    Kind,
    LotView,
    accepted_at,
    reserve,
    spending_order,
    split_capture,
)
from hub.services import code_digests, grants, keys, people, registry, value
from hub.services.people import HUB_AUDIENCE, SHOPPER_SCOPES, Person
from hub.web.oauth import HubClient, TokenGenerator, load_client
from mallnet.cli.bench.common import RawClient, Run, _drive, _free_port, _machine, _wait_healthy
from mallnet.config import Settings
from mallnet.db import (
    create_engine,
    drop_database,
    ensure_database,
    session_factory,
    transaction,
    utcnow,
)
from mallnet.digest import request_digest
from mallnet.keywrap import Keyring, keyring_for
from mallnet.migrations import upgrade
from mallnet.scopes import Scope
from mallnet.secrets_store import pseudonym as make_pseudonym

TARGET_PAIRS_PER_S = 200.0
TARGET_ME_P99_MS = 30.0
RIAL_PER_POINT = 1_000
DAY = 86_400.0
HISTORY_DAYS = 365
HOLD_TTL_S = 900
MIN_SPEND, MAX_SPEND = 10_000, 500_000  # Rial a bench hold asks for (1,000-50,000 toman)
ME_TOKENS = 1_000  # distinct shoppers (tokens) the `me` requests are spread over
COPY_BATCH = 20_000

SHOPS = (
    registry.ShopInput("ketab-sara", "کتاب‌سرا", "Ketab Sara", "books", "1", "112"),
    registry.ShopInput("kafsh-arya", "کفش آریا", "Arya Shoes", "shoes", "2", "204"),
    registry.ShopInput("cafe-laleh", "کافه لاله", "Laleh Cafe", "cafe", "3", "301"),
)

ME = """
query Me {
  me {
    wallet {
      pooledPoints pooledPointsHeld pooledValueRial pointValueRial creditRial totalValueRial
      credit { kind availableRial heldRial everywhere acceptedCategory
               spendableAt { slug nameFa nameEn } }
      localBalances { shop { slug nameFa nameEn } points creditRial updatedAt }
      expiring { kind issuer { slug nameFa nameEn } amount valueRial expiresAt expiresOnJalali }
    }
    valueHistory(first: 20) {
      id kind shop { slug nameFa nameEn } reason points creditRial valueRial holdId at onJalali
    }
  }
}
"""

COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(names.split())
    for table, names in {
        "shoppers": "pseudonym phone created_at last_sign_in_at",
        "memberships": "pseudonym shop joined_at consent_seq partner_sharing",
        "local_balances": "pseudonym shop points credit_rial as_of_seq updated_at",
        "value_lots": "id pseudonym kind issuer_shop amount remaining held rial_per_point"
        " accepted_shops accepted_category expires_at reason origin issue_key created_at",
        "value_transactions": "id pseudonym kind shop hold_id reason idempotency_key points"
        " credit_rial value_rial created_at",
        "value_postings": "id transaction_id account lot_id shop unit amount",
        "value_holds": "id shop pseudonym idempotency_key request_hash purchase_ref"
        " requested_rial held_rial captured_rial refunded_rial status capture_hash expires_at"
        " created_at resolved_at",
        "value_hold_lots": "hold_id position lot_id units captured_units refunded_units",
        "value_redemptions": "id transaction_id hold_id lot_id kind issuer_shop redeemer_shop"
        " units amount_rial created_at",
    }.items()
}
SEQUENCES = ("value_lots", "value_transactions", "value_postings", "value_redemptions")


@dataclass(frozen=True)
class NetworkParams:
    """What ``mallnet bench network`` is asked to do."""

    shoppers: int = 100_000
    entries: int = 5_000_000  # ledger postings to load
    count: int = 3_000  # hold + capture pairs
    me_count: int = 3_000
    clients: int = 32
    server_workers: int = 1
    keep: bool = False
    seed: int = 7


# --- Loading a year of network value ------------------------------------------------------


def _ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


@dataclass(slots=True)
class _Lot:
    id: int
    pseudonym: str
    kind: str
    issuer: str
    amount: int
    rate: int
    accepted_shops: tuple[str, ...]
    category: str | None
    expires: float
    created: float
    reason: str
    origin: str
    issue_key: str
    remaining: int = 0
    held: int = 0

    @property
    def available(self) -> int:
        return self.remaining - self.held

    def view(self) -> LotView:
        return LotView(
            self.id,
            self.kind,
            self.available,
            self.rate,
            _ts(self.expires),
            self.accepted_shops,
            self.category,
        )

    def row(self) -> tuple[Any, ...]:
        return (
            self.id,
            self.pseudonym,
            self.kind,
            self.issuer,
            self.amount,
            self.remaining,
            self.held,
            self.rate,
            json.dumps(sorted(self.accepted_shops)),
            self.category,
            _ts(self.expires),
            self.reason,
            self.origin,
            self.issue_key,
            _ts(self.created),
        )


@dataclass(slots=True)
class _Shopper:
    pseudonym: str
    budget: int  # postings still to write for this shopper
    lots: list[_Lot] = field(default_factory=list)  # lots with value left
    final: bool = False


# (account, unit, amount, lot id, shop)
_Leg = tuple[str, str, int, int | None, str | None]


@dataclass
class _Redeeming:
    """One simulated redemption: the hold on ``portions`` (lot, units) and how it ends."""

    shop: str
    at: float
    amount: int  # Rial asked for
    covered: int  # Rial held
    portions: list[tuple[_Lot, int]]
    outcome: str  # open, captured, voided
    wanted: int  # Rial the capture asks for
    takes: list[int]  # units captured from each portion
    captured: int  # Rial captured
    ref: str = ""
    hold_id: str = ""
    resolved: float | None = None  # when captured or voided

    def booked(self, ref: str, hold_id: str) -> _Redeeming:
        self.ref, self.hold_id = ref, hold_id
        return self

    def postings(self) -> int:
        """Postings it writes: hold, and once resolved capture and release."""
        cost = 2 * len(self.portions)
        if self.outcome != "open":
            pairs = zip(self.portions, self.takes, strict=True)
            cost += 2 * sum(1 for take in self.takes if take)
            cost += 2 * sum(1 for (_lot, units), take in pairs if units > take)
        return cost

    def taken(self) -> list[tuple[_Lot, int]]:
        """(lot, units) the capture takes."""
        return [
            (lot, take)
            for (lot, _units), take in zip(self.portions, self.takes, strict=True)
            if take
        ]


class _Copier:
    """Rows in per-table batches, each batch COPYed by a background task while the next
    is generated (the generator yields to the event loop regularly)."""

    def __init__(self, pool: Any, max_in_flight: int = 3) -> None:
        self.pool = pool
        self.max_in_flight = max_in_flight
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.tasks: list[asyncio.Task[None]] = []

    async def pump(self, force: bool = False) -> None:
        for table, rows in self.rows.items():
            if rows and (force or len(rows) >= COPY_BATCH):
                self.rows[table] = []
                self.counts[table] += len(rows)
                self.tasks.append(asyncio.create_task(self._copy(table, rows)))
        while True:
            for task in [t for t in self.tasks if t.done()]:
                task.result()  # raise a failed COPY at once
                self.tasks.remove(task)
            if len(self.tasks) <= self.max_in_flight:
                break
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.sleep(0)

    async def finish(self) -> None:
        await self.pump(force=True)
        await asyncio.gather(*self.tasks)
        self.tasks.clear()

    async def _copy(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        async with self.pool.acquire() as conn:
            await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])


class _History:
    """A year of network value, simulated shopper by shopper but emitted in global time
    order (ids grow with time, as they would in production), through the rules the hub
    applies (``hub.domain.value_rules``) and in the shapes ``hub.services.value`` writes."""

    REDEEM_P = 0.4
    OPEN_HOLD_P = 0.005
    VOID_P, PARTIAL_P = 0.04, 0.06

    def __init__(self, rng: random.Random, now: float, copier: _Copier) -> None:
        self.rng = rng
        self.now = now
        self.start = now - HISTORY_DAYS * DAY
        self.out = copier.rows
        self.lots: list[_Lot] = []
        self.next_txn = self.next_posting = self.next_redemption = 1
        self.receipts = 0
        self.steps = 0
        self.step_postings = 0
        self.categories = {s.slug: s.category for s in SHOPS}
        self.slugs = [s.slug for s in SHOPS]

    # The ledger, as hub.services.value._record writes it.
    def record(
        self,
        s: _Shopper,
        kind: str,
        *,
        key: str,
        reason: str,
        at: float,
        legs: list[_Leg],
        shop: str | None,
        hold_id: str | None = None,
        value_rial: int = 0,
    ) -> int:
        totals: dict[str, int] = defaultdict(int)
        moved = {"point": 0, "rial": 0}  # what the history shows: the value that moved
        txn = self.next_txn
        self.next_txn += 1
        postings = self.out["value_postings"]
        for account, unit, amount, lot_id, leg_shop in legs:
            totals[unit] += amount
            moved[unit] += max(amount, 0)
            postings.append((self.next_posting, txn, account, lot_id, leg_shop, unit, amount))
            self.next_posting += 1
        if any(totals.values()):
            raise AssertionError(f"unbalanced bench transaction {key}: {dict(totals)}")
        points, credit = moved["point"], moved["rial"]
        self.out["value_transactions"].append(
            (
                txn,
                s.pseudonym,
                kind,
                shop,
                hold_id,
                reason[:300],
                key,
                points,
                credit,
                value_rial,
                _ts(at),
            )
        )
        s.budget -= len(legs)
        return txn

    def pending_expiry(self, s: _Shopper) -> int:
        """Postings the expiry job will write for this shopper's lots before now."""
        return 2 * sum(1 for lot in s.lots if lot.expires <= self.now and lot.available > 0)

    def step(self, s: _Shopper, t: float) -> float | None:
        if s.final:
            self.finish(s, t)
            return None
        before = s.budget
        self.expire(s, t)
        reserved = self.pending_expiry(s)
        done = self.rng.random() < self.REDEEM_P and self.redeem(s, t, reserved)
        done = done or self.issue(s, t, reserved)
        self.steps += 1
        self.step_postings += before - s.budget
        if done:
            cost = self.step_postings / self.steps
            events_left = max(1.0, (s.budget - self.pending_expiry(s)) / cost)
            following = t + self.rng.expovariate(events_left / (self.now - t))
            if following < self.now:
                return following
        s.final = True
        return t + (self.now - t) * self.rng.random()

    def expire(self, s: _Shopper, t: float) -> None:
        due = sorted((lot for lot in s.lots if lot.expires <= t), key=lambda lot: lot.expires)
        for lot in due:
            gone = lot.available
            if gone > 0:
                unit = value.unit_of(lot.kind)
                self.record(
                    s,
                    "expire",
                    key=f"expire:{lot.id}:{lot.remaining}.{lot.held}",
                    reason=f"{lot.kind.replace('_', ' ')} from {lot.issuer} expired",
                    at=min(lot.expires + self.rng.uniform(60, 3600), t),
                    legs=[
                        ("available", unit, -gone, lot.id, None),
                        ("expired", unit, gone, None, None),
                    ],
                    shop=lot.issuer,
                    value_rial=gone * lot.rate,
                )
                lot.remaining -= gone
        s.lots = [lot for lot in s.lots if lot.expires > t and lot.remaining > 0]

    def issue(self, s: _Shopper, t: float, reserved: int, *, final: bool = False) -> bool:
        rng = self.rng
        issuer = rng.choice(self.slugs)
        r = rng.random()
        if final:  # value that is still valid now
            r = 0.0 if t < self.now - 85 * DAY else r * 0.8
        accepted: tuple[str, ...] = ()
        category = None
        kind: Kind
        if r < 0.5:
            kind, amount, days, rate, rule = POOLED, rng.randint(5, 400), 365, RIAL_PER_POINT, 0
        elif r < 0.8:
            kind, amount, days, rate, rule = GENERAL, rng.randint(10, 400) * 1000, 90, 1, 1
        else:
            kind, amount, days, rate, rule = TARGETED, rng.randint(10, 300) * 1000, 30, 1, 2
            if rng.random() < 0.7:
                partner = rng.choice(self.slugs)
                accepted = tuple(sorted({issuer, partner}))
            else:
                category = self.categories[rng.choice(self.slugs)]
        expires = t + days * DAY
        cost = 2 + (2 if expires <= self.now else 0)
        if s.budget - cost - reserved < 0:
            return False
        self.receipts += 1
        receipt = f"R{self.receipts:08d}"
        issue_key = f"purchase:{new_event_id(int(t * 1000))}:0"
        rule_name = ("pooled share", "credit rule 1", "credit rule 2")[rule]
        grant = Grant(kind, amount, accepted, category, days, rule_name)
        lot = _Lot(
            id=len(self.lots) + 1,
            pseudonym=s.pseudonym,
            kind=kind,
            issuer=issuer,
            amount=amount,
            rate=rate,
            accepted_shops=accepted,
            category=category,
            expires=expires,
            created=t,
            reason=value.grant_reason(grant, receipt, 1)[:200],
            origin=value.purchase_origin(issuer, receipt),
            issue_key=issue_key,
            remaining=amount,
        )
        self.lots.append(lot)
        s.lots.append(lot)
        unit = value.unit_of(kind)
        self.record(
            s,
            "issue",
            key=f"issue:{issue_key}",
            reason=lot.reason,
            at=t,
            legs=[
                ("issuer", unit, -amount, None, issuer),
                ("available", unit, amount, lot.id, None),
            ],
            shop=issuer,
            value_rial=amount * rate,
        )
        return True

    def redeem(self, s: _Shopper, t: float, reserved: int, *, open_hold: bool = False) -> bool:
        """A hold at a random shop on value it accepts, then (unless ``open_hold``) its
        capture in full or in part, or its void; False when the shopper has too little
        value there, or too few postings left."""
        planned = self._plan_redemption(s, t, open_hold)
        if planned is None or s.budget - planned.postings() - reserved < 0:
            return False
        self.receipts += 1
        r = planned.booked(f"R{self.receipts:08d}", new_event_id(int(t * 1000)))
        self._book_hold(s, r)
        if not open_hold:
            r.resolved = t + self.rng.uniform(20, 600)
            if r.outcome == "captured":
                self._book_capture(s, r)
            self._book_release(s, r)
        self._hold_rows(s, r)
        s.lots = [lot for lot in s.lots if lot.remaining > 0]
        return True

    def _plan_redemption(self, s: _Shopper, t: float, open_hold: bool) -> _Redeeming | None:
        """Where, how much, which lots, and how it ends (the draws in a fixed order, so a
        seed gives the same history)."""
        rng = self.rng
        shop = rng.choice(self.slugs)
        category = self.categories[shop]
        views = [lot.view() for lot in s.lots if lot.expires > t + HOLD_TTL_S and lot.available > 0]
        views = spending_order([v for v in views if accepted_at(v, shop, category)])
        worth = sum(v.available * v.rial_per_point for v in views)
        if worth < MIN_SPEND:
            return None
        amount = max(MIN_SPEND, int(worth * rng.uniform(0.15, 1.0)) // 1000 * 1000)
        taken, covered = reserve(views, amount)
        if covered != amount:
            raise AssertionError(f"bench data: {covered} of {amount} covered")
        by_id = {lot.id: lot for lot in s.lots}
        portions = [(by_id[lot_id], units) for lot_id, units in taken]
        outcome = "open" if open_hold else "captured"
        wanted = amount
        u = rng.random()
        if not open_hold and u < self.VOID_P:
            outcome = "voided"
        elif not open_hold and u < self.VOID_P + self.PARTIAL_P and amount > MIN_SPEND:
            wanted = rng.randrange(1000, amount, 1000)
        takes, captured = split_capture([(units, lot.rate) for lot, units in portions], wanted)
        if outcome == "voided":
            takes, captured = [0] * len(portions), 0
        return _Redeeming(shop, t, amount, covered, portions, outcome, wanted, takes, captured)

    def _book_hold(self, s: _Shopper, r: _Redeeming) -> None:
        legs: list[_Leg] = []
        for lot, units in r.portions:
            legs += [
                ("available", value.unit_of(lot.kind), -units, lot.id, None),
                ("held", value.unit_of(lot.kind), units, lot.id, None),
            ]
            lot.held += units
        self.record(
            s,
            "hold",
            key=f"hold:{r.hold_id}",
            reason=f"held for purchase {r.ref}",
            at=r.at,
            legs=legs,
            shop=r.shop,
            hold_id=r.hold_id,
            value_rial=r.covered,
        )

    def _book_capture(self, s: _Shopper, r: _Redeeming) -> None:
        """The capture's transaction and, per lot it took from, the settlement input."""
        assert r.resolved is not None
        legs: list[_Leg] = []
        for lot, take in r.taken():
            legs += [
                ("held", value.unit_of(lot.kind), -take, lot.id, None),
                ("redeemed", value.unit_of(lot.kind), take, None, r.shop),
            ]
            lot.held -= take
            lot.remaining -= take
        txn = self.record(
            s,
            "capture",
            key=f"capture:{r.hold_id}",
            reason=f"spent on purchase {r.ref}",
            at=r.resolved,
            legs=legs,
            shop=r.shop,
            hold_id=r.hold_id,
            value_rial=r.captured,
        )
        for lot, take in r.taken():
            redemption = (txn, r.hold_id, lot.id, lot.kind, lot.issuer, r.shop, take)
            self.out["value_redemptions"].append(
                (self.next_redemption, *redemption, take * lot.rate, _ts(r.resolved))
            )
            self.next_redemption += 1

    def _book_release(self, s: _Shopper, r: _Redeeming) -> None:
        """What the hold held and the capture did not take goes back to available."""
        assert r.resolved is not None
        legs: list[_Leg] = []
        for (lot, units), take in zip(r.portions, r.takes, strict=True):
            if units > take:
                legs += [
                    ("held", value.unit_of(lot.kind), -(units - take), lot.id, None),
                    ("available", value.unit_of(lot.kind), units - take, lot.id, None),
                ]
                lot.held -= units - take
        if not legs:
            return
        why = "voided" if r.outcome == "voided" else "released after capture"
        self.record(
            s,
            "release",
            key=f"release:{r.hold_id}",
            reason=f"hold for purchase {r.ref} {why}",
            at=r.resolved,
            legs=legs,
            shop=r.shop,
            hold_id=r.hold_id,
            value_rial=sum(
                (units - take) * lot.rate
                for (lot, units), take in zip(r.portions, r.takes, strict=True)
            ),
        )

    def _hold_rows(self, s: _Shopper, r: _Redeeming) -> None:
        """The hold and its portions, as ``hub.services.value`` leaves them."""
        request_hash = request_digest(
            {
                "pseudonym": s.pseudonym,
                "amount": r.amount,
                "purchase": r.ref,
                "partial": False,
                "kinds": sorted(value.ALL_KINDS),
                "ttl": HOLD_TTL_S,
            }
        )
        captured = r.outcome == "captured"
        self.out["value_holds"].append(
            (
                r.hold_id,
                r.shop,
                s.pseudonym,
                f"pos-{r.ref}",
                request_hash,
                r.ref,
                r.amount,
                r.covered,
                r.captured,
                0,
                r.outcome,
                request_digest({"capture": r.wanted}) if captured else None,
                _ts(r.at + HOLD_TTL_S),
                _ts(r.at),
                None if r.resolved is None else _ts(r.resolved),
            )
        )
        for position, ((lot, units), take) in enumerate(zip(r.portions, r.takes, strict=True)):
            self.out["value_hold_lots"].append((r.hold_id, position, lot.id, units, take, 0))

    def finish(self, s: _Shopper, t: float) -> None:
        """The shopper's last stretch up to now: the expiry job catches up, maybe a hold is
        still open, and what is left of the shopper's postings is value issued lately."""
        self.expire(s, self.now)
        if self.rng.random() < self.OPEN_HOLD_P:
            self.redeem(s, max(t, self.now - self.rng.uniform(0, 600)), 0, open_hold=True)
        times = sorted(self.rng.uniform(t, self.now) for _ in range(s.budget // 2))
        for at in times:
            if not self.issue(s, at, 0, final=True):
                break

    def everywhere_rial(self, s: _Shopper) -> int:
        """Value this shopper can spend at any shop for the next day (pooled and general)."""
        return sum(
            lot.available * lot.rate
            for lot in s.lots
            if lot.kind != TARGETED and lot.expires > self.now + DAY
        )


@dataclass
class Loaded:
    spendable: dict[str, int]  # pseudonym -> Rial spendable everywhere
    pseudonyms: list[str]
    credentials: dict[str, registry.IssuedCredentials]
    app_client_id: str
    report: dict[str, Any]


async def load_network(url: str, params: NetworkParams, keyring: Keyring) -> Loaded:
    """Migrate a fresh hub database at ``url`` and fill it (see the module docstring)."""
    import asyncpg

    marks = {"started": time.perf_counter()}
    await upgrade("hub", url)
    engine = create_engine(url, pooled=False)
    sessions = session_factory(engine)
    credentials, app_client_id = await _set_up_hub(sessions, keyring)
    marks["migrated"] = time.perf_counter()

    rng = random.Random(params.seed)  # noqa: S311 - reproducible test data, not secrets
    now = time.time()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(plain, min_size=3, max_size=3, setup=_replica)
    try:
        copier = _Copier(pool)
        history = _History(rng, now, copier)
        shoppers = _people(params, rng, now, copier)
        await _simulate(history, shoppers, copier)
        marks["copied"] = time.perf_counter()
        async with pool.acquire() as conn:
            await _set_sequences(conn)
            orphans = await _orphans(conn)
            marks["checked"] = time.perf_counter()
            await conn.execute("VACUUM (ANALYZE)")
            await conn.execute("CHECKPOINT")
    finally:
        await pool.close()
    marks["settled"] = time.perf_counter()

    spendable = {s.pseudonym: history.everywhere_rial(s) for s in shoppers}
    samples = sorted(spendable, key=lambda p: (-spendable[p], p))[:1]
    samples.append(shoppers[rng.randrange(len(shoppers))].pseudonym)
    problems: list[str] = []
    async with sessions() as session:
        for pseudonym in samples:
            problems += await value.verify(session, pseudonym)
    await engine.dispose()
    marks["verified"] = time.perf_counter()
    if orphans or problems:
        raise AssertionError(f"bench data inconsistent: {orphans} orphans, {problems[:5]}")
    report = _load_report(marks, dict(copier.counts), len(samples), len(problems))
    return Loaded(spendable, [s.pseudonym for s in shoppers], credentials, app_client_id, report)


async def _set_up_hub(
    sessions: async_sessionmaker[AsyncSession], keyring: Keyring
) -> tuple[dict[str, registry.IssuedCredentials], str]:
    """The three shops with their issuance policies, the shopper app, the point value and
    the signing key, through the hub's services: each shop's node credentials and the
    app's client id."""
    credentials: dict[str, registry.IssuedCredentials] = {}
    async with sessions() as session, session.begin():
        for shop in SHOPS:
            credentials[shop.slug] = (await registry.register_shop(session, shop))[1]
        app = await registry.create_app_client(
            session,
            kind="shopper_app",
            name="bench shopper app",
            scopes=[Scope.SHOPPER_READ],
            redirect_uris=["https://app.mallnet.example/callback"],
            public=True,
        )
        for shop in SHOPS:
            partner = SHOPS[(SHOPS.index(shop) + 1) % len(SHOPS)].slug
            policy = {
                "pooled_share_bp": 2000,
                "credit_rules": [
                    {"min_purchase_rial": 2_000_000, "credit_bp": 500, "valid_days": 90},
                    {"credit_bp": 1000, "accepted_shops": [shop.slug, partner], "valid_days": 30},
                ],
            }
            await value.set_issuance_policy(session, shop.slug, policy, "bench")
        await value.set_point_value(session, RIAL_PER_POINT, "mall:bench")
        await keys.active_key(session, keyring)  # the hub signs with it (created here, once)
    return credentials, app.client_id


async def _replica(conn: Any) -> None:
    # Foreign keys are not checked while loading (lots are written last, once their
    # caches are final); the rows are consistent by construction and checked after.
    await conn.execute("SET session_replication_role = replica")


async def _simulate(history: _History, shoppers: list[_Shopper], copier: _Copier) -> None:
    """Every shopper's year, in global time order, COPYed as it is made; lots last."""
    rng = history.rng
    heap = [(history.start + rng.expovariate(1 / 30 / DAY), i) for i in range(len(shoppers))]
    heapq.heapify(heap)
    steps = 0
    while heap:
        t, i = heapq.heappop(heap)
        following = history.step(shoppers[i], t)
        if following is not None:
            heapq.heappush(heap, (following, i))
        steps += 1
        if steps % 100 == 0:
            await copier.pump()
    for lot in history.lots:
        copier.rows["value_lots"].append(lot.row())
        if len(copier.rows["value_lots"]) >= COPY_BATCH:
            await copier.pump()
    await copier.finish()


async def _set_sequences(conn: Any) -> None:
    """Ids were written by the loader: the sequences continue after them."""
    for table in SEQUENCES:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
            f" (SELECT coalesce(max(id), 1) FROM {table}))"
        )


async def _orphans(conn: Any) -> int:
    """Rows pointing at a lot or transaction that is not there (foreign keys were off)."""
    count: int = await conn.fetchval(
        "SELECT (SELECT count(*) FROM value_postings p WHERE p.lot_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM value_lots l WHERE l.id = p.lot_id))"
        " + (SELECT count(*) FROM value_postings p WHERE NOT EXISTS"
        " (SELECT 1 FROM value_transactions t WHERE t.id = p.transaction_id))"
        " + (SELECT count(*) FROM value_hold_lots h WHERE NOT EXISTS"
        " (SELECT 1 FROM value_lots l WHERE l.id = h.lot_id))"
    )
    return count


def _load_report(
    marks: dict[str, float], rows: dict[str, int], samples: int, problems: int
) -> dict[str, Any]:
    def seconds(start: str, end: str) -> float:
        return round(marks[end] - marks[start], 1)

    copy_s = marks["copied"] - marks["migrated"]
    return {
        "seconds": seconds("started", "verified"),
        "migrate_and_setup_s": seconds("started", "migrated"),
        "generate_and_copy_s": round(copy_s, 1),
        "copy_rows_per_s": round(sum(rows.values()) / copy_s) if copy_s else 0,
        "foreign_key_check_s": seconds("copied", "checked"),
        "vacuum_analyze_checkpoint_s": seconds("checked", "settled"),
        "verify_s": seconds("settled", "verified"),
        "rows": rows,
        "verify": {"pseudonyms": samples, "problems": problems},
    }


def _people(
    params: NetworkParams, rng: random.Random, now: float, copier: _Copier
) -> list[_Shopper]:
    """The shoppers (a skewed share of the postings each), their memberships and club
    balances."""
    key = rng.randbytes(32)  # the network key the pseudonyms are made with
    weights = [rng.lognormvariate(0, 0.8) for _ in range(params.shoppers)]
    total = sum(weights)
    pairs = params.entries // 2
    budgets = [int(pairs * w / total) for w in weights]
    for i in range(pairs - sum(budgets)):
        budgets[i % params.shoppers] += 1
    slugs = [s.slug for s in SHOPS]
    out = copier.rows
    shoppers = []
    for i, budget in enumerate(budgets):
        pseudonym = make_pseudonym(key, f"+98912{i:07d}")
        joined = now - rng.uniform(30, 3 * HISTORY_DAYS) * DAY
        signed_in = rng.random() < 0.3
        out["shoppers"].append(
            (
                pseudonym,
                f"+98912{i:07d}" if signed_in else None,
                _ts(joined),
                _ts(now - rng.uniform(0, 60) * DAY) if signed_in else None,
            )
        )
        for shop in rng.sample(slugs, rng.randint(1, len(slugs))):
            out["memberships"].append((pseudonym, shop, _ts(joined), 0, rng.random() < 0.4))
            out["local_balances"].append(
                (
                    pseudonym,
                    shop,
                    rng.randint(0, 5000),
                    rng.randint(0, 200) * 1000,
                    rng.randint(1, 10_000),
                    _ts(now - rng.uniform(0, 30) * DAY),
                )
            )
        shoppers.append(_Shopper(pseudonym, 2 * budget))
    return shoppers


# --- The hub under load ---------------------------------------------------------------------


class Wallets:
    """Who can pay how much: a shopper drawn at random among those with value left that
    any shop accepts, and an amount they can cover (what was drawn is set aside, so
    concurrent pairs never ask one shopper for more than they have)."""

    def __init__(self, spendable: dict[str, int], rng: random.Random) -> None:
        self.left = dict(spendable)
        self.rng = rng
        self.names = [p for p, rial in spendable.items() if rial >= MIN_SPEND]

    def draw(self) -> tuple[str, int] | None:
        while self.names:
            index = self.rng.randrange(len(self.names))
            pseudonym = self.names[index]
            left = self.left[pseudonym]
            if left < MIN_SPEND:
                self.names[index] = self.names[-1]
                self.names.pop()
                continue
            amount = self.rng.randrange(MIN_SPEND, min(left, MAX_SPEND) + 1, 1000)
            self.left[pseudonym] = left - amount
            return pseudonym, amount
        return None


@dataclass
class Pairs:
    """Hold + capture pairs: completed ones timed as a whole and by half."""

    seconds: float = 0.0
    pair_ms: list[float] = field(default_factory=list)
    hold_ms: list[float] = field(default_factory=list)
    capture_ms: list[float] = field(default_factory=list)
    insufficient: int = 0
    problems: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)  # the first few error messages

    def fail(self, code: str, detail: str = "") -> bool:
        self.problems[code] += 1
        if detail and len(self.samples) < 3:
            self.samples.append(f"{code}: {detail[:300]}")
        return False

    def summary(self, count: int) -> dict[str, Any]:
        done = len(self.pair_ms)
        return {
            "pairs": count,
            "completed": done,
            "failures": sum(self.problems.values()),
            "insufficient_value": self.insufficient,
            "problems": dict(self.problems),
            "problem_samples": self.samples,
            "seconds": round(self.seconds, 3),
            "pairs_per_s": round(done / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": _latency(self.pair_ms),
            "hold_latency_ms": _latency(self.hold_ms),
            "capture_latency_ms": _latency(self.capture_ms),
        }


def _latency(ms: list[float]) -> dict[str, float]:
    latency: dict[str, float] = Run(len(ms), 1.0, ms, 0).summary()["latency_ms"]
    return latency


def _answer(status: int, body: Any, name: str) -> tuple[dict[str, Any], str]:
    """The mutation's result, or an empty one and why."""
    if status != 200 or not isinstance(body, dict):
        return {}, f"HTTP {status}: {str(body)[:200]}"
    if body.get("errors"):
        return {}, str(body["errors"][0].get("message"))
    result = (body.get("data") or {}).get(name)
    return (result, "") if isinstance(result, dict) else ({}, f"no {name} in the answer")


async def _api_pairs(
    port: int,
    tokens: dict[str, str],
    wallets: Wallets,
    count: int,
    clients: int,
    prefix: str,
    grant_for: Callable[[str], Awaitable[str]],
) -> Pairs:
    """``count`` holdNetworkValue + captureNetworkHold pairs over HTTP, the three shops'
    node clients in turn, over ``clients`` keep-alive connections. Each hold carries the
    shopper's redemption grant (``grant_for``, made before the pair's clock starts: the
    shopper showed it at the till)."""
    out = Pairs()
    slugs = sorted(tokens)
    # One pool for all shops (the token goes with each request): a connection parked in
    # a per-shop pool could sit idle past the server's keep-alive timeout.
    idle: list[RawClient] = []

    async def pair(i: int) -> bool:
        drawn = wallets.draw()
        if drawn is None:
            return out.fail("NO_SHOPPER_WITH_VALUE")
        auth = {"Authorization": f"Bearer {tokens[slugs[i % len(slugs)]]}"}
        client = idle.pop() if idle else RawClient("127.0.0.1", port, {})
        try:
            ok = await exchange(client, auth, *drawn, f"{prefix}-{i}")
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            await client.close()
            return out.fail(type(exc).__name__, str(exc))
        idle.append(client)
        return ok

    async def exchange(
        client: RawClient, auth: dict[str, str], pseudonym: str, amount: int, ref: str
    ) -> bool:
        code = await grant_for(pseudonym)
        started = time.perf_counter()
        variables = {
            "input": {
                "pseudonym": pseudonym,
                "amountRial": amount,
                "purchaseRef": ref,
                "idempotencyKey": ref,
                "grant": code,
            }
        }
        payload = {"query": HOLD, "variables": variables}
        status, body = await client.post_json("/graphql", payload, headers=auth)
        held = time.perf_counter()
        hold, error = _answer(status, body, "holdNetworkValue")
        if hold.get("__typename") != "NetworkHold":
            code = str(hold.get("code") or "ERROR")
            if code == "INSUFFICIENT_VALUE":
                out.insufficient += 1
                return True
            return out.fail(code, error or str(hold.get("message")))
        # What a node sends: the whole hold, for the purchase it was made for.
        wanted: dict[str, Any] = {
            "id": hold["id"],
            "pseudonym": pseudonym,
            "amount": None,
            "ref": ref,
            "upTo": None,
        }
        payload = {"query": CAPTURE, "variables": wanted}
        status, body = await client.post_json("/graphql", payload, headers=auth)
        captured = time.perf_counter()
        capture, error = _answer(status, body, "captureNetworkHold")
        if capture.get("__typename") != "NetworkHold" or capture.get("status") != "captured":
            return out.fail(str(capture.get("code") or "ERROR"), error or str(capture))
        out.hold_ms.append((held - started) * 1000)
        out.capture_ms.append((captured - held) * 1000)
        out.pair_ms.append((captured - started) * 1000)
        return True

    try:
        out.seconds = (await _drive(count, clients, pair)).seconds
    finally:
        for client in idle:
            await client.close()
    return out


async def _api_me(port: int, tokens: list[str], count: int, clients: int) -> Run:
    """``count`` ``me`` queries, each as a shopper drawn from ``tokens``, over ``clients``
    keep-alive connections."""
    rng = random.Random(len(tokens))  # noqa: S311 - which shopper asks, not a secret
    idle: list[RawClient] = []

    async def me(i: int) -> bool:
        client = idle.pop() if idle else RawClient("127.0.0.1", port, {})
        token = tokens[rng.randrange(len(tokens))]
        try:
            status, body = await client.post_json(
                "/graphql", {"query": ME}, headers={"Authorization": f"Bearer {token}"}
            )
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            await client.close()
            return False
        idle.append(client)
        data = body.get("data") if isinstance(body, dict) else None
        found = (data or {}).get("me") or {}
        return status == 200 and not body.get("errors") and "wallet" in found

    try:
        return await _drive(count, clients, me)
    finally:
        for client in idle:
            await client.close()


async def _node_tokens(
    base: str, credentials: dict[str, registry.IssuedCredentials]
) -> dict[str, str]:
    """Each shop's node token, from the hub's own token endpoint (client_credentials)."""
    tokens = {}
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for slug, issued in credentials.items():
            response = await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": Scope.NODE_FEDERATE.value},
                auth=(issued.client_id, issued.client_secret),
            )
            response.raise_for_status()
            tokens[slug] = str(response.json()["access_token"])
    return tokens


class _KeptKeyGenerator(TokenGenerator):
    """The hub's token generator, unchanged but for keeping the imported signing key
    between tokens (the hub imports it again for every token it issues, about 40 ms of
    RSA key validation here; a thousand shopper tokens would take a minute)."""

    _jwks: Any = None

    def get_jwks(self) -> Any:
        if self._jwks is None:
            self._jwks = super().get_jwks()
        return self._jwks


async def _shopper_tokens(
    url: str, issuer: str, client_id: str, pseudonyms: list[str], keyring: Keyring
) -> list[str]:
    """Access tokens as the hub issues them at the end of a shopper's sign-in: its token
    generator, its current signing key, the shopper app client as the hub loads it."""
    engine = create_engine(url, pooled=False)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            active = await keys.active_key(session, keyring)
        client: HubClient | None = await load_client(sessions, client_id)
    finally:
        await engine.dispose()
    if client is None:
        raise RuntimeError(f"the shopper app client {client_id} is missing")
    generator = _KeptKeyGenerator(issuer, lambda: active)
    return [
        str(
            generator.generate(
                "authorization_code",
                client,
                user=Person(f"shopper:{p}", HUB_AUDIENCE, SHOPPER_SCOPES),
                scope=Scope.SHOPPER_READ.value,
                include_refresh_token=False,
            )["access_token"]
        )
        for p in pseudonyms
    ]


def _start_hub(url: str, port: int, workers: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """The hub's own app factory under uvicorn, N processes, warnings only (``mallnet hub``
    has no ``--workers`` and logs every request)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    env |= {
        "MALLNET_DATA_DIR": str(data_dir),
        "MALLNET_HUB_DATABASE_URL": url,
        "MALLNET_HUB_URL": f"http://127.0.0.1:{port}",
        # Said explicitly: the hub's factory refuses an unset environment (mallnet.serving).
        "MALLNET_ENVIRONMENT": "development",
    }
    with (data_dir / "bench-hub.log").open("wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hub.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
                "--no-server-header",
                # The hub reads forwarded addresses itself, from MALLNET_TRUSTED_PROXIES only.
                "--no-proxy-headers",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


# --- Bare: the hub's own services, without HTTP, GraphQL or tokens -------------------------


async def _bare_pair(
    sessions: async_sessionmaker[AsyncSession],
    shop: str,
    code: str,
    pseudonym: str,
    amount: int,
    ref: str,
) -> tuple[float, float, str]:
    """What ``holdNetworkValue`` and ``captureNetworkHold`` run for a node's pair: the hold
    use case (the shopper's grant checked, then the hold) in one transaction, then the full
    capture for the same purchase of that shopper in another, each through the retry idiom
    the resolvers use (``mallnet.db.transaction``). Returns when the hold and the capture
    ended (``perf_counter``) and the hold's final status. The grant ``code`` is made
    before the caller's clock starts, as the shopper shows it at the till."""
    data = value.HoldInput(
        pseudonym=pseudonym, amount_rial=amount, purchase_ref=ref, idempotency_key=ref
    )

    async def hold(session: AsyncSession) -> value.HoldOutcome:
        held = await grants.hold_with_grant(session, shop, data, code)
        if isinstance(held, Refusal):
            raise held.error
        return held

    outcome = await transaction(sessions, hold)
    held = time.perf_counter()

    async def capture(session: AsyncSession) -> value.HoldOutcome:
        return await value.capture(
            session, shop, outcome.hold.id, None, ref, None, pseudonym=pseudonym
        )

    captured = await transaction(sessions, capture)
    return held, time.perf_counter(), captured.hold.status


async def _grant(sessions: async_sessionmaker[AsyncSession], pseudonym: str) -> str:
    """A redemption grant of the shopper (what the shopper's app shows at the till)."""

    async def make(session: AsyncSession) -> grants.IssuedGrant:
        return await grants.grant_for_tools(session, pseudonym)

    return (await transaction(sessions, make)).code


async def _bare_pairs(
    sessions: async_sessionmaker[AsyncSession],
    wallets: Wallets,
    count: int,
    clients: int,
    prefix: str,
) -> Pairs:
    """``count`` hold + capture pairs through the services, the three shops in turn, from
    ``clients`` concurrent tasks sharing the engine's pool."""
    slugs = [s.slug for s in SHOPS]
    out = Pairs()

    async def pair(i: int) -> bool:
        drawn = wallets.draw()
        if drawn is None:
            return out.fail("NO_SHOPPER_WITH_VALUE")
        code = await _grant(sessions, drawn[0])
        started = time.perf_counter()
        try:
            held, captured, status = await _bare_pair(
                sessions, slugs[i % len(slugs)], code, *drawn, f"{prefix}-{i}"
            )
        except HubError as exc:
            if exc.code == "INSUFFICIENT_VALUE":
                out.insufficient += 1
                return True
            return out.fail(str(exc.code), exc.message)
        if status != "captured":
            return out.fail("NOT_CAPTURED", f"the hold ended {status}")
        out.hold_ms.append((held - started) * 1000)
        out.capture_ms.append((captured - held) * 1000)
        out.pair_ms.append((captured - started) * 1000)
        return True

    out.seconds = (await _drive(count, clients, pair)).seconds
    return out


async def _bare_me(
    sessions: async_sessionmaker[AsyncSession], pseudonyms: list[str], count: int, clients: int
) -> Run:
    """``count`` times what the ``me`` resolver reads for ``me { wallet valueHistory(first:
    20) }``, as a shopper drawn from ``pseudonyms``: the shopper, the wallet and the history
    in one session (``hub.api.value.wallet`` and ``value_history``: the wallet service reads
    mapped to the answer's objects)."""
    rng = random.Random(len(pseudonyms))  # noqa: S311 - which shopper asks, not a secret

    async def me(i: int) -> bool:
        pseudonym = pseudonyms[rng.randrange(len(pseudonyms))]
        async with sessions() as session:
            if await people.get_shopper(session, pseudonym) is None:
                return False
            await wallet(session, pseudonym)
            await value_history(session, pseudonym, 20, None)
        return True

    return await _drive(count, clients, me)


@dataclass
class _Bare:
    pairs: Pairs
    me: Run


async def _bare(
    url: str, params: NetworkParams, wallets: Wallets, chosen: list[str], run_id: str
) -> _Bare:
    """The same use cases in this process on an engine and session factory made as the
    hub's app makes them (same pool size), a warm-up then the measured pairs, a warm-up
    then the measured ``me``, as over HTTP."""
    warm, warm_me = min(100, params.count), min(100, params.me_count)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        await _bare_pairs(sessions, wallets, warm, params.clients, f"V{run_id}")
        pairs = await _bare_pairs(sessions, wallets, params.count, params.clients, f"B{run_id}")
        await _bare_me(sessions, chosen[:warm_me], warm_me, params.clients)
        me = await _bare_me(sessions, chosen[warm_me:] or chosen, params.me_count, params.clients)
    finally:
        await engine.dispose()
    return _Bare(pairs, me)


# --- The run --------------------------------------------------------------------------------


async def bench_network(postgres_url: str, params: NetworkParams, data_dir: Path) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    name = f"mallnet_bench_net_{run_id}"
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    rng = random.Random(params.seed + 1)  # noqa: S311 - reproducible load, not secrets
    warm_me = min(100, params.me_count)
    await ensure_database(url)
    try:
        # The hub process started later runs in development on data_dir: its keyring. The
        # grants this process makes for the run are checked there, so their codes are
        # stored under that hub's code key.
        keyring = keyring_for(Settings(data_dir=data_dir))
        code_digests.configure(keyring.current.key)
        loaded = await load_network(url, params, keyring)
        wallets = Wallets(loaded.spendable, rng)
        chosen = rng.sample(loaded.pseudonyms, min(len(loaded.pseudonyms), ME_TOKENS + warm_me))
        api = await _over_http(url, params, loaded, wallets, chosen, run_id, data_dir)
        bare = await _bare(url, params, wallets, chosen, run_id)
    finally:
        if not params.keep:
            await drop_database(url)
    return _network_report(params, name, loaded, api, bare)


@dataclass
class _OverHttp:
    pairs: Pairs
    me: Run
    distinct_shoppers: int  # whose tokens the measured `me` requests used
    token_minting_s: float


async def _over_http(
    url: str,
    params: NetworkParams,
    loaded: Loaded,
    wallets: Wallets,
    chosen: list[str],
    run_id: str,
    data_dir: Path,
) -> _OverHttp:
    """A real hub process; node tokens from its token endpoint, shopper tokens from its
    generator; a warm-up then the measured pairs, a warm-up then the measured ``me``."""
    warm, warm_me = min(100, params.count), min(100, params.me_count)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start_hub(url, port, params.server_workers, data_dir)
    try:
        await _wait_healthy(base, data_dir, "bench-hub.log")
        minted = time.perf_counter()
        keyring = keyring_for(Settings(data_dir=data_dir))  # the bench hub's own
        shopper_tokens = await _shopper_tokens(url, base, loaded.app_client_id, chosen, keyring)
        minted = time.perf_counter() - minted
        node_tokens = await _node_tokens(base, loaded.credentials)
        engine = create_engine(url)
        sessions = session_factory(engine)
        try:

            async def grant_for(pseudonym: str) -> str:
                return await _grant(sessions, pseudonym)

            await _api_pairs(
                port, node_tokens, wallets, warm, params.clients, f"W{run_id}", grant_for
            )
            pairs = await _api_pairs(
                port, node_tokens, wallets, params.count, params.clients, f"P{run_id}", grant_for
            )
        finally:
            await engine.dispose()
        me_tokens = shopper_tokens[warm_me:] or shopper_tokens
        await _api_me(port, shopper_tokens[:warm_me], warm_me, params.clients)
        me = await _api_me(port, me_tokens, params.me_count, params.clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return _OverHttp(pairs, me, len(me_tokens), minted)


def _network_report(
    params: NetworkParams,
    name: str,
    loaded: Loaded,
    api: _OverHttp,
    bare: _Bare,
) -> dict[str, Any]:
    api_pairs, api_me = api.pairs.summary(params.count), api.me.summary()
    bare_pair_summary, bare_me_summary = bare.pairs.summary(params.count), bare.me.summary()
    pair_rate, me_p99 = api_pairs["pairs_per_s"], api_me["latency_ms"]["p99"]
    return {
        "benchmark": "network",
        "date": utcnow().date().isoformat(),
        "path": (
            f"node clients and shopper apps -> hub GraphQL over HTTP ({params.server_workers}"
            " uvicorn process(es)) -> PostgreSQL"
        ),
        "parameters": asdict(params),
        "database": {"name": name, "kept": params.keep},
        "load": loaded.report,
        "api": {
            "hold_capture": {
                "what": "holdNetworkValue then captureNetworkHold (full), node client tokens"
                " from /oauth/token, 3 shops",
                **api_pairs,
            },
            "me": {
                "what": "me { wallet valueHistory(first: 20) } as a shopper",
                "distinct_shoppers": api.distinct_shoppers,
                "token_minting_s": round(api.token_minting_s, 2),
                **api_me,
            },
        },
        # The key keeps its old name; since issue 13 the side is the hub's own code, not a
        # hand copy of its statements: the gap to "api" is HTTP, GraphQL and the token check.
        "bare_database": {
            "hold_capture": {
                "what": "hub.services.value.hold then capture (full, with the purchaseRef),"
                " each in its own transaction through mallnet.db.transaction (the resolvers'"
                " retry idiom), in the bench process on the hub's engine and session factory,"
                " same concurrency, after the same warm-up as over HTTP; no HTTP, GraphQL,"
                " token or shop status check, no mapping of the answer",
                **bare_pair_summary,
            },
            "me": {
                "what": "what the me resolver runs for me { wallet valueHistory(first: 20) }:"
                " hub.services.people.get_shopper, hub.api.value.wallet and value_history"
                " (the wallet service reads, mapped to the answer's objects) in one session,"
                " in the bench process on the hub's engine, same concurrency, after the same"
                " warm-up as over HTTP; no HTTP, GraphQL execution or token",
                **bare_me_summary,
            },
        },
        "api_vs_bare": {
            "pairs_per_s": _ratio(pair_rate, bare_pair_summary["pairs_per_s"]),
            "me_per_s": _ratio(api_me["per_s"], bare_me_summary["per_s"]),
        },
        "targets": {
            "pairs_per_s": {
                "target": TARGET_PAIRS_PER_S,
                "measured": pair_rate,
                "met": pair_rate >= TARGET_PAIRS_PER_S,
            },
            "me_p99_ms": {
                "target": TARGET_ME_P99_MS,
                "measured": me_p99,
                "met": api_me["failures"] == 0 and me_p99 <= TARGET_ME_P99_MS,
            },
        },
        "machine": _machine(),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else 0.0


def main_network(postgres_url: str, params: NetworkParams, data_dir: Path) -> str:
    """What ``mallnet bench network`` runs: the JSON result."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return json.dumps(asyncio.run(bench_network(postgres_url, params, data_dir)), indent=2)
