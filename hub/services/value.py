"""Network value: pooled points, general and targeted credit, held by the hub as lots in
a double-entry, insert-only ledger.

Every change is a ``value_transactions`` row with an idempotency key and postings that sum
to zero per unit. A lot's ``remaining``/``held`` columns cache its two accounts and are
changed only by ``_record``, with the postings, in the same transaction. Redemption is
two-phase: a hold reserves value from lots (soonest-expiring first) under row locks, and
is captured (fully or partly), voided or expired exactly once. Every capture records, per
consumed lot, who issued the value and who redeemed it (``value_redemptions``): the input
of settlement.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from pydantic import ValidationError
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from federation.envelope import PurchaseRefunded
from federation.ids import new_event_id
from hub.db.models import (
    IssuancePolicy,
    LocalBalance,
    PointValue,
    SettlementPending,
    Shop,
    ValueHold,
    ValueHoldLot,
    ValueLot,
    ValuePosting,
    ValueRedemption,
    ValueTransaction,
)
from hub.domain.problems import HubError
from hub.domain.value_rules import (
    GENERAL,
    MAX_RIAL,
    POOLED,
    TARGETED,
    Grant,
    IssuanceRules,
    LotView,
    PurchaseFacts,
    accepted_at,
    issuance,
    refund_targets,
    reserve,
    spending_order,
    split_capture,
    unit_of,
)
from hub.services import prepaid, registry
from mallnet.db import utcnow
from mallnet.digest import request_digest

# Until mall management sets one: 1,000 Rial (100 toman) a pooled point.
DEFAULT_RIAL_PER_POINT = 1_000
# A million toman a point is far beyond any mall; it keeps points × value inside BIGINT.
MAX_RIAL_PER_POINT = 10**7
DEFAULT_HOLD_TTL_S = 15 * 60
PSEUDONYM = re.compile(r"[0-9a-f]{64}")
MIN_HOLD_TTL_S, MAX_HOLD_TTL_S = 30, 24 * 3600
ALL_KINDS: tuple[str, ...] = (POOLED, GENERAL, TARGETED)
REFUND_LOT_DAYS = 30  # a returned lot that had expired meanwhile lives this long at least

log = logging.getLogger(__name__)

POSTINGS: Table = ValuePosting.__table__  # type: ignore[assignment]
REDEMPTIONS: Table = ValueRedemption.__table__  # type: ignore[assignment]
LOTS: Table = ValueLot.__table__  # type: ignore[assignment]
PENDING: Table = SettlementPending.__table__  # type: ignore[assignment]


class NetworkValueError(HubError):
    """An expected failure of a network value use case (nothing was written)."""


# --- The ledger ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    account: str  # available | held | issuer | redeemed | expired
    unit: str  # point | rial
    amount: int
    lot_id: int | None = None
    shop: str | None = None


@dataclass(frozen=True)
class Entry:
    kind: str
    pseudonym: str
    key: str
    reason: str
    shop: str | None = None
    hold_id: str | None = None
    points: int = 0
    credit_rial: int = 0
    value_rial: int = 0


async def _record(
    session: AsyncSession, entry: Entry, legs: Sequence[Leg], now: dt.datetime
) -> int:
    """Write one balanced transaction and move the lot caches with it."""
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if leg.amount == 0:
            raise AssertionError("a posting of zero")
        totals[leg.unit] += leg.amount
    if any(totals.values()):
        raise AssertionError(f"unbalanced value transaction {entry.key}: {dict(totals)}")
    txn = ValueTransaction(
        pseudonym=entry.pseudonym,
        kind=entry.kind,
        shop=entry.shop,
        hold_id=entry.hold_id,
        reason=entry.reason[:300],
        idempotency_key=entry.key,
        points=entry.points,
        credit_rial=entry.credit_rial,
        value_rial=entry.value_rial,
        created_at=now,
    )
    session.add(txn)
    await session.flush()
    conn = await session.connection()
    if not legs:
        return txn.id
    await conn.execute(
        insert(POSTINGS),
        [
            {
                "transaction_id": txn.id,
                "account": leg.account,
                "lot_id": leg.lot_id,
                "shop": leg.shop,
                "unit": leg.unit,
                "amount": leg.amount,
            }
            for leg in legs
        ],
    )
    moves: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # lot -> [remaining, held]
    for leg in legs:
        if leg.lot_id is None:
            continue
        if leg.account == "available":
            moves[leg.lot_id][0] += leg.amount
        elif leg.account == "held":
            moves[leg.lot_id][0] += leg.amount
            moves[leg.lot_id][1] += leg.amount
    for lot_id, (remaining, held) in sorted(moves.items()):
        if not (remaining or held):
            continue
        now_remaining, now_held, now_due = (
            await conn.execute(
                update(LOTS)
                .where(LOTS.c.id == lot_id)
                .values(remaining=LOTS.c.remaining + remaining, held=LOTS.c.held + held)
                .returning(LOTS.c.remaining, LOTS.c.held, LOTS.c.clawback_due)
            )
        ).one()
        # A lot this session already loaded sees its row as it is now (the update holds
        # the row lock) without a reload.
        loaded = session.identity_map.get(identity_key(ValueLot, lot_id))
        if loaded is not None:
            set_committed_value(loaded, "remaining", now_remaining)
            set_committed_value(loaded, "held", now_held)
            set_committed_value(loaded, "clawback_due", now_due)
    return txn.id


class Shown(TypedDict):
    points: int
    credit_rial: int
    value_rial: int


def _shown(lot: ValueLot, units: int) -> Shown:
    """What moving ``units`` of ``lot`` shows in the shopper's history (points or credit,
    and its worth): kept on the transaction so the history reads one table."""
    point = unit_of(lot.kind) == "point"
    return Shown(
        points=units if point else 0,
        credit_rial=0 if point else units,
        value_rial=units * lot.rial_per_point,
    )


async def _seen(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(
        select(ValueTransaction.id).where(ValueTransaction.idempotency_key == key)
    )
    return found is not None


# --- Mall-wide and per-shop rules -----------------------------------------------------------


async def point_value_at(session: AsyncSession, at: dt.datetime) -> int:
    value = await session.scalar(
        select(PointValue.rial_per_point)
        .where(PointValue.effective_from <= at)
        .order_by(PointValue.effective_from.desc(), PointValue.id.desc())
        .limit(1)
    )
    return DEFAULT_RIAL_PER_POINT if value is None else int(value)


async def point_values(session: AsyncSession) -> list[PointValue]:
    rows = await session.scalars(select(PointValue).order_by(PointValue.effective_from.desc()))
    return list(rows.all())


async def set_point_value(session: AsyncSession, rial_per_point: int, actor: str) -> PointValue:
    if isinstance(rial_per_point, bool) or not 1 <= rial_per_point <= MAX_RIAL_PER_POINT:
        raise NetworkValueError(
            "INVALID_INPUT", f"between 1 and {MAX_RIAL_PER_POINT} Rial a point", "rialPerPoint"
        )
    now = utcnow()
    row = PointValue(
        rial_per_point=rial_per_point, effective_from=now, set_by=actor, created_at=now
    )
    session.add(row)
    await session.flush()
    return row


def parse_rules(document: object) -> IssuanceRules:
    try:
        return IssuanceRules.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "policy"
        raise NetworkValueError("INVALID_INPUT", f"{where}: {first['msg']}", "policy") from None


async def set_issuance_policy(
    session: AsyncSession, shop: str, document: object, actor: str
) -> IssuancePolicy:
    rules = parse_rules(document)
    categories = {r.accepted_category for r in rules.credit_rules if r.accepted_category}
    unknown = categories - set(registry.CATEGORIES)
    if unknown:
        raise NetworkValueError(
            "INVALID_INPUT", f"unknown categories {sorted(unknown)}; known: {registry.CATEGORIES}"
        )
    named = {s for rule in rules.credit_rules for s in rule.accepted_shops}
    known = set((await session.scalars(select(Shop.slug).where(Shop.slug.in_(named)))).all())
    if named - known:
        raise NetworkValueError("INVALID_INPUT", f"unknown shops {sorted(named - known)}", "policy")
    last = await session.scalar(
        select(func.max(IssuancePolicy.version)).where(IssuancePolicy.shop == shop)
    )
    now = utcnow()
    row = IssuancePolicy(
        shop=shop,
        version=(last or 0) + 1,
        document=rules.model_dump(mode="json"),
        effective_from=now,
        set_by=actor,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def issuance_policy(
    session: AsyncSession, shop: str, at: dt.datetime | None = None
) -> IssuancePolicy | None:
    query = select(IssuancePolicy).where(IssuancePolicy.shop == shop)
    if at is not None:
        query = query.where(IssuancePolicy.effective_from <= at)
    return await session.scalar(query.order_by(IssuancePolicy.version.desc()).limit(1))


# --- Issuance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueInput:
    pseudonym: str
    kind: str
    issuer: str
    amount: int
    expires_at: dt.datetime
    reason: str
    origin: str
    key: str
    rial_per_point: int = 1
    accepted_shops: Sequence[str] = ()
    accepted_category: str | None = None


async def issue(
    session: AsyncSession, data: IssueInput, now: dt.datetime | None = None
) -> ValueLot:
    """Issue a lot (idempotent on ``key``: the same key returns the lot issued before)."""
    now = now or utcnow()
    existing = await session.scalar(select(ValueLot).where(ValueLot.issue_key == data.key))
    if existing is not None:
        return existing
    if not 0 < data.amount <= MAX_RIAL:
        raise NetworkValueError("INVALID_INPUT", "amount must be positive", "amount")
    unit = unit_of(data.kind)
    funded = False
    if ":" not in data.issuer:  # a shop (a campaign's value is paid for by its sharing rule)
        worth = data.amount * (data.rial_per_point if unit == "point" else 1)
        funded = await prepaid.draw_for_issue(session, data.issuer, worth, data.key)
    lot = ValueLot(
        pseudonym=data.pseudonym,
        kind=data.kind,
        issuer_shop=data.issuer,
        amount=data.amount,
        remaining=0,
        held=0,
        rial_per_point=data.rial_per_point if unit == "point" else 1,
        accepted_shops=sorted(set(data.accepted_shops)),
        accepted_category=data.accepted_category,
        expires_at=data.expires_at,
        reason=data.reason[:200],
        origin=data.origin[:120],
        issue_key=data.key,
        created_at=now,
        prepaid=funded,
    )
    session.add(lot)
    await session.flush()
    await _record(
        session,
        Entry(
            kind="issue",
            pseudonym=data.pseudonym,
            key=f"issue:{data.key}",
            reason=data.reason,
            shop=data.issuer,
            **_shown(lot, data.amount),
        ),
        [
            Leg("issuer", unit, -data.amount, shop=data.issuer),
            Leg("available", unit, data.amount, lot_id=lot.id),
        ],
        now,
    )
    return lot


async def issue_for_purchase(
    session: AsyncSession,
    shop: str,
    event_id: str,
    receipt_id: str,
    pseudonym: str,
    facts: PurchaseFacts,
    occurred_at: dt.datetime,
) -> list[ValueLot]:
    """Issue what the shop's policy in force at the purchase grants (once per event)."""
    policy = await issuance_policy(session, shop, occurred_at)
    if policy is None:
        return []
    grants = issuance(IssuanceRules.model_validate(policy.document), facts)
    lots = []
    rate = await point_value_at(session, occurred_at) if grants else DEFAULT_RIAL_PER_POINT
    for index, grant in enumerate(grants):
        try:
            lot = await issue(
                session,
                IssueInput(
                    pseudonym=pseudonym,
                    kind=grant.kind,
                    issuer=shop,
                    amount=grant.amount,
                    expires_at=occurred_at + dt.timedelta(days=grant.valid_days),
                    reason=grant_reason(grant, receipt_id, policy.version),
                    origin=purchase_origin(shop, receipt_id),
                    key=f"purchase:{event_id}:{index}",
                    rial_per_point=rate,
                    accepted_shops=grant.accepted_shops,
                    accepted_category=grant.accepted_category,
                ),
            )
        except prepaid.PrepaidExhausted as exc:
            # Recorded as a refused issuance on the shop's prepaid account; the purchase
            # itself stands (it happened at the shop), only its network value is not issued.
            log.warning("purchase %s at %s issued no network value: %s", receipt_id, shop, exc)
            continue
        lots.append(lot)
    return lots


