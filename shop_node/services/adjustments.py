"""Manual adjustments by a shop manager, and the expiry of lots that ran out of time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.digest import request_digest
from mallnet.values import KEY_HELP, MAX_RIAL, is_idempotency_key
from shop_node.db.models import Account, LedgerTransaction, Lot, Member, Posting
from shop_node.domain.errors import FieldProblem, IdempotencyConflict, InvalidInput
from shop_node.domain.lots import allocate
from shop_node.services import notify, outbox
from shop_node.services.ledger import Asset, Ledger, Leg, member_accounts
from shop_node.services.members import MemberRef, get_member, grant_legs
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime


@dataclass(frozen=True)
class AdjustmentInput:
    member: MemberRef
    asset: Literal["points", "rial"]
    amount: int  # signed: positive grants, negative takes away
    reason: str
    idempotency_key: str


@dataclass(frozen=True)
class AdjustmentOutcome:
    transaction_id: int
    member: Member
    points_balance: int
    credit_balance_rial: int
    replayed: bool


async def adjust_balance(
    runtime: NodeRuntime, data: AdjustmentInput, actor: str
) -> AdjustmentOutcome:
    problems: list[FieldProblem] = []
    reason = " ".join(data.reason.split())
    if not 3 <= len(reason) <= 500:
        problems.append(FieldProblem("reason", "say why, in 3-500 characters"))
    if isinstance(data.amount, bool) or not isinstance(data.amount, int) or data.amount == 0:
        problems.append(FieldProblem("amount", "a non-zero integer"))
    elif abs(data.amount) > MAX_RIAL:
        problems.append(FieldProblem("amount", "too large"))
    key = data.idempotency_key
    if not is_idempotency_key(key):
        problems.append(FieldProblem("idempotencyKey", KEY_HELP))
    if data.asset not in ("points", "rial"):
        problems.append(FieldProblem("asset", "points or rial"))
    if problems:
        raise InvalidInput(problems)

    async def work(session: AsyncSession) -> AdjustmentOutcome:
        member = await get_member(session, data.member)
        digest = request_digest(
            {"member": member.id, "asset": data.asset, "amount": data.amount, "reason": reason}
        )
        done = await session.scalar(
            select(LedgerTransaction).where(LedgerTransaction.idempotency_key == f"adjust:{key}")
        )
        if done is not None:
            if done.member_id != member.id or done.request_hash != digest:
                raise IdempotencyConflict(f"adjustment {key!r} was already used for another change")
            balances = await member_accounts(session, member.id)
            return AdjustmentOutcome(done.id, member, balances.points, balances.rial, True)
        ledger = Ledger(session, runtime.system_accounts, runtime.clock())
        accounts = await ledger.lock_member(member.id)
        _version, policy = await current_policy(session, runtime)
        asset = data.asset
        if data.amount > 0:
            legs = grant_legs(
                ledger, accounts, asset, data.amount, policy, ledger.now, "adjustment"
            )
        else:
            lots = await ledger.open_lots(accounts.account(asset))
            legs = [
                Leg(accounts.account(asset), asset, -take, lot_id=lot_id)
                for lot_id, take in allocate(lots, -data.amount, asset)
            ]
            legs.append(Leg(ledger.sys("adjustment", asset), asset, -data.amount))
        recorded = await ledger.record(
            key=f"adjust:{key}",
            reason="adjustment",
            reference=f"member:{member.card_code}",
            member_id=member.id,
            actor=actor,
            legs=legs,
            # The staff member's own words: the legs say what moved.
            memo=reason,
            request_hash=digest,
        )
        after = recorded.after(accounts)
        balance = await outbox.balance_now(session, runtime, member, after.points, after.rial)
        await outbox.emit(session, ledger.now, [balance])
        await notify.after_change(
            session,
            runtime,
            policy,
            member,
            key=f"adjust:{key}",
            points=after.points - accounts.points,
            credit_rial=after.rial - accounts.rial,
            balance=balance,
        )
        return AdjustmentOutcome(recorded.transaction_id, member, after.points, after.rial, False)

    return await runtime.transaction(work)


async def expire_due(runtime: NodeRuntime, *, limit: int = 500) -> int:
    """Expire what is left of lots past their expiry; returns how many lots expired.

    Idempotent: each expiry's key names the lot and its last posting, so a rerun (or a
    second worker) finds nothing left to do, while value returned to an expired lot later
    (a refund) expires on the next run under a new key.
    """
    now = runtime.clock()

    async def due(session: AsyncSession) -> list[tuple[int, int]]:
        remaining = func.sum(Posting.amount)
        query = (
            select(Lot.id, Account.member_id)
            .join(Account, Account.id == Lot.account_id)
            .join(Posting, (Posting.lot_id == Lot.id) & (Posting.account_id == Lot.account_id))
            .where(Lot.expires_at <= now)
            .group_by(Lot.id, Account.member_id)
            .having(remaining > 0)
            .order_by(Lot.id)
            .limit(limit)
        )
        return [(lot, member or 0) for lot, member in (await session.execute(query)).all()]

    expired = 0
    for lot_id, member_id in await runtime.read(due):

        async def expire(
            session: AsyncSession, lot_id: int = lot_id, member_id: int = member_id
        ) -> int:
            ledger = Ledger(session, runtime.system_accounts, now)
            accounts = await ledger.lock_member(member_id)
            lot = await session.get_one(Lot, lot_id)
            left, last = (
                await session.execute(
                    select(func.coalesce(func.sum(Posting.amount), 0), func.max(Posting.id)).where(
                        Posting.lot_id == lot_id, Posting.account_id == lot.account_id
                    )
                )
            ).one()
            if left <= 0:
                return 0
            stored = await session.scalar(select(Account.asset).where(Account.id == lot.account_id))
            asset: Asset = "points" if stored == "points" else "rial"
            recorded = await ledger.record(
                key=f"expiry:{lot_id}:{last}",
                reason="expiry",
                reference=f"lot:{lot_id}",
                member_id=member_id,
                actor="system:expiry",
                legs=[
                    Leg(lot.account_id, asset, -left, lot_id=lot_id),
                    Leg(ledger.sys("expired", asset), asset, left),
                ],
                memo=f"{left} {'points' if asset == 'points' else 'Rial credit'} expired",
            )
            member = await session.get_one(Member, member_id)
            after = recorded.after(accounts)
            balance = await outbox.balance_now(session, runtime, member, after.points, after.rial)
            await outbox.emit(session, now, [balance])
            return 1

        expired += await runtime.transaction(expire)
    return expired
