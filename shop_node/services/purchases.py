"""Recording purchases and refunds at the POS, and quoting spendable credit.

A purchase is idempotent on its receipt id: the same receipt sent again (a POS retry)
returns the original result; the same receipt with other content is a conflict. All of a
purchase — enrolment, spending, earning — is one database transaction: an error writes
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import Line as EventLine
from federation.envelope import OfferGrantClosed, PurchaseRecorded, PurchaseRefunded
from federation.ids import EVENT_ID
from mallnet.db import UTCDateTime
from mallnet.digest import request_digest
from mallnet.secrets_store import pseudonym
from mallnet.values import KEY_HELP, MAX_RIAL, is_idempotency_key
from shop_node.db.models import (
    LedgerTransaction,
    Lot,
    Member,
    Posting,
    Purchase,
    PurchaseLine,
    Refund,
)
from shop_node.domain.earning import Earning, Line, compute_earning, max_credit_spend
from shop_node.domain.errors import (
    FieldProblem,
    HoldOfAnotherShopper,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidInput,
    MemberNotFound,
    NetworkValueUnavailable,
    PurchaseNotFound,
)
from shop_node.domain.lots import OpenLot, allocate
from shop_node.domain.policy import ClubPolicy, Tier
from shop_node.domain.refunds import (
    Holdings,
    PurchaseValue,
    RefundPlan,
    RefundShare,
    Takeback,
    plan_refund,
    refund_share,
)
from shop_node.services import notify, offer_till, outbox
from shop_node.services.ledger import Asset, Ledger, Leg, MemberAccounts, member_accounts
from shop_node.services.members import (
    MEMBER_BY_CARD,
    MEMBER_BY_PHONE,
    AtTill,
    MemberRef,
    create_member,
    find_member,
    grant_legs,
    member_at_till,
    phone_or_problem,
    valid_card_code,
)
from shop_node.services.offer_till import offers_at_till
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

# Where members stand in the tiers lives in ``tiers`` (the balance events need it too);
# named here as well, for the callers that read it with purchases.
from shop_node.services.tiers import TierStanding as TierStanding
from shop_node.services.tiers import metric_of
from shop_node.services.tiers import tier_standings as tier_standings

PURCHASES: Table = Purchase.__table__  # type: ignore[assignment]
PURCHASE_LINES: Table = PurchaseLine.__table__  # type: ignore[assignment]
MAX_LINES = 200


def _check_key(value: str, field_name: str, problems: list[FieldProblem]) -> None:
    if not is_idempotency_key(value):
        problems.append(FieldProblem(field_name, KEY_HELP))


def _check_amount(
    value: int, field_name: str, problems: list[FieldProblem], *, zero: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(FieldProblem(field_name, "an integer amount in Rial"))
    elif value < 0 or (value == 0 and not zero):
        problems.append(
            FieldProblem(field_name, "must be positive" if not zero else "must not be negative")
        )
    elif value > MAX_RIAL:
        problems.append(FieldProblem(field_name, f"at most {MAX_RIAL} Rial"))


@dataclass(frozen=True)
class PurchaseInput:
    receipt_id: str
    total_rial: int
    lines: Sequence[Line]
    phone: str | None = None
    card_code: str | None = None
    credit_to_spend_rial: int = 0
    occurred_at: dt.datetime | None = None
    # Pay part with network value: a hold the hub made for this receipt, and how much of
    # it to capture (all of it when None).
    network_hold_id: str | None = None
    network_rial: int | None = None


# Captures a hold at the hub: (hold id, Rial or None for all, receipt, at most this, the
# purchase's shopper's pseudonym) -> Rial captured. Raises NetworkValueUnavailable when the
# hub was not reached, NetworkValueUncertain when it may have been, NetworkValueRefused
# when it said no (HoldOfAnotherShopper when the hold is not that shopper's).
Capture = Callable[[str, int | None, str, int, str], Awaitable[int]]


@dataclass(frozen=True)
class PurchaseOutcome:
    purchase: Purchase
    lines: list[PurchaseLine]
    member: Member
    points_balance: int
    credit_balance_rial: int
    enrolled: bool
    replayed: bool


def _validate_purchase(data: PurchaseInput) -> tuple[str | None, str]:
    """Checks needing no database; returns (normalised phone, request hash)."""
    problems: list[FieldProblem] = []
    _check_key(data.receipt_id, "receiptId", problems)
    _check_amount(data.total_rial, "totalRial", problems)
    _check_amount(data.credit_to_spend_rial, "creditToSpendRial", problems, zero=True)
    if data.network_rial is not None:
        _check_amount(data.network_rial, "networkRial", problems)
        if data.network_hold_id is None:
            problems.append(FieldProblem("networkHoldId", "networkRial needs the hold to use"))
    if data.network_hold_id is not None and not EVENT_ID.fullmatch(data.network_hold_id):
        problems.append(FieldProblem("networkHoldId", "not a hold id"))
    phone = None
    if (data.phone is None) == (data.card_code is None):
        problems.append(FieldProblem("member", "give exactly one of phone or cardCode"))
    elif data.phone is not None:
        phone = phone_or_problem(data.phone, "phone", problems)
    elif data.card_code is not None and not valid_card_code(data.card_code):
        problems.append(FieldProblem("cardCode", "not a valid card code (10 digits)"))
    if not data.lines:
        problems.append(FieldProblem("lines", "at least one line"))
    if len(data.lines) > MAX_LINES:
        problems.append(FieldProblem("lines", f"at most {MAX_LINES} lines"))
    for index, line in enumerate(data.lines):
        _check_amount(line.amount_rial, f"lines[{index}].amountRial", problems)
        if not (1 <= len(line.group) <= 40):
            problems.append(FieldProblem(f"lines[{index}].productGroup", "1-40 characters"))
    if not problems:
        if sum(line.amount_rial for line in data.lines) != data.total_rial:
            problems.append(FieldProblem("lines", "line amounts must add up to totalRial"))
        if data.credit_to_spend_rial > data.total_rial:
            problems.append(FieldProblem("creditToSpendRial", "cannot exceed totalRial"))
        elif data.credit_to_spend_rial + (data.network_rial or 0) > data.total_rial:
            problems.append(
                FieldProblem("networkRial", "credit and network value cannot exceed totalRial")
            )
    if data.occurred_at is not None and data.occurred_at.tzinfo is None:
        problems.append(FieldProblem("occurredAt", "needs a timezone offset"))
    if problems:
        raise InvalidInput(problems)
    request: dict[str, object] = {
        "receipt": data.receipt_id,
        "phone": phone,
        "card": data.card_code,
        "total": data.total_rial,
        "lines": [[line.group, line.amount_rial] for line in data.lines],
        "credit": data.credit_to_spend_rial,
        "occurred_at": None if data.occurred_at is None else data.occurred_at.isoformat(),
    }
    if data.network_hold_id is not None:  # only then: earlier receipts keep their hashes
        request["network"] = [data.network_hold_id, data.network_rial]
    return phone, request_digest(request)


@dataclass(frozen=True)
class Standing:
    """A member's record before a purchase: how many visits, and their tier metric."""

    visits: int
    metric: int