def purchase_origin(shop: str, receipt_id: str) -> str:
    return f"receipt:{shop}:{receipt_id}"


def grant_reason(grant: Grant, receipt_id: str, version: int) -> str:
    what = {POOLED: "pooled points", GENERAL: "network credit", TARGETED: "targeted credit"}
    return f"{what[grant.kind]} for purchase {receipt_id} ({grant.rule}, policy v{version})"


async def clawback_for_refund(
    session: AsyncSession, shop: str, refund: PurchaseRefunded, now: dt.datetime
) -> int:
    """A purchase refunded at its own shop takes back, pro rata, the value it issued. What
    is available goes now; what is held or spent becomes a due, taken as soon as value
    comes back into the lot (a void, an expired hold, a refund where it was spent). Value
    that expired stays expired. Returns what was taken now."""
    total, before, amount = (
        refund.purchase_total_rial,
        refund.refunded_before_rial,
        refund.amount_rial,
    )
    if total <= 0 or amount <= 0:
        return 0
    lots = (
        await session.scalars(
            select(ValueLot)
            .where(ValueLot.origin == purchase_origin(shop, refund.receipt_id))
            .order_by(ValueLot.id)
            .with_for_update()
        )
    ).all()
    taken = 0
    for lot in lots:
        key = f"clawback:{shop}:{refund.refund_id}:{lot.id}"
        if await _seen(session, key):
            continue
        # Cumulative rounding, as the node's own reversal: all refunds take back it all.
        wanted = lot.amount * (before + amount) // total - lot.amount * before // total
        take = min(wanted, lot.remaining - lot.held)
        lot.clawback_due += wanted - take
        # Recorded even when nothing is available now: the key makes a replay a no-op.
        await _clawback(session, lot, take, key, f"purchase refunded at {shop}", now)
        taken += take
    await session.flush()
    return taken


