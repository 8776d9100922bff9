"""Prepaid funding: each shop's balance with the shared fund.

A shop pays in (a deposit mall finance records); issuing network value draws on it at
issuance; value taken back from a refunded purchase, and (by policy) its expired value,
return to it. Every change is an insert-only ``prepaid_movements`` row with an idempotency
key; ``prepaid_accounts`` caches the sum, moved by the same statement that checks it, so two
issuances at once can never both spend the last of a balance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import PrepaidAccount, PrepaidMovement, Shop
from hub.domain.problems import ProblemCode
from hub.services import settlement_policy
from hub.services.settlement_policy import SettlementError
from mallnet.db import utcnow
from mallnet.values import MAX_RIAL

ACCOUNTS: Table = PrepaidAccount.__table__  # type: ignore[assignment]


class PrepaidExhausted(SettlementError):
    pass


@dataclass(frozen=True)
class Drawn:
    balance_rial: int
    flagged: bool


async def _seen(session: AsyncSession, key: str) -> PrepaidMovement | None:
    return await session.scalar(
        select(PrepaidMovement).where(PrepaidMovement.idempotency_key == key)
    )


async def _ensure_account(session: AsyncSession, shop: str, now: dt.datetime) -> None:
    conn = await session.connection()
    dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(
        dialect(ACCOUNTS)
        .values(shop=shop, balance_rial=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["shop"])
    )


async def _move(
    session: AsyncSession,
    shop: str,
    kind: str,
    amount: int,
    key: str,
    reason: str,
    *,
    floor: int | None = None,
    requested: int | None = None,
) -> int | None:
    """Move the balance by ``amount`` (refused, returning None, if it would end below
    ``floor``) and record the movement; returns the new balance."""
    now = utcnow()
    await _ensure_account(session, shop, now)
    query = update(ACCOUNTS).where(ACCOUNTS.c.shop == shop)
    if floor is not None:
        query = query.where(ACCOUNTS.c.balance_rial + amount >= floor)
    conn = await session.connection()
    balance = (
        await conn.execute(
            query.values(balance_rial=ACCOUNTS.c.balance_rial + amount, updated_at=now).returning(
                ACCOUNTS.c.balance_rial
            )
        )
    ).scalar_one_or_none()
    if balance is None:
        return None
    session.add(
        PrepaidMovement(
            shop=shop,
            kind=kind,
            amount_rial=amount,
            requested_rial=abs(amount) if requested is None else requested,
            flagged=kind == "issue" and balance < 0,
            reason=reason[:300],
            idempotency_key=key,
            created_at=now,
        )
    )
    await session.flush()
    return int(balance)


async def deposit(
    session: AsyncSession, shop: str, amount_rial: int, reference: str, actor: str
) -> PrepaidMovement:
    """Record money a shop paid into the fund (idempotent on its bank reference)."""
    if isinstance(amount_rial, bool) or not 0 < amount_rial <= MAX_RIAL:
        raise SettlementError(ProblemCode.INVALID_INPUT, "a positive amount in Rial", "amountRial")
    if not 1 <= len(reference) <= 120:
        raise SettlementError(
            ProblemCode.INVALID_INPUT, "the payment's reference (1-120 chars)", "reference"
        )
    if await session.scalar(select(Shop.id).where(Shop.slug == shop)) is None:
        raise SettlementError(ProblemCode.NOT_FOUND, f"no shop {shop!r}", "shop")
    key = f"deposit:{shop}:{reference}"
    seen = await _seen(session, key)
    if seen is not None:
        if seen.amount_rial != amount_rial:
            raise SettlementError(
                ProblemCode.IDEMPOTENCY_CONFLICT, "this reference was recorded with another amount"
            )
        return seen
    await _move(session, shop, "deposit", amount_rial, key, f"deposit {reference} by {actor}")
    found = await _seen(session, key)
    assert found is not None
    return found


async def draw_for_issue(session: AsyncSession, shop: str, value_rial: int, key: str) -> bool:
    """Under prepaid funding, value a shop issues is paid from its balance: refused when
    the balance cannot cover it, or issued and flagged (by policy: the shortfall is a top-up
    to pay at the next close). Returns whether the value was paid for in advance; under
    postpaid funding it is not."""
    _version, policy = await settlement_policy.current(session)
    if policy.funding != "prepaid" or value_rial <= 0:
        return False
    key = f"issue:{key}"
    if await _seen(session, key) is not None:
        return True
    floor = 0 if policy.when_prepaid_exhausted == "refuse" else None
    reason = f"network value issued ({key})"
    if await _move(session, shop, "issue", -value_rial, key, reason, floor=floor) is None:
        refused = f"refused:{key}"  # its own key: a later attempt may find money there
        if await _seen(session, refused) is None:
            await _move(session, shop, "refused", 0, refused, reason, requested=value_rial)
        raise PrepaidExhausted(
            ProblemCode.PREPAID_EXHAUSTED,
            f"{shop}'s prepaid balance cannot cover {value_rial} Rial of network value",
        )
    return True


async def give_back(
    session: AsyncSession, shop: str, kind: str, value_rial: int, key: str, reason: str
) -> None:
    """Value paid for in advance that returns to its issuer's balance (a clawback, its
    breakage, its own value spent at its own shop); negative: drawn again (such a spend
    refunded). Once per key."""
    if value_rial == 0 or await _seen(session, key) is not None:
        return
    await _move(session, shop, kind, value_rial, key, reason)


async def balances(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(PrepaidAccount.shop, PrepaidAccount.balance_rial))
    return {shop: int(balance) for shop, balance in rows.all()}


async def movements(session: AsyncSession, shop: str, limit: int = 100) -> list[PrepaidMovement]:
    rows = await session.scalars(
        select(PrepaidMovement)
        .where(PrepaidMovement.shop == shop)
        .order_by(PrepaidMovement.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def verify(session: AsyncSession) -> list[str]:
    """Every cached balance equals the sum of its movements."""
    sums = dict(
        (
            await session.execute(
                select(PrepaidMovement.shop, func.sum(PrepaidMovement.amount_rial)).group_by(
                    PrepaidMovement.shop
                )
            )
        ).all()
    )
    return [
        f"prepaid {shop}: cached {balance}, movements {int(sums.get(shop) or 0)}"
        for shop, balance in (await balances(session)).items()
        if balance != int(sums.get(shop) or 0)
    ]