def _standing_query() -> Select[Any, Any, Any, Any, Any]:
    since = bindparam("since", type_=UTCDateTime())
    own = Purchase.member_id == bindparam("member_id")
    refunded = (
        select(
            func.coalesce(func.sum(Refund.reversed_points), 0).label("points"),
            func.coalesce(
                func.sum(Refund.amount_rial).filter(Purchase.occurred_at > since), 0
            ).label("amount"),
        )
        .join(Purchase, Purchase.id == Refund.purchase_id)
        .where(own)
        .subquery()
    )
    return (
        select(
            func.count(Purchase.id),
            func.coalesce(func.sum(Purchase.earned_points + Purchase.frequency_points), 0),
            func.max(refunded.c.points),
            func.coalesce(func.sum(Purchase.total_rial).filter(Purchase.occurred_at > since), 0),
            func.max(refunded.c.amount),
        )
        .select_from(Purchase)
        .join(refunded, true())
        .where(own)
    )


STANDING = _standing_query()
RECEIPT_SEEN = select(Purchase.id).where(Purchase.receipt_id == bindparam("receipt_id"))
INSERT_PURCHASE = insert(PURCHASES).returning(PURCHASES.c.id)
INSERT_LINES = insert(PURCHASE_LINES)


async def standing(
    session: AsyncSession, policy: ClubPolicy, member_id: int, now: dt.datetime
) -> Standing:
    """One query: visits so far, and the tier metric — earned points (never the current
    balance) or the rolling 12-month net spend, refunds deducted."""
    row = (
        await session.execute(
            STANDING, {"member_id": member_id, "since": now - dt.timedelta(days=365)}
        )
    ).one()
    visits, earned, reversed_points, spent, refunded_rial = (int(v or 0) for v in row)
    return Standing(visits, metric_of(policy, earned, reversed_points, spent, refunded_rial))


async def current_tier(
    session: AsyncSession, policy: ClubPolicy, member_id: int, now: dt.datetime
) -> tuple[Tier, int]:
    metric = (await standing(session, policy, member_id, now)).metric
    return policy.tier_for(metric), metric


async def _replay(session: AsyncSession, purchase: Purchase, digest: str) -> PurchaseOutcome:
    if purchase.request_hash != digest:
        raise IdempotencyConflict(
            f"receipt {purchase.receipt_id!r} was already recorded with different content"
        )
    member = await session.get_one(Member, purchase.member_id)
    ledger_accounts = await member_accounts(session, member.id)
    lines = list(
        (
            await session.scalars(
                select(PurchaseLine)
                .where(PurchaseLine.purchase_id == purchase.id)
                .order_by(PurchaseLine.line_no)
            )
        ).all()
    )
    return PurchaseOutcome(
        purchase, lines, member, ledger_accounts.points, ledger_accounts.rial, False, True
    )


