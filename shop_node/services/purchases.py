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
from federation.envelope import PurchaseRecorded, PurchaseRefunded
from federation.ids import EVENT_ID
from mallnet.db import UTCDateTime
from mallnet.digest import request_digest
from shop_node.db.models import (
    LedgerTransaction,
    Lot,
    Member,
    Posting,
    Purchase,
    PurchaseLine,
    Refund,
)
from shop_node.domain.earning import Line, compute_earning, max_credit_spend, proportional_share
from shop_node.domain.errors import (
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    MemberNotFound,
    NetworkValueUnavailable,
    PurchaseNotFound,
    RefundExceedsPurchase,
)
from shop_node.domain.lots import allocate, spending_order
from shop_node.domain.policy import ClubPolicy, Tier
from shop_node.services import outbox
from shop_node.services.ledger import Ledger, Leg, MemberAccounts, member_accounts
from shop_node.services.members import (
    MemberRef,
    create_member,
    find_member,
    grant_legs,
    member_at_till,
    phone_or_problem,
    valid_card_code,
)
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

PURCHASES: Table = Purchase.__table__  # type: ignore[assignment]
PURCHASE_LINES: Table = PurchaseLine.__table__  # type: ignore[assignment]
MAX_RIAL = 10**15  # a trillion toman: far above any purchase, far below BIGINT
MAX_LINES = 200
KEY_PATTERN_HELP = "1-64 visible ASCII characters"


def _check_key(value: str, field_name: str, problems: list[FieldProblem]) -> None:
    if not (
        1 <= len(value) <= 64 and value.isascii() and value.isprintable() and value.strip() == value
    ):
        problems.append(FieldProblem(field_name, KEY_PATTERN_HELP))


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