async def _clawback(
    session: AsyncSession, lot: ValueLot, take: int, key: str, why: str, now: dt.datetime
) -> None:
    unit = unit_of(lot.kind)
    await _record(
        session,
        Entry(
            kind="clawback",
            pseudonym=lot.pseudonym,
            key=key,
            reason=f"{why}: its {lot.kind.replace('_', ' ')} taken back",
            shop=lot.issuer_shop,
            **_shown(lot, take),
        ),
        [
            Leg("available", unit, -take, lot_id=lot.id),
            Leg("issuer", unit, take, shop=lot.issuer_shop),
        ]
        if take
        else [],
        now,
    )
    if take and lot.prepaid:  # what the issuer paid for in advance goes back to it
        worth = take * lot.rial_per_point
        await prepaid.give_back(session, lot.issuer_shop, "clawback", worth, key, why)


async def _collect_dues(
    session: AsyncSession, touched: Sequence[ValueLot], now: dt.datetime
) -> None:
    """Value came back into these lots (their rows as ``_record`` just returned them,
    under its row lock): take what their issuers are still owed."""
    lots = sorted(
        {lot.id: lot for lot in touched if lot.clawback_due > 0}.values(), key=lambda x: x.id
    )
    for lot in lots:
        take = min(lot.clawback_due, lot.remaining - lot.held)
        if take > 0:
            lot.clawback_due -= take
            key = f"clawback-due:{lot.id}:{new_event_id()}"
            await _clawback(session, lot, take, key, "owed since its purchase was refunded", now)
    await session.flush()


# --- Two-phase redemption -------------------------------------------------------------------


@dataclass(frozen=True)
class HoldInput:
    pseudonym: str
    amount_rial: int
    purchase_ref: str
    idempotency_key: str
    partial: bool = False
    kinds: Sequence[str] = ALL_KINDS
    ttl_s: int = DEFAULT_HOLD_TTL_S