async def record_purchase(
    runtime: NodeRuntime, data: PurchaseInput, actor: str, capture: Capture | None = None
) -> PurchaseOutcome:
    """Record a POS purchase. One paid partly with network value asks the hub to capture it
    outside any local transaction — a slow hub must not hold this node's write lock, which
    on SQLite stops every other till: a short read first refuses what this node would
    refuse (the hub never takes value for a purchase that cannot be recorded) and names the
    shopper; then the hub captures; then one write transaction records the purchase with
    what was captured. A crash or failure after the capture is safe: the till retries the
    same receipt and the hub answers the capture as a replay, and a capture no purchase
    event names is reversed by the hub's reconciliation."""
    phone, digest = _validate_purchase(data)
    captured: _Captured | None = None
    if data.network_hold_id is not None:
        if capture is None:
            raise NetworkValueUnavailable("this node is not connected to the hub")
        checked = await runtime.read(
            lambda session: _before_capture(session, runtime, data, phone, digest)
        )
        if isinstance(checked, PurchaseOutcome):
            return checked
        shopper, charged = checked
        paid = await _capture_network_value(capture, data, data.network_hold_id, shopper, charged)
        captured = _Captured(shopper, paid)

    async def work(session: AsyncSession) -> PurchaseOutcome:
        return await _record(
            session, runtime, data, phone=phone, digest=digest, actor=actor, captured=captured
        )

    return await runtime.transaction(work)


@dataclass(frozen=True)
class _Captured:
    """What the hub captured for the purchase, and for which shopper (a pseudonym)."""

    shopper: str
    rial: int


async def _record(
    session: AsyncSession,
    runtime: NodeRuntime,
    data: PurchaseInput,
    *,
    phone: str | None,
    digest: str,
    actor: str,
    captured: _Captured | None,
) -> PurchaseOutcome:
    """The purchase's write transaction: no network I/O happens in it."""
    # The receipt is checked in the same round trip as the member.
    till = await member_at_till(
        session, phone=phone, card_code=data.card_code, receipt_id=data.receipt_id
    )
    replayed = await _replay_if_seen(session, till, data.receipt_id, digest)
    if replayed is not None:
        return replayed
    version, policy = await current_policy(session, runtime)
    _check_groups(policy, data.lines)
    ledger = Ledger(session, runtime.system_accounts, runtime.clock())
    member, accounts = await _buyer(session, ledger, till, phone, actor, policy)
    enrolled = till.member is None
    before = Standing(0, 0) if enrolled else await standing(session, policy, member.id, ledger.now)
    network_paid = 0 if captured is None else captured.rial
    # The shop's live offers, on the basket as the till sent it: a discount lowers what is
    # charged (the purchase's lines and total), credit and points join what it earns. They
    # are judged at the node's own time, never the till's occurredAt: a till cannot date a
    # purchase into a grant's validity or an offer's hours.
    offered = await offers_at_till(
        session,
        runtime,
        policy,
        None if enrolled else member,
        [(line.group, line.amount_rial) for line in data.lines],
        ledger.now,
        data.credit_to_spend_rial + network_paid,
        lock=True,
    )
    charged = [Line(group, amount) for group, amount in offered.lines]
    _within_charged(data, charged, network_paid)
    legs = await _credit_spend_legs(ledger, accounts, policy, data, charged)
    if captured is not None and captured.shopper != outbox.shopper(runtime.network_key, member):
        # The hub captured for the shopper the read before the capture found; a purchase of
        # anyone else is never recorded with that value.
        raise HoldOfAnotherShopper()
    priced = _price(policy, before, data, network_paid, charged, offered)
    legs += grant_legs(ledger, accounts, "points", priced.points, policy, ledger.now)
    legs += grant_legs(ledger, accounts, "rial", priced.credit_rial, policy, ledger.now)
    # A purchase that earned nothing (a tiny basket) still gets its transaction, so the
    # purchase row always points at one and the history shows the visit.
    recorded = await ledger.record(
        key=f"purchase:{data.receipt_id}",
        reason="purchase",
        reference=f"receipt:{data.receipt_id}",
        member_id=member.id,
        actor=actor,
        legs=legs,
        memo=_purchase_memo(priced),
        allow_empty=True,
    )
    row = _purchase_row(data, digest, member.id, ledger.now, version, priced, actor)
    purchase, lines = await _insert_purchase(session, row, recorded.transaction_id, charged)
    used = await offer_till.record(session, offered, purchase.id, member.id, ledger.now)
    after = recorded.after(accounts)
    events = _purchase_events(runtime.network_key, data, member, enrolled, priced, charged)
    shopper = outbox.shopper(runtime.network_key, member)
    events += [OfferGrantClosed(pseudonym=shopper, grant_id=g, reason="used") for g in used]
    # The balances after the purchase, and the tier counting it (the purchase is written).
    balance = await outbox.balance_now(session, runtime, member, after.points, after.rial)
    events.append(balance)
    await outbox.emit(session, ledger.now, events)
    await notify.after_purchase(
        session,
        runtime,
        policy,
        member,
        receipt=data.receipt_id,
        enrolled=enrolled,
        tier_before=priced.tier.code,
        points=priced.points,
        credit_spent_rial=priced.credit_spent_rial,
        balance=balance,
    )
    return PurchaseOutcome(purchase, lines, member, after.points, after.rial, enrolled, False)