# Captures a hold at the hub: (hold id, Rial or None for all, receipt, at most this) ->
# Rial captured. Raises NetworkValueUnavailable when the hub was not reached,
# NetworkValueUncertain when it may have been, NetworkValueRefused when it said no.
Capture = Callable[[str, int | None, str, int], Awaitable[int]]


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
    metric = (
        earned - reversed_points if policy.tier_basis == "earned_points" else spent - refunded_rial
    )
    return Standing(visits, metric)


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
    phone, digest = _validate_purchase(data)
    if data.network_hold_id is not None and capture is None:
        raise NetworkValueUnavailable("this node is not connected to the hub")

    async def work(session: AsyncSession) -> PurchaseOutcome:
        # The receipt is checked in the same round trip as the member; only when the
        # member is unknown (the receipt may then come with another phone) is it a query
        # of its own.
        till = await member_at_till(
            session, phone=phone, card_code=data.card_code, receipt_id=data.receipt_id
        )
        seen = till.seen_purchase_id
        if till.member is None:
            seen = await session.scalar(RECEIPT_SEEN, {"receipt_id": data.receipt_id})
        if seen is not None:
            return await _replay(session, await session.get_one(Purchase, seen), digest)
        version, policy = await current_policy(session, runtime)
        unknown = sorted({line.group for line in data.lines} - policy.group_codes)
        if unknown:
            raise InvalidInput.one(
                "lines", f"unknown product groups {unknown}; known: {sorted(policy.group_codes)}"
            )
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        now = ledger.now
        enrolled = till.member is None
        if till.member is None or till.accounts is None:
            if phone is None:
                raise MemberNotFound(
                    "no member with that card code; record the purchase by phone to enrol"
                )
            member, accounts = await create_member(
                session, ledger, phone=phone, via="purchase", actor=actor, policy=policy, now=now
            )
        else:
            member, accounts = till.member, till.accounts
        before = Standing(0, 0) if enrolled else await standing(session, policy, member.id, now)
        tier = policy.tier_for(before.metric)
        visit = before.visits + 1
        legs: list[Leg] = []
        spend = data.credit_to_spend_rial
        if spend:
            allowed = data.total_rial * policy.max_credit_spend_bp // 10_000
            if spend > allowed:
                raise InvalidInput.one(
                    "creditToSpendRial",
                    f"at most {allowed} Rial of this purchase may be paid with credit",
                )
            lots = await ledger.open_lots(accounts.rial_id)
            for lot_id, take in allocate(lots, spend, "credit"):
                legs.append(Leg(accounts.rial_id, "rial", -take, lot_id=lot_id))
            legs.append(Leg(ledger.sys("redeemed", "rial"), "rial", spend))
        network_paid = 0
        if data.network_hold_id is not None and capture is not None:
            # Last, once everything local is known to be right: the hub takes the value
            # only for a purchase this transaction will record (a failure after this
            # point is retried with the same receipt, and the hub answers the capture
            # again as a replay).
            left = data.total_rial - spend
            network_paid = await capture(
                data.network_hold_id, data.network_rial, data.receipt_id, left
            )
            if spend + network_paid > data.total_rial:
                raise InvalidInput.one("networkRial", "the hold is worth more than is left to pay")
        earning = compute_earning(
            policy,
            data.lines,
            credit_spent_rial=spend + network_paid,
            tier=tier,
            visit_number=visit,
        )
        legs += grant_legs(ledger, accounts, "points", earning.total_points, policy, now)
        legs += grant_legs(ledger, accounts, "rial", earning.total_credit_rial, policy, now)
        memo = _purchase_memo(
            tier,
            earning.points,
            earning.credit_rial,
            spend,
            earning.frequency_points,
            earning.frequency_credit_rial,
            visit,
        )
        # A purchase that earned nothing (a tiny basket) still gets its transaction, so
        # the purchase row always points at one and the history shows the visit.
        recorded = await ledger.record(
            key=f"purchase:{data.receipt_id}",
            reason="purchase",
            reference=f"receipt:{data.receipt_id}",
            member_id=member.id,
            actor=actor,
            legs=legs,
            memo=memo,
            allow_empty=True,
        )
        row = {
            "receipt_id": data.receipt_id,
            "request_hash": digest,
            "member_id": member.id,
            "total_rial": data.total_rial,
            "credit_spent_rial": spend,
            "occurred_at": data.occurred_at or now,
            "recorded_at": now,
            "policy_version": version,
            "tier_code": tier.code,
            "visit_number": visit,
            "earned_points": earning.points,
            "earned_credit_rial": earning.credit_rial,
            "frequency_points": earning.frequency_points,
            "frequency_credit_rial": earning.frequency_credit_rial,
            "transaction_id": recorded.transaction_id,
            "actor": actor,
            "network_paid_rial": network_paid,
            "network_hold_id": data.network_hold_id,
        }
        # Core inserts (no unit-of-work): this is the hottest path of the node.
        conn = await session.connection()
        purchase_id = (await conn.execute(INSERT_PURCHASE, row)).scalar_one()
        lines = [
            {
                "purchase_id": purchase_id,
                "line_no": i,
                "product_group": line.group,
                "amount_rial": line.amount_rial,
            }
            for i, line in enumerate(data.lines)
        ]
        await conn.execute(INSERT_LINES, lines)
        after = recorded.after(accounts)
        key = runtime.network_key
        events: list[object] = []
        if enrolled:
            events.append(outbox.enrolled(key, member))
        events.append(
            PurchaseRecorded(
                receipt_id=data.receipt_id,
                pseudonym=outbox.shopper(key, member),
                total_rial=data.total_rial,
                credit_spent_rial=spend,
                lines=[EventLine(group=x.group, amount_rial=x.amount_rial) for x in data.lines],
                visit_number=visit,
                points_earned=earning.total_points,
                network_paid_rial=network_paid,
                network_hold_id=data.network_hold_id,
            )
        )
        events.append(outbox.balance(key, member, after.points, after.rial))
        await outbox.emit(session, now, events)
        return PurchaseOutcome(
            Purchase(id=purchase_id, **row),
            [PurchaseLine(**line) for line in lines],
            member,
            after.points,
            after.rial,
            enrolled,
            False,
        )

    return await runtime.transaction(work)


def _purchase_memo(
    tier: Tier, points: int, credit: int, spent: int, freq_points: int, freq_credit: int, visit: int
) -> str:
    whole, fraction = divmod(tier.multiplier_bp, 10_000)
    factor = f"{whole}.{fraction:04d}".rstrip("0").rstrip(".")
    parts = [f"earned {points} points and {credit} Rial credit at tier {tier.code} (x{factor})"]
    if spent:
        parts.append(f"paid {spent} Rial with credit")
    if freq_points or freq_credit:
        parts.append(
            f"punch-card reward on visit {visit}: {freq_points} points, {freq_credit} Rial credit"
        )
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