@dataclass(frozen=True)
class HoldOutcome:
    hold: ValueHold
    replayed: bool
    portions: list[ValueHoldLot] = field(default_factory=list)
    # The portions' lots, when the use case had them at hand (saves reading them again).
    lots: dict[int, ValueLot] = field(default_factory=dict)


def _check_key(value: str, name: str) -> None:
    if not (1 <= len(value) <= 64 and value.isascii() and value.isprintable()):
        raise NetworkValueError("INVALID_INPUT", "1-64 visible ASCII characters", name)


async def _shop_category(session: AsyncSession, shop: str) -> str | None:
    info = (await shop_directory(session, need=shop)).get(shop)
    return None if info is None else info.category


def _view(lot: ValueLot) -> LotView:
    return LotView(
        id=lot.id,
        kind=lot.kind,
        available=lot.remaining - lot.held,
        rial_per_point=lot.rial_per_point,
        expires_at=lot.expires_at,
        accepted_shops=tuple(lot.accepted_shops),
        accepted_category=lot.accepted_category,
    )


async def _spendable(
    session: AsyncSession, pseudonym: str, shop: str, now: dt.datetime, *, lock: bool
) -> list[ValueLot]:
    query = (
        select(ValueLot)
        .where(
            ValueLot.pseudonym == pseudonym,
            ValueLot.expires_at > now,
            ValueLot.remaining > ValueLot.held,
        )
        .order_by(ValueLot.expires_at, ValueLot.id)
    )
    if lock:
        query = query.with_for_update()
    rows = (await session.scalars(query)).all()
    category = await _shop_category(session, shop)
    return [lot for lot in rows if accepted_at(_view(lot), shop, category)]


async def hold(session: AsyncSession, shop: str, data: HoldInput) -> HoldOutcome:
    _check_key(data.idempotency_key, "idempotencyKey")
    _check_key(data.purchase_ref, "purchaseRef")
    if not PSEUDONYM.fullmatch(data.pseudonym):
        raise NetworkValueError("INVALID_INPUT", "a shopper's pseudonym (64 hex)", "pseudonym")
    if isinstance(data.amount_rial, bool) or not 0 < data.amount_rial <= MAX_RIAL:
        raise NetworkValueError("INVALID_INPUT", "a positive amount in Rial", "amountRial")
    if not MIN_HOLD_TTL_S <= data.ttl_s <= MAX_HOLD_TTL_S:
        raise NetworkValueError(
            "INVALID_INPUT", f"between {MIN_HOLD_TTL_S} and {MAX_HOLD_TTL_S} seconds", "ttlSeconds"
        )
    kinds = sorted(set(data.kinds))
    if not kinds or not set(kinds) <= {POOLED, GENERAL, TARGETED}:
        raise NetworkValueError("INVALID_INPUT", "choose among the kinds of network value", "kinds")
    digest = request_digest(
        {
            "pseudonym": data.pseudonym,
            "amount": data.amount_rial,
            "purchase": data.purchase_ref,
            "partial": data.partial,
            "kinds": kinds,
            "ttl": data.ttl_s,
        }
    )
    now = utcnow()
    existing = await session.scalar(
        select(ValueHold)
        .where(ValueHold.shop == shop, ValueHold.idempotency_key == data.idempotency_key)
        .with_for_update()
    )
    if existing is not None and existing.status == "open" and existing.expires_at <= now:
        await _expire(session, existing, now)  # the sweep has not come by yet
    if existing is not None and existing.status in ("voided", "expired"):
        # That hold is over; asking again (the POS's natural retry, or "ask for a new
        # one") gets a new hold. The old one keeps its id and history; its key is freed.
        existing.idempotency_key = f"retired:{existing.id}"
        await session.flush()
    elif existing is not None:
        if existing.request_hash != digest:
            raise NetworkValueError(
                "IDEMPOTENCY_CONFLICT",
                "this idempotency key was used for a different hold",
                "idempotencyKey",
            )
        return HoldOutcome(existing, True, await _portions(session, existing.id))
    lots = [
        lot
        for lot in await _spendable(session, data.pseudonym, shop, now, lock=True)
        if lot.kind in kinds
    ]
    taken, covered = reserve(spending_order([_view(lot) for lot in lots]), data.amount_rial)
    if covered == 0 or (covered < data.amount_rial and not data.partial):
        raise NetworkValueError(
            "INSUFFICIENT_VALUE",
            f"{covered} Rial of network value is spendable here; {data.amount_rial} asked",
            "amountRial",
        )
    by_id = {lot.id: lot for lot in lots}
    row = ValueHold(
        id=new_event_id(),
        shop=shop,
        pseudonym=data.pseudonym,
        idempotency_key=data.idempotency_key,
        request_hash=digest,
        purchase_ref=data.purchase_ref,
        requested_rial=data.amount_rial,
        held_rial=covered,
        captured_rial=0,
        refunded_rial=0,
        status="open",
        expires_at=now + dt.timedelta(seconds=data.ttl_s),
        created_at=now,
    )
    session.add(row)
    portions = [
        ValueHoldLot(
            hold_id=row.id,
            position=index,
            lot_id=lot_id,
            units=units,
            captured_units=0,
            refunded_units=0,
        )
        for index, (lot_id, units) in enumerate(taken)
    ]
    session.add_all(portions)
    await session.flush()
    legs: list[Leg] = []
    for lot_id, units in taken:
        unit = unit_of(by_id[lot_id].kind)
        legs += [
            Leg("available", unit, -units, lot_id=lot_id),
            Leg("held", unit, units, lot_id=lot_id),
        ]
    points = sum(u for lot_id, u in taken if by_id[lot_id].kind == POOLED)
    await _record(
        session,
        Entry(
            kind="hold",
            pseudonym=data.pseudonym,
            key=f"hold:{row.id}",
            reason=f"held for purchase {data.purchase_ref}",
            shop=shop,
            hold_id=row.id,
            points=points,
            credit_rial=sum(u for lot_id, u in taken if by_id[lot_id].kind != POOLED),
            value_rial=covered,
        ),
        legs,
        now,
    )
    return HoldOutcome(row, False, portions, by_id)