async def _before_capture(
    session: AsyncSession,
    runtime: NodeRuntime,
    data: PurchaseInput,
    phone: str | None,
    digest: str,
) -> PurchaseOutcome | tuple[str, int]:
    """Before the hub takes any value, on a snapshot (no lock): the original outcome of a
    receipt recorded before, or every refusal the purchase's transaction would make — in
    the order it makes them — and else the shopper's pseudonym the capture names and what
    is charged after the offers' discounts. What changes in between (another till
    spending the same credit) is checked again when the purchase is written."""
    seen = await session.scalar(RECEIPT_SEEN, {"receipt_id": data.receipt_id})
    if seen is not None:
        return await _replay(session, await session.get_one(Purchase, seen), digest)
    _version, policy = await current_policy(session, runtime)
    _check_groups(policy, data.lines)
    if phone is not None:
        member = await session.scalar(MEMBER_BY_PHONE, {"phone": phone})
    else:
        member = await session.scalar(MEMBER_BY_CARD, {"card_code": data.card_code})
    if member is not None:
        shopper_phone = member.phone
    elif phone is not None:
        shopper_phone = phone
    else:
        raise MemberNotFound("no member with that card code; record the purchase by phone to enrol")
    offered = await offers_at_till(
        session,
        runtime,
        policy,
        member,
        [(line.group, line.amount_rial) for line in data.lines],
        runtime.clock(),
        data.credit_to_spend_rial,
    )
    charged = [Line(group, amount) for group, amount in offered.lines]
    _within_charged(data, charged, 0)
    if data.credit_to_spend_rial:
        _allowed_credit_spend(policy, data, charged)
        # A shopper enrolled by this purchase can spend the welcome credit it gives.
        available = policy.welcome_credit_rial if policy.open_club else 0
        if member is not None:
            ledger = Ledger(session, runtime.system_accounts, runtime.clock())
            lots = await ledger.open_lots((await member_accounts(session, member.id)).rial_id)
            available = sum(lot.remaining for lot in lots)
        if available < data.credit_to_spend_rial:
            raise InsufficientBalance("credit", available, data.credit_to_spend_rial)
    return pseudonym(runtime.network_key, shopper_phone), sum(x.amount_rial for x in charged)


async def _replay_if_seen(
    session: AsyncSession, till: AtTill, receipt_id: str, digest: str
) -> PurchaseOutcome | None:
    """The original outcome when the receipt was recorded before, else None."""
    seen = till.seen_purchase_id
    # Only when the member is unknown (the receipt may then have come with another phone)
    # is the receipt a query of its own.
    if till.member is None:
        seen = await session.scalar(RECEIPT_SEEN, {"receipt_id": receipt_id})
    if seen is None:
        return None
    return await _replay(session, await session.get_one(Purchase, seen), digest)


def _check_groups(policy: ClubPolicy, lines: Sequence[Line]) -> None:
    unknown = sorted({line.group for line in lines} - policy.group_codes)
    if unknown:
        raise InvalidInput.one(
            "lines", f"unknown product groups {unknown}; known: {sorted(policy.group_codes)}"
        )


async def _buyer(
    session: AsyncSession,
    ledger: Ledger,
    till: AtTill,
    phone: str | None,
    actor: str,
    policy: ClubPolicy,
) -> tuple[Member, MemberAccounts]:
    """The member found at the till, or one enrolled now by phone."""
    if till.member is not None and till.accounts is not None:
        return till.member, till.accounts
    if phone is None:
        raise MemberNotFound("no member with that card code; record the purchase by phone to enrol")
    return await create_member(
        session, ledger, phone=phone, via="purchase", actor=actor, policy=policy, now=ledger.now
    )


async def _credit_spend_legs(
    ledger: Ledger,
    accounts: MemberAccounts,
    policy: ClubPolicy,
    data: PurchaseInput,
    charged: Sequence[Line],
) -> list[Leg]:
    """The member's shop credit paying part of the purchase, soonest-expiring lots first."""
    spend = data.credit_to_spend_rial
    if not spend:
        return []
    _allowed_credit_spend(policy, data, charged)
    lots = await ledger.open_lots(accounts.rial_id)
    legs = [
        Leg(accounts.rial_id, "rial", -take, lot_id=lot_id)
        for lot_id, take in allocate(lots, spend, "credit")
    ]
    legs.append(Leg(ledger.sys("redeemed", "rial"), "rial", spend))
    return legs