def window(parts: Sequence[tuple[int, int]], start: int, length: int) -> list[tuple[int, int]]:
    """The slice ``[start, start + length)`` of amounts laid end to end, per part id."""
    out: list[tuple[int, int]] = []
    offset = 0
    for part_id, amount in parts:
        lo, hi = max(start, offset), min(start + length, offset + amount)
        if hi > lo:
            out.append((part_id, hi - lo))
        offset += amount
    return out


async def refund_purchase(runtime: NodeRuntime, data: RefundInput, actor: str) -> RefundOutcome:
    problems: list[FieldProblem] = []
    _check_key(data.refund_key, "refundId", problems)
    _check_key(data.receipt_id, "receiptId", problems)
    if data.amount_rial is not None:
        _check_amount(data.amount_rial, "amountRial", problems)
    if data.reason is not None and len(data.reason) > 500:
        problems.append(FieldProblem("reason", "at most 500 characters"))
    if problems:
        raise InvalidInput(problems)
    digest = request_digest(
        {
            "refund": data.refund_key,
            "receipt": data.receipt_id,
            "amount": data.amount_rial,
            "reason": data.reason,
        }
    )

    async def work(session: AsyncSession) -> RefundOutcome:
        existing = await session.scalar(select(Refund).where(Refund.refund_key == data.refund_key))
        if existing is not None:
            if existing.request_hash != digest:
                raise IdempotencyConflict(
                    f"refund {data.refund_key!r} was already recorded with different content"
                )
            original = await session.get_one(Purchase, existing.purchase_id)
            owner = await session.get_one(Member, original.member_id)
            balances = await member_accounts(session, owner.id)
            return RefundOutcome(existing, original, owner, balances.points, balances.rial, True)
        purchase = await session.scalar(
            select(Purchase).where(Purchase.receipt_id == data.receipt_id)
        )
        if purchase is None:
            raise PurchaseNotFound(f"no purchase with receipt {data.receipt_id!r} in this shop")
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        accounts = await ledger.lock_member(purchase.member_id)
        # Read refunds only under the member lock: two refunds of one purchase serialise.
        before = int(
            await session.scalar(
                select(func.coalesce(func.sum(Refund.amount_rial), 0)).where(
                    Refund.purchase_id == purchase.id
                )
            )
            or 0
        )
        refundable = purchase.total_rial - before
        amount = refundable if data.amount_rial is None else data.amount_rial
        if refundable == 0 or amount > refundable:
            raise RefundExceedsPurchase(refundable, amount)
        total = purchase.total_rial
        rev_points = proportional_share(
            purchase.earned_points + purchase.frequency_points, total, before, amount
        )
        rev_credit = proportional_share(
            purchase.earned_credit_rial + purchase.frequency_credit_rial, total, before, amount
        )
        ret_credit = proportional_share(purchase.credit_spent_rial, total, before, amount)
        # The hub returns this much to the network value the purchase was paid with.
        ret_network = proportional_share(purchase.network_paid_rial, total, before, amount)
        own_lots = set(
            (
                await session.scalars(
                    select(Lot.id).where(Lot.transaction_id == purchase.transaction_id)
                )
            ).all()
        )
        lapsed_before = await session.execute(
            select(
                func.coalesce(func.sum(Refund.lapsed_points), 0),
                func.coalesce(func.sum(Refund.lapsed_credit_rial), 0),
            ).where(Refund.purchase_id == purchase.id)
        )
        lapsed_used = dict(
            zip(("points", "rial"), (int(v) for v in lapsed_before.one()), strict=True)
        )
        expired_own = await _expired_from(session, own_lots, accounts)
        legs: list[Leg] = []
        shortfall = {"points": 0, "rial": 0}
        lapsed = {"points": 0, "rial": 0}
        for asset, wanted in (("points", rev_points), ("rial", rev_credit)):
            if not wanted:
                continue
            # What this purchase granted and has since expired already left the member:
            # taking it back again would charge them twice.
            lapsed[asset] = max(0, min(wanted, expired_own[asset] - lapsed_used[asset]))
            wanted -= lapsed[asset]
            if not wanted:
                continue
            account = accounts.account(asset)  # type: ignore[arg-type]
            open_ = await ledger.open_lots(account, include_expired=True)
            # Take back from the lots this purchase granted first, then soonest-expiring.
            lots = [lot for lot in open_ if lot.lot_id in own_lots] + spending_order(
                [lot for lot in open_ if lot.lot_id not in own_lots]
            )
            recoverable = min(wanted, sum(lot.remaining for lot in lots))
            shortfall[asset] = wanted - recoverable
            if recoverable:
                taken = allocate(lots, recoverable, asset, keep_order=True)
                legs += [Leg(account, asset, -take, lot_id=lot_id) for lot_id, take in taken]  # type: ignore[arg-type]
                legs.append(Leg(ledger.sys("issued", asset), asset, recoverable))  # type: ignore[arg-type]
        # Credit the member paid with comes back, less any earned credit they had already
        # spent and so could not give back.
        offset = min(shortfall["rial"], ret_credit)
        shortfall["rial"] -= offset
        returned = ret_credit - offset
        if offset:
            legs += [
                Leg(ledger.sys("redeemed", "rial"), "rial", -offset),
                Leg(ledger.sys("issued", "rial"), "rial", offset),
            ]
        if returned:
            spent = (
                await session.execute(
                    select(Posting.lot_id, -Posting.amount)
                    .where(
                        Posting.transaction_id == purchase.transaction_id,
                        Posting.account_id == accounts.rial_id,
                        Posting.amount < 0,
                    )
                    .order_by(Posting.id)
                )
            ).all()
            returned_before = purchase.credit_spent_rial * before // total
            for lot_id, back in window(
                [(int(lot or 0), int(a)) for lot, a in spent], returned_before, returned
            ):
                legs.append(Leg(accounts.rial_id, "rial", back, lot_id=lot_id))
            legs.append(Leg(ledger.sys("redeemed", "rial"), "rial", -returned))
        memo = (
            f"refund of {amount} Rial: reversed {rev_points} points and {rev_credit} Rial"
            f" earned credit ({lapsed['points']} points and {lapsed['rial']} Rial had expired;"
            f" could not take back {shortfall['points']} points, {shortfall['rial']} Rial"
            f" already spent); returned {returned} Rial of the credit paid"
            + (f"; {ret_network} Rial goes back to network value" if ret_network else "")
        )
        recorded = await ledger.record(
            key=f"refund:{data.refund_key}",
            reason="refund",
            reference=f"receipt:{purchase.receipt_id}",
            member_id=purchase.member_id,
            actor=actor,
            legs=legs,
            memo=memo + (f" — {data.reason}" if data.reason else ""),
            reverses_id=purchase.transaction_id,
            allow_empty=True,
        )
        refund = Refund(
            refund_key=data.refund_key,
            request_hash=digest,
            purchase_id=purchase.id,
            amount_rial=amount,
            reason=data.reason,
            reversed_points=rev_points,
            reversed_credit_rial=rev_credit,
            returned_credit_rial=returned,
            shortfall_points=shortfall["points"],
            shortfall_credit_rial=shortfall["rial"],
            lapsed_points=lapsed["points"],
            lapsed_credit_rial=lapsed["rial"],
            network_returned_rial=ret_network,
            transaction_id=recorded.transaction_id,
            created_at=ledger.now,
            actor=actor,
        )
        session.add(refund)
        await session.flush()
        member = await session.get_one(Member, purchase.member_id)
        after = recorded.after(accounts)
        key = runtime.network_key
        await outbox.emit(
            session,
            ledger.now,
            [
                PurchaseRefunded(
                    receipt_id=purchase.receipt_id,
                    refund_id=data.refund_key,
                    pseudonym=outbox.shopper(key, member),
                    amount_rial=amount,
                    purchase_total_rial=total,
                    refunded_before_rial=before,
                    network_hold_id=purchase.network_hold_id,
                    network_returned_rial=ret_network,
                ),
                outbox.balance(key, member, after.points, after.rial),
            ],
        )
        return RefundOutcome(refund, purchase, member, after.points, after.rial, False)

    return await runtime.transaction(work)


async def _expired_from(
    session: AsyncSession, lots: set[int], accounts: MemberAccounts
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


async def quote_credit(runtime: NodeRuntime, ref: MemberRef, total_rial: int) -> CreditQuote:
    problems: list[FieldProblem] = []
    _check_amount(total_rial, "totalRial", problems)
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
        return CreditQuote(
            member,
            available,
            max_credit_spend(policy, total_rial, available),
            accounts.points,
            tier,
            metric,
        )

    return await runtime.read(work)