async def _portions(session: AsyncSession, hold_id: str) -> list[ValueHoldLot]:
    rows = await session.scalars(
        select(ValueHoldLot).where(ValueHoldLot.hold_id == hold_id).order_by(ValueHoldLot.position)
    )
    return list(rows.all())


async def _own_hold(session: AsyncSession, shop: str, hold_id: str) -> ValueHold:
    row = await session.get(ValueHold, hold_id, with_for_update=True)
    if row is None or row.shop != shop:
        raise NetworkValueError("NOT_FOUND", "no hold with that id for this shop", "holdId")
    return row


async def _lots_of(
    session: AsyncSession, portions: Sequence[ValueHoldLot], *, lock: bool = False
) -> dict[int, ValueLot]:
    ids = sorted({p.lot_id for p in portions})
    query = select(ValueLot).where(ValueLot.id.in_(ids)).order_by(ValueLot.id)
    if lock:
        query = query.with_for_update()
    rows = (await session.scalars(query)).all()
    return {lot.id: lot for lot in rows}


@dataclass
class _Moves:
    """What one hold-related transaction moves, lot by lot: its legs, the totals the
    shopper's history shows, and the settlement rows (issuer → redeeming shop)."""

    row: ValueHold
    legs: list[Leg] = field(default_factory=list)
    points: int = 0
    credit: int = 0
    value: int = 0
    redemptions: list[dict[str, object]] = field(default_factory=list)

    def add(self, lot: ValueLot, units: int, *legs: Leg) -> None:
        self.legs += legs
        shown = _shown(lot, units)
        self.points += shown["points"]
        self.credit += shown["credit_rial"]
        self.value += shown["value_rial"]

    def redeemed(self, lot: ValueLot, units: int, now: dt.datetime) -> None:
        self.redemptions.append(
            {
                "hold_id": self.row.id,
                "lot_id": lot.id,
                "kind": lot.kind,
                "issuer_shop": lot.issuer_shop,
                "redeemer_shop": self.row.shop,
                "units": units,
                "amount_rial": units * lot.rial_per_point,
                "created_at": now,
            }
        )

    async def record(
        self, session: AsyncSession, kind: str, key: str, reason: str, now: dt.datetime
    ) -> None:
        entry = Entry(
            kind=kind,
            pseudonym=self.row.pseudonym,
            key=key,
            reason=reason,
            shop=self.row.shop,
            hold_id=self.row.id,
            points=self.points,
            credit_rial=self.credit,
            value_rial=self.value,
        )
        txn = await _record(session, entry, self.legs, now)
        if self.redemptions:
            conn = await session.connection()
            rows = [{**r, "transaction_id": txn} for r in self.redemptions]
            ids = await conn.execute(
                insert(REDEMPTIONS).returning(REDEMPTIONS.c.id, sort_by_parameter_order=True),
                rows,
            )
            # The settlement outbox: the next close settles these lines.
            pending = [{"kind": "capture", "ref_id": rid} for rid in ids.scalars()]
            await conn.execute(insert(PENDING), pending)


async def _release(
    session: AsyncSession,
    row: ValueHold,
    portions: Sequence[ValueHoldLot],
    lots: dict[int, ValueLot],
    why: str,
    now: dt.datetime,
) -> None:
    """Give back what a hold reserved and did not capture."""
    moves = _Moves(row)
    for p in portions:
        back = p.units - p.captured_units
        if back > 0:
            lot = lots[p.lot_id]
            unit = unit_of(lot.kind)
            moves.add(
                lot,
                back,
                Leg("held", unit, -back, lot_id=lot.id),
                Leg("available", unit, back, lot_id=lot.id),
            )
    if moves.legs:
        reason = f"hold for purchase {row.purchase_ref} {why}"
        await moves.record(session, "release", f"release:{row.id}", reason, now)
        returned = [lots[p.lot_id] for p in portions if p.units > p.captured_units]
        await _collect_dues(session, returned, now)