def _within_charged(data: PurchaseInput, charged: Sequence[Line], network_paid: int) -> None:
    """Credit and network value pay at most what is charged after the offers' discounts."""
    total = sum(line.amount_rial for line in charged)
    if data.credit_to_spend_rial + network_paid > total:
        raise InvalidInput.one(
            "creditToSpendRial",
            f"the offers' discount leaves {total} Rial to pay: credit and network value "
            "cannot pay more",
        )


def _allowed_credit_spend(policy: ClubPolicy, data: PurchaseInput, charged: Sequence[Line]) -> None:
    total = sum(line.amount_rial for line in charged)
    allowed = total * policy.max_credit_spend_bp // 10_000
    if data.credit_to_spend_rial > allowed:
        raise InvalidInput.one(
            "creditToSpendRial", f"at most {allowed} Rial of this purchase may be paid with credit"
        )


async def _capture_network_value(
    capture: Capture, data: PurchaseInput, hold_id: str, shopper: str, charged_rial: int
) -> int:
    """Rial captured from the shopper's hold at the hub. The capture names the purchase's
    shopper — the hub captures only a hold of that shopper. A failure after this is retried
    with the same receipt, and the hub answers the capture again as a replay."""
    spend = data.credit_to_spend_rial
    paid = await capture(hold_id, data.network_rial, data.receipt_id, charged_rial - spend, shopper)
    if spend + paid > charged_rial:
        raise InvalidInput.one("networkRial", "the hold is worth more than is left to pay")
    return paid


@dataclass(frozen=True)
class _Priced:
    """What a purchase earns, at which tier and visit, and what paid for it."""

    tier: Tier
    visit: int
    credit_spent_rial: int
    network_paid_rial: int
    earning: Earning
    offered: offer_till.Applied

    @property
    def points(self) -> int:
        return self.earning.total_points + self.offered.points

    @property
    def credit_rial(self) -> int:
        return self.earning.total_credit_rial + self.offered.credit_rial


def _price(
    policy: ClubPolicy,
    before: Standing,
    data: PurchaseInput,
    network_paid: int,
    charged: Sequence[Line],
    offered: offer_till.Applied,
) -> _Priced:
    """What the purchase earns at the tier the member's standing before it reached, on
    what is charged (after the offers' discounts), and what the offers add."""
    tier = policy.tier_for(before.metric)
    visit = before.visits + 1
    spend = data.credit_to_spend_rial
    if sum(line.amount_rial for line in charged) > 0:
        earning = compute_earning(
            policy, charged, credit_spent_rial=spend + network_paid, tier=tier, visit_number=visit
        )
    else:  # all of it given by an offer: nothing paid, nothing earned on it
        earning = Earning(0, 0, 0, 0)
    return _Priced(tier, visit, spend, network_paid, earning, offered)


def _purchase_row(
    data: PurchaseInput,
    digest: str,
    member_id: int,
    now: dt.datetime,
    version: int,
    priced: _Priced,
    actor: str,
) -> dict[str, Any]:
    """The purchase's row, but for its ledger transaction."""
    earning = priced.earning
    return {
        "receipt_id": data.receipt_id,
        "request_hash": digest,
        "member_id": member_id,
        "total_rial": data.total_rial - priced.offered.discount_rial,
        "credit_spent_rial": priced.credit_spent_rial,
        "occurred_at": data.occurred_at or now,
        "recorded_at": now,
        "policy_version": version,
        "tier_code": priced.tier.code,
        "visit_number": priced.visit,
        "earned_points": earning.points,
        "earned_credit_rial": earning.credit_rial,
        "frequency_points": earning.frequency_points,
        "frequency_credit_rial": earning.frequency_credit_rial,
        "actor": actor,
        "network_paid_rial": priced.network_paid_rial,
        "network_hold_id": data.network_hold_id,
        "offer_discount_rial": priced.offered.discount_rial,
        "offer_points": priced.offered.points,
        "offer_credit_rial": priced.offered.credit_rial,
    }


async def _insert_purchase(
    session: AsyncSession, row: dict[str, Any], transaction_id: int, lines: Sequence[Line]
) -> tuple[Purchase, list[PurchaseLine]]:
    # Core inserts (no unit-of-work): this is the hottest path of the node.
    row = {**row, "transaction_id": transaction_id}
    conn = await session.connection()
    purchase_id = (await conn.execute(INSERT_PURCHASE, row)).scalar_one()
    line_rows = [
        {
            "purchase_id": purchase_id,
            "line_no": i,
            "product_group": line.group,
            "amount_rial": line.amount_rial,
        }
        for i, line in enumerate(lines)
    ]
    await conn.execute(INSERT_LINES, line_rows)
    return Purchase(id=purchase_id, **row), [PurchaseLine(**line) for line in line_rows]


def _purchase_events(
    key: bytes,
    data: PurchaseInput,
    member: Member,
    enrolled: bool,
    priced: _Priced,
    charged: Sequence[Line],
) -> list[object]:
    """What the hub hears of the purchase: the enrolment, and the purchase (the balance
    event follows it)."""
    events: list[object] = [outbox.enrolled(key, member)] if enrolled else []
    events.append(
        PurchaseRecorded(
            receipt_id=data.receipt_id,
            pseudonym=outbox.shopper(key, member),
            total_rial=sum(x.amount_rial for x in charged),
            credit_spent_rial=priced.credit_spent_rial,
            lines=[EventLine(group=x.group, amount_rial=x.amount_rial) for x in charged],
            visit_number=priced.visit,
            points_earned=priced.points,
            network_paid_rial=priced.network_paid_rial,
            network_hold_id=data.network_hold_id,
        )
    )
    return events


def _purchase_memo(priced: _Priced) -> str:
    tier, earning = priced.tier, priced.earning
    whole, fraction = divmod(tier.multiplier_bp, 10_000)
    factor = f"{whole}.{fraction:04d}".rstrip("0").rstrip(".")
    parts = [
        f"earned {earning.points} points and {earning.credit_rial} Rial credit"
        f" at tier {tier.code} (x{factor})"
    ]
    if priced.credit_spent_rial:
        parts.append(f"paid {priced.credit_spent_rial} Rial with credit")
    freq_points, freq_credit = earning.frequency_points, earning.frequency_credit_rial
    if freq_points or freq_credit:
        parts.append(
            f"punch-card reward on visit {priced.visit}: {freq_points} points,"
            f" {freq_credit} Rial credit"
        )
    if priced.offered.given:
        parts.append(offer_till.memo(priced.offered))
    return "; ".join(parts)


@dataclass(frozen=True)
class RefundInput:
    refund_key: str
    receipt_id: str
    amount_rial: int | None = None  # None: everything still refundable
    reason: str | None = None


@dataclass(frozen=True)
class RefundOutcome:
    refund: Refund
    purchase: Purchase
    member: Member
    points_balance: int
    credit_balance_rial: int
    replayed: bool


def _validate_refund(data: RefundInput) -> str:
    """Checks needing no database; returns the request hash."""
    problems: list[FieldProblem] = []
    _check_key(data.refund_key, "refundId", problems)
    _check_key(data.receipt_id, "receiptId", problems)
    if data.amount_rial is not None:
        _check_amount(data.amount_rial, "amountRial", problems)
    if data.reason is not None and len(data.reason) > 500:
        problems.append(FieldProblem("reason", "at most 500 characters"))
    if problems:
        raise InvalidInput(problems)
    return request_digest(
        {
            "refund": data.refund_key,
            "receipt": data.receipt_id,
            "amount": data.amount_rial,
            "reason": data.reason,
        }
    )


async def refund_purchase(runtime: NodeRuntime, data: RefundInput, actor: str) -> RefundOutcome:
    """Refund part or all of a purchase: what it earned is taken back and what was paid
    with credit given back, in proportion (``shop_node.domain.refunds``)."""
    digest = _validate_refund(data)

    async def work(session: AsyncSession) -> RefundOutcome:
        replayed = await _refund_replay(session, data.refund_key, digest)
        if replayed is not None:
            return replayed
        purchase = await session.scalar(
            select(Purchase).where(Purchase.receipt_id == data.receipt_id)
        )
        if purchase is None:
            raise PurchaseNotFound(f"no purchase with receipt {data.receipt_id!r} in this shop")
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        accounts = await ledger.lock_member(purchase.member_id)
        # Read refunds only under the member lock: two refunds of one purchase serialise.
        so_far = await _refunds_so_far(session, purchase.id)
        share = refund_share(_purchase_value(purchase), so_far.amount_rial, data.amount_rial)
        plan = await _plan(session, ledger, purchase, accounts, share, so_far)
        recorded = await ledger.record(
            key=f"refund:{data.refund_key}",
            reason="refund",
            reference=f"receipt:{purchase.receipt_id}",
            member_id=purchase.member_id,
            actor=actor,
            legs=_refund_legs(ledger, accounts, plan),
            memo=_refund_memo(plan, data.reason),
            reverses_id=purchase.transaction_id,
            allow_empty=True,
        )
        refund = _refund_row(data, digest, purchase.id, plan, recorded.transaction_id, actor)
        refund.created_at = ledger.now
        session.add(refund)
        await session.flush()
        member = await session.get_one(Member, purchase.member_id)
        after = recorded.after(accounts)
        events = _refund_events(runtime.network_key, data.refund_key, purchase, member, plan)
        balance = await outbox.balance_now(session, runtime, member, after.points, after.rial)
        events.append(balance)
        await outbox.emit(session, ledger.now, events)
        _version, policy = await current_policy(session, runtime)
        await notify.after_change(
            session,
            runtime,
            policy,
            member,
            key=f"refund:{data.refund_key}",
            points=after.points - accounts.points,
            credit_rial=after.rial - accounts.rial,
            balance=balance,
        )
        return RefundOutcome(refund, purchase, member, after.points, after.rial, False)

    return await runtime.transaction(work)