async def capture(
    session: AsyncSession,
    shop: str,
    hold_id: str,
    amount_rial: int | None = None,
    purchase_ref: str | None = None,
    up_to_rial: int | None = None,
) -> HoldOutcome:
    """Capture ``amount_rial`` of an open hold — or, without it, all of it but at most
    ``up_to_rial`` (what is left to pay) — for the purchase it was made for; the rest is
    released. The same capture again is answered as a replay; anything else on a closed
    hold is refused."""
    for name, given in (("amountRial", amount_rial), ("upToRial", up_to_rial)):
        if given is not None and (isinstance(given, bool) or given <= 0):
            raise NetworkValueError("INVALID_INPUT", "a positive amount in Rial", name)
    row = await _own_hold(session, shop, hold_id)
    if purchase_ref is not None and purchase_ref != row.purchase_ref:
        raise NetworkValueError(
            "HOLD_MISMATCH", f"this hold is for purchase {row.purchase_ref!r}", "purchaseRef"
        )
    wanted = amount_rial
    if wanted is None:
        wanted = row.held_rial if up_to_rial is None else min(row.held_rial, up_to_rial)
    # "All of it" and the same amount named explicitly are the same capture.
    digest = request_digest({"capture": wanted})
    if row.status == "captured" and row.capture_hash == digest:
        return HoldOutcome(row, True, await _portions(session, row.id))
    now = utcnow()
    if row.status != "open":
        raise NetworkValueError("HOLD_CLOSED", f"this hold is already {row.status}", "holdId")
    if row.expires_at <= now:
        raise NetworkValueError(
            "HOLD_EXPIRED", "this hold has expired; ask for a new one", "holdId"
        )
    if wanted > row.held_rial:
        raise NetworkValueError(
            "INVALID_INPUT", f"at most the {row.held_rial} Rial held can be captured", "amountRial"
        )
    portions = await _portions(session, row.id)
    lots = await _lots_of(session, portions)
    units, captured = split_capture(
        [(p.units, lots[p.lot_id].rial_per_point) for p in portions], wanted
    )
    if captured == 0:
        raise NetworkValueError(
            "INVALID_INPUT", "less than one point's worth: nothing to capture", "amountRial"
        )
    moves = _Moves(row)
    for p, take in zip(portions, units, strict=True):
        if take == 0:
            continue
        lot = lots[p.lot_id]
        unit = unit_of(lot.kind)
        p.captured_units = take
        moves.add(
            lot,
            take,
            Leg("held", unit, -take, lot_id=lot.id),
            Leg("redeemed", unit, take, shop=shop),
        )
        moves.redeemed(lot, take, now)
    reason = f"spent on purchase {row.purchase_ref}"
    await moves.record(session, "capture", f"capture:{row.id}", reason, now)
    await _release(session, row, portions, lots, "released after capture", now)
    row.status, row.captured_rial, row.capture_hash, row.resolved_at = (
        "captured",
        captured,
        digest,
        now,
    )
    await session.flush()
    return HoldOutcome(row, False, portions, lots)


async def void(session: AsyncSession, shop: str, hold_id: str) -> HoldOutcome:
    """Release a hold (idempotent: a voided or expired hold is answered as it is)."""
    row = await _own_hold(session, shop, hold_id)
    portions = await _portions(session, row.id)
    if row.status in ("voided", "expired"):
        return HoldOutcome(row, True, portions)
    if row.status == "captured":
        raise NetworkValueError(
            "HOLD_CLOSED", "this hold was captured; refund the purchase", "holdId"
        )
    now = utcnow()
    lots = await _lots_of(session, portions)
    await _release(session, row, portions, lots, "voided", now)
    row.status, row.resolved_at = "voided", now
    await session.flush()
    return HoldOutcome(row, False, portions, lots)