async def _refund_replay(
    session: AsyncSession, refund_key: str, digest: str
) -> RefundOutcome | None:
    """The original outcome when the refund was recorded before, else None."""
    existing = await session.scalar(select(Refund).where(Refund.refund_key == refund_key))
    if existing is None:
        return None
    if existing.request_hash != digest:
        raise IdempotencyConflict(
            f"refund {refund_key!r} was already recorded with different content"
        )
    original = await session.get_one(Purchase, existing.purchase_id)
    owner = await session.get_one(Member, original.member_id)
    balances = await member_accounts(session, owner.id)
    return RefundOutcome(existing, original, owner, balances.points, balances.rial, True)


@dataclass(frozen=True)
class _RefundsSoFar:
    amount_rial: int
    lapsed_points: int
    lapsed_credit_rial: int


async def _refunds_so_far(session: AsyncSession, purchase_id: int) -> _RefundsSoFar:
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Refund.amount_rial), 0),
                func.coalesce(func.sum(Refund.lapsed_points), 0),
                func.coalesce(func.sum(Refund.lapsed_credit_rial), 0),
            ).where(Refund.purchase_id == purchase_id)
        )
    ).one()
    amount, points, credit = (int(v or 0) for v in row)
    return _RefundsSoFar(amount, points, credit)


def _purchase_value(purchase: Purchase) -> PurchaseValue:
    return PurchaseValue(
        total_rial=purchase.total_rial,
        earned_points=purchase.earned_points + purchase.frequency_points + purchase.offer_points,
        earned_credit_rial=(
            purchase.earned_credit_rial
            + purchase.frequency_credit_rial
            + purchase.offer_credit_rial
        ),
        credit_spent_rial=purchase.credit_spent_rial,
        network_paid_rial=purchase.network_paid_rial,
    )


async def _plan(
    session: AsyncSession,
    ledger: Ledger,
    purchase: Purchase,
    accounts: MemberAccounts,
    share: RefundShare,
    so_far: _RefundsSoFar,
) -> RefundPlan:
    """Read what the refund arithmetic needs (only what this share touches), and plan."""
    own_lots = frozenset(
        (
            await session.scalars(
                select(Lot.id).where(Lot.transaction_id == purchase.transaction_id)
            )
        ).all()
    )
    expired = await _expired_from(session, own_lots, accounts)

    async def holdings(asset: Asset, wanted: int, lapsed_before: int) -> Holdings:
        lots: list[OpenLot] = []
        if wanted:
            lots = await ledger.open_lots(accounts.account(asset), include_expired=True)
        return Holdings(tuple(lots), own_lots, expired[asset], lapsed_before)

    points = await holdings("points", share.reversed_points, so_far.lapsed_points)
    credit = await holdings("rial", share.reversed_credit_rial, so_far.lapsed_credit_rial)
    spent_from: list[tuple[int, int]] = []
    if share.credit_paid_back_rial:
        spent_from = await _credit_spent_from(session, purchase.transaction_id, accounts.rial_id)
    return plan_refund(share, points, credit, spent_from)


async def _credit_spent_from(
    session: AsyncSession, transaction_id: int, rial_account_id: int
) -> list[tuple[int, int]]:
    """``[(lot id, Rial)]`` the purchase's credit spend took, in posting order."""
    rows = await session.execute(
        select(Posting.lot_id, -Posting.amount)
        .where(
            Posting.transaction_id == transaction_id,
            Posting.account_id == rial_account_id,
            Posting.amount < 0,
        )
        .order_by(Posting.id)
    )
    return [(int(lot or 0), int(amount)) for lot, amount in rows.all()]


def _refund_legs(ledger: Ledger, accounts: MemberAccounts, plan: RefundPlan) -> list[Leg]:
    legs: list[Leg] = []
    takebacks: tuple[tuple[Asset, Takeback], ...] = (("points", plan.points), ("rial", plan.credit))
    for asset, takeback in takebacks:
        account = accounts.account(asset)
        legs += [Leg(account, asset, -take, lot_id=lot_id) for lot_id, take in takeback.taken]
        if takeback.recovered:
            legs.append(Leg(ledger.sys("issued", asset), asset, takeback.recovered))
    # Credit paid that covers earned credit the member had already spent stays spent: it
    # moves from what was redeemed back to what was issued.
    offset = plan.credit_return.offset_rial
    if offset:
        legs += [
            Leg(ledger.sys("redeemed", "rial"), "rial", -offset),
            Leg(ledger.sys("issued", "rial"), "rial", offset),
        ]
    returned = plan.credit_return.returned_rial
    if returned:
        legs += [
            Leg(accounts.rial_id, "rial", back, lot_id=lot_id)
            for lot_id, back in plan.credit_return.returned
        ]
        legs.append(Leg(ledger.sys("redeemed", "rial"), "rial", -returned))
    return legs


def _refund_memo(plan: RefundPlan, reason: str | None) -> str:
    share = plan.share
    network = share.network_returned_rial
    memo = (
        f"refund of {share.amount_rial} Rial: reversed {share.reversed_points} points and"
        f" {share.reversed_credit_rial} Rial earned credit ({plan.points.lapsed} points and"
        f" {plan.credit.lapsed} Rial had expired; could not take back {plan.shortfall_points}"
        f" points, {plan.shortfall_credit_rial} Rial already spent); returned"
        f" {plan.credit_return.returned_rial} Rial of the credit paid"
        + (f"; {network} Rial goes back to network value" if network else "")
    )
    return memo + (f" — {reason}" if reason else "")


def _refund_events(
    key: bytes, refund_key: str, purchase: Purchase, member: Member, plan: RefundPlan
) -> list[object]:
    """What the hub hears of the refund (the member's new balances follow)."""
    share = plan.share
    return [
        PurchaseRefunded(
            receipt_id=purchase.receipt_id,
            refund_id=refund_key,
            pseudonym=outbox.shopper(key, member),
            amount_rial=share.amount_rial,
            purchase_total_rial=purchase.total_rial,
            refunded_before_rial=share.refunded_before_rial,
            network_hold_id=purchase.network_hold_id,
            network_returned_rial=share.network_returned_rial,
        )
    ]


def _refund_row(
    data: RefundInput,
    digest: str,
    purchase_id: int,
    plan: RefundPlan,
    transaction_id: int,
    actor: str,
) -> Refund:
    share = plan.share
    return Refund(
        refund_key=data.refund_key,
        request_hash=digest,
        purchase_id=purchase_id,
        amount_rial=share.amount_rial,
        reason=data.reason,
        reversed_points=share.reversed_points,
        reversed_credit_rial=share.reversed_credit_rial,
        returned_credit_rial=plan.credit_return.returned_rial,
        shortfall_points=plan.shortfall_points,
        shortfall_credit_rial=plan.shortfall_credit_rial,
        lapsed_points=plan.points.lapsed,
        lapsed_credit_rial=plan.credit.lapsed,
        network_returned_rial=share.network_returned_rial,
        transaction_id=transaction_id,
        actor=actor,
    )


async def _expired_from(
    session: AsyncSession, lots: frozenset[int], accounts: MemberAccounts
) -> dict[str, int]:
    """How much of ``lots`` has left the member by expiry, per asset."""
    if not lots:
        return {"points": 0, "rial": 0}
    rows = await session.execute(
        select(Posting.asset, func.coalesce(-func.sum(Posting.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(
            Posting.lot_id.in_(lots),
            Posting.account_id.in_([accounts.points_id, accounts.rial_id]),
            LedgerTransaction.reason == "expiry",
        )
        .group_by(Posting.asset)
    )
    expired = {"points": 0, "rial": 0}
    for asset, amount in rows.all():
        expired[asset] = int(amount)
    return expired


@dataclass(frozen=True)
class CreditQuote:
    member: Member
    available_credit_rial: int
    spendable_rial: int
    points_balance: int
    tier: Tier
    tier_metric: int
    # With the basket's lines: what the shop's live offers give it, and what is charged.
    offered: offer_till.Applied | None = None
    charged_rial: int | None = None


async def quote_credit(
    runtime: NodeRuntime, ref: MemberRef, total_rial: int, lines: Sequence[Line] = ()
) -> CreditQuote:
    """What credit may pay for a purchase of ``total_rial``; with its ``lines``, after the
    offers' discounts (what recordPurchase will charge)."""
    problems: list[FieldProblem] = []
    _check_amount(total_rial, "totalRial", problems)
    for index, line in enumerate(lines):
        _check_amount(line.amount_rial, f"lines[{index}].amountRial", problems)
    if lines and not problems and sum(line.amount_rial for line in lines) != total_rial:
        problems.append(FieldProblem("lines", "line amounts must add up to totalRial"))
    if problems:
        raise InvalidInput(problems)

    async def work(session: AsyncSession) -> CreditQuote:
        member = await find_member(session, ref)
        if member is None:
            raise MemberNotFound("no member with that phone or card code in this shop's club")
        _version, policy = await current_policy(session, runtime)
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        accounts = await member_accounts(session, member.id)
        available = sum(lot.remaining for lot in await ledger.open_lots(accounts.rial_id))
        tier, metric = await current_tier(session, policy, member.id, ledger.now)
        offered, charged = None, total_rial
        if lines:
            _check_groups(policy, lines)
            basket = [(line.group, line.amount_rial) for line in lines]
            offered = await offers_at_till(session, runtime, policy, member, basket, ledger.now, 0)
            charged = sum(amount for _group, amount in offered.lines)
        return CreditQuote(
            member,
            available,
            max_credit_spend(policy, charged, available),
            accounts.points,
            tier,
            metric,
            offered,
            None if offered is None else charged,
        )

    return await runtime.read(work)