async def expire_holds(
    session: AsyncSession, now: dt.datetime | None = None, limit: int = 500
) -> int:
    """Release open holds past their expiry (beat-scheduled). Returns how many."""
    now = now or utcnow()
    rows = (
        await session.scalars(
            select(ValueHold)
            .where(ValueHold.status == "open", ValueHold.expires_at <= now)
            .order_by(ValueHold.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for row in rows:
        await _expire(session, row, now)
    return len(rows)


async def _expire(session: AsyncSession, row: ValueHold, now: dt.datetime) -> None:
    portions = await _portions(session, row.id)
    await _release(session, row, portions, await _lots_of(session, portions), "expired", now)
    row.status, row.resolved_at = "expired", now
    await session.flush()


async def expire_lots(
    session: AsyncSession, now: dt.datetime | None = None, limit: int = 1000
) -> int:
    """Expire what is still available of lots past their expiry (held value waits for its
    hold). Returns how many lots were touched."""
    now = now or utcnow()
    lots = (
        await session.scalars(
            select(ValueLot)
            .where(ValueLot.expires_at <= now, ValueLot.remaining > ValueLot.held)
            .order_by(ValueLot.expires_at, ValueLot.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for lot in lots:
        gone = lot.remaining - lot.held
        unit = unit_of(lot.kind)
        txn = await _record(
            session,
            Entry(
                kind="expire",
                pseudonym=lot.pseudonym,
                # Unique per sweep: value can come back into a swept lot (a refund racing
                # the sweep), and its next expiry is another change. The row lock and the
                # "something available" filter keep a sweep from acting twice.
                key=f"expire:{lot.id}:{new_event_id()}",
                reason=f"{lot.kind.replace('_', ' ')} from {lot.issuer_shop} expired",
                shop=lot.issuer_shop,
                **_shown(lot, gone),
            ),
            [Leg("available", unit, -gone, lot_id=lot.id), Leg("expired", unit, gone)],
            now,
        )
        # Breakage, for the settlement that follows.
        await (await session.connection()).execute(
            insert(PENDING), [{"kind": "expiry", "ref_id": txn}]
        )
    return len(lots)


async def refund(
    session: AsyncSession, shop: str, hold_id: str, amount_rial: int, key: str, now: dt.datetime
) -> int:
    """A refund at ``shop`` of a purchase paid with network value returns ``amount_rial``
    of it to the lots it came from (a lot expired meanwhile is replaced by a new lot of the
    same issuer) and reverses the settlement input. Returns the Rial returned."""
    if await _seen(session, f"refund:{key}"):
        return 0
    row = await _own_hold(session, shop, hold_id)
    if row.status != "captured":
        raise NetworkValueError("HOLD_CLOSED", "only a captured hold can be refunded", "holdId")
    amount = min(amount_rial, row.captured_rial - row.refunded_rial)
    if amount <= 0:
        return 0
    portions = [p for p in await _portions(session, row.id) if p.captured_units > 0]
    lots = await _lots_of(session, portions, lock=True)
    # The caller's clock may have started before an expiry sweep that already ran: value
    # never goes back into a lot past its expiry (a new lot of the same issuer takes it).
    now = max(now, utcnow())
    targets = refund_targets(
        [(p.captured_units, lots[p.lot_id].rial_per_point) for p in portions],
        row.refunded_rial + amount,
    )
    moves = _Moves(row)
    returned: list[ValueLot] = []
    for p, target in zip(portions, targets, strict=True):
        back = target - p.refunded_units
        if back <= 0:
            continue
        lot = lots[p.lot_id]
        unit = unit_of(lot.kind)
        into = lot.id
        if lot.expires_at <= now:
            into = (await _refund_lot(session, lot, back, f"{key}:{lot.id}", now)).id
        else:
            returned.append(lot)
        moves.add(
            lot,
            back,
            Leg("redeemed", unit, -back, shop=shop),
            Leg("available", unit, back, lot_id=into),
        )
        moves.redeemed(lot, -back, now)
        p.refunded_units = target
    row.refunded_rial += amount
    # Recorded even when rounding returned it all before (no legs): the key must be seen,
    # or a replay would count the refund twice.
    reason = f"returned: refund of purchase {row.purchase_ref}"
    await moves.record(session, "refund", f"refund:{key}", reason, now)
    await _collect_dues(session, returned, now)
    await session.flush()
    return moves.value


async def _refund_lot(
    session: AsyncSession, original: ValueLot, units: int, key: str, now: dt.datetime
) -> ValueLot:
    """A new, empty lot like ``original`` (same issuer, kind, rate and acceptance) to take
    back value whose lot has expired: it lives as long as the original did."""
    lifetime = max(original.expires_at - original.created_at, dt.timedelta(days=REFUND_LOT_DAYS))
    lot = ValueLot(
        pseudonym=original.pseudonym,
        kind=original.kind,
        issuer_shop=original.issuer_shop,
        amount=units,
        remaining=0,
        held=0,
        rial_per_point=original.rial_per_point,
        accepted_shops=list(original.accepted_shops),
        accepted_category=original.accepted_category,
        expires_at=now + lifetime,
        reason=f"returned by a refund ({original.reason})"[:200],
        origin=f"lot:{original.id}",
        issue_key=f"refund-lot:{key}",
        created_at=now,
        prepaid=original.prepaid,
    )
    session.add(lot)
    await session.flush()
    return lot


# --- What a shopper has ---------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    kind: str
    available: int
    held: int
    value_rial: int  # what the available part is worth
    accepted_shops: tuple[str, ...] = ()
    accepted_category: str | None = None


@dataclass(frozen=True)
class Expiry:
    lot_id: int
    kind: str
    issuer: str
    available: int
    value_rial: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class Summary:
    pooled: Balance
    credit: list[Balance]
    expiring: list[Expiry]
    local: list[LocalBalance]


async def summary(
    session: AsyncSession, pseudonym: str, now: dt.datetime | None = None, horizon_days: int = 30
) -> Summary:
    now = now or utcnow()
    lots = (
        await session.scalars(
            select(ValueLot)
            .where(
                ValueLot.pseudonym == pseudonym, ValueLot.expires_at > now, ValueLot.remaining > 0
            )
            .order_by(ValueLot.expires_at, ValueLot.id)
        )
    ).all()
    pooled = [0, 0, 0]
    credit: dict[tuple[str, tuple[str, ...], str | None], list[int]] = {}
    expiring: list[Expiry] = []
    horizon = now + dt.timedelta(days=horizon_days)
    for lot in lots:
        available = lot.remaining - lot.held
        if lot.kind == POOLED:
            target = pooled
        else:
            target = credit.setdefault(
                (lot.kind, tuple(lot.accepted_shops), lot.accepted_category), [0, 0, 0]
            )
        target[0] += available
        target[1] += lot.held
        target[2] += available * lot.rial_per_point
        if available > 0 and lot.expires_at <= horizon:
            expiring.append(
                Expiry(
                    lot.id,
                    lot.kind,
                    lot.issuer_shop,
                    available,
                    available * lot.rial_per_point,
                    lot.expires_at,
                )
            )
    local = (
        await session.scalars(
            select(LocalBalance)
            .where(LocalBalance.pseudonym == pseudonym)
            .order_by(LocalBalance.shop)
        )
    ).all()
    return Summary(
        pooled=Balance(POOLED, pooled[0], pooled[1], pooled[2]),
        credit=[
            Balance(kind, a, h, v, shops, category)
            for (kind, shops, category), (a, h, v) in sorted(credit.items(), key=lambda i: i[0][0])
        ],
        expiring=expiring,
        local=list(local),
    )


async def spendable_at(
    session: AsyncSession, pseudonym: str, shop: str, now: dt.datetime | None = None
) -> tuple[int, int, int]:
    """(pooled points, credit Rial, total Rial worth) a shopper can spend at ``shop`` now."""
    lots = await _spendable(session, pseudonym, shop, now or utcnow(), lock=False)
    points = sum(lot.remaining - lot.held for lot in lots if lot.kind == POOLED)
    credit = sum(lot.remaining - lot.held for lot in lots if lot.kind != POOLED)
    worth = sum((lot.remaining - lot.held) * lot.rial_per_point for lot in lots)
    return points, credit, worth


async def history(
    session: AsyncSession, pseudonym: str, first: int = 50, before: int | None = None
) -> list[ValueTransaction]:
    query = select(ValueTransaction).where(ValueTransaction.pseudonym == pseudonym)
    if before is not None:
        query = query.where(ValueTransaction.id < before)
    rows = await session.scalars(query.order_by(ValueTransaction.id.desc()).limit(first))
    return list(rows.all())


@dataclass(frozen=True)
class ShopInfo:
    name_fa: str
    name_en: str
    category: str


_SHOPS: dict[str, tuple[float, dict[str, ShopInfo]]] = {}
SHOPS_FRESH_S = 30.0


async def shop_directory(session: AsyncSession, *, need: str | None = None) -> dict[str, ShopInfo]:
    """Every shop's names and category, read at most every ``SHOPS_FRESH_S`` seconds per
    process and database (shops change a few times a year; a renamed shop shows within
    that). A shop ``need``-ed but not in the cached copy is read again at once."""
    database = str(session.bind.engine.url) if session.bind is not None else ""
    cached = _SHOPS.get(database)
    fresh = cached is not None and time.monotonic() - cached[0] < SHOPS_FRESH_S
    if cached is not None and fresh and (need is None or need in cached[1]):
        return cached[1]
    rows = await session.execute(select(Shop.slug, Shop.name_fa, Shop.name_en, Shop.category))
    shops = {slug: ShopInfo(fa, en, category) for slug, fa, en, category in rows.all()}
    _SHOPS[database] = (time.monotonic(), shops)
    return shops


async def shop_names(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Shop names for the shopper's views."""
    return {slug: (s.name_fa, s.name_en) for slug, s in (await shop_directory(session)).items()}


# --- Audit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    issued: int
    remaining: int
    held: int
    captured: int
    expired: int


async def verify(session: AsyncSession, pseudonym: str | None = None) -> list[str]:
    """Every invariant of the value ledger that can be checked from the rows; an empty
    list means all hold."""
    problems: list[str] = []
    txn_filter = [] if pseudonym is None else [ValueTransaction.pseudonym == pseudonym]
    unbalanced = (
        await session.execute(
            select(ValuePosting.transaction_id, ValuePosting.unit, func.sum(ValuePosting.amount))
            .join(ValueTransaction, ValueTransaction.id == ValuePosting.transaction_id)
            .where(*txn_filter)
            .group_by(ValuePosting.transaction_id, ValuePosting.unit)
            .having(func.sum(ValuePosting.amount) != 0)
        )
    ).all()
    problems += [f"transaction {t} is unbalanced in {u}: {s}" for t, u, s in unbalanced]
    lot_filter = [] if pseudonym is None else [ValueLot.pseudonym == pseudonym]
    sums = (
        await session.execute(
            select(
                ValueLot.id,
                ValueLot.remaining,
                ValueLot.held,
                func.coalesce(
                    func.sum(ValuePosting.amount).filter(ValuePosting.account == "available"), 0
                ),
                func.coalesce(
                    func.sum(ValuePosting.amount).filter(ValuePosting.account == "held"), 0
                ),
            )
            .outerjoin(ValuePosting, ValuePosting.lot_id == ValueLot.id)
            .where(*lot_filter)
            .group_by(ValueLot.id, ValueLot.remaining, ValueLot.held)
        )
    ).all()
    for lot_id, remaining, held, available_sum, held_sum in sums:
        if remaining != available_sum + held_sum or held != held_sum:
            problems.append(
                f"lot {lot_id}: cache remaining={remaining} held={held}, ledger says"
                f" {available_sum + held_sum} and {held_sum}"
            )
        if remaining < 0 or held < 0 or held > remaining:
            problems.append(f"lot {lot_id}: out of bounds remaining={remaining} held={held}")
    for unit in ("point", "rial"):
        t = await totals(session, unit, pseudonym)
        if t.issued != t.remaining + t.captured + t.expired:
            problems.append(f"{unit}: issued {t.issued} != remaining+captured+expired {t}")
    return problems


async def totals(session: AsyncSession, unit: str, pseudonym: str | None = None) -> Totals:
    query = (
        select(ValuePosting.account, func.sum(ValuePosting.amount))
        .where(ValuePosting.unit == unit)
        .group_by(ValuePosting.account)
    )
    if pseudonym is not None:
        query = query.join(
            ValueTransaction, ValueTransaction.id == ValuePosting.transaction_id
        ).where(ValueTransaction.pseudonym == pseudonym)
    by = {account: int(total or 0) for account, total in (await session.execute(query)).all()}
    return Totals(
        issued=-by.get("issuer", 0),
        remaining=by.get("available", 0) + by.get("held", 0),
        held=by.get("held", 0),
        captured=by.get("redeemed", 0),
        expired=by.get("expired", 0),
    )
