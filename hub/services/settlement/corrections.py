"""Corrections: a closed period is never edited; mall finance posts a correction, and the
next close books it as a journal entry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SettlementCorrection, SettlementEntry, Shop
from hub.domain.problems import ProblemCode
from hub.services.settlement_policy import SettlementError
from mallnet.db import utcnow
from mallnet.digest import request_digest
from mallnet.values import MAX_RIAL


@dataclass(frozen=True)
class CorrectionInput:
    party: str  # a shop's slug, or "mall"
    amount_rial: int  # + the fund owes the party more; - the party owes the fund more
    reason: str
    idempotency_key: str
    corrects_entry_id: int | None = None


async def post_correction(
    session: AsyncSession, data: CorrectionInput, actor: str
) -> tuple[SettlementCorrection, bool]:
    """Record a correction for the next close to book (a closed period is never edited).
    Idempotent on the key: the same request again is answered with the first; another
    request under the same key is a conflict. Returns (the correction, replayed)."""
    digest = request_digest(
        {
            "party": data.party,
            "amount": data.amount_rial,
            "reason": data.reason,
            "corrects": data.corrects_entry_id,
        }
    )
    seen = await session.scalar(
        select(SettlementCorrection).where(
            SettlementCorrection.idempotency_key == data.idempotency_key
        )
    )
    if seen is not None:
        if seen.request_hash != digest:
            raise SettlementError(
                ProblemCode.IDEMPOTENCY_CONFLICT,
                "this key was used for another correction",
                "idempotencyKey",
            )
        return seen, True
    if not 1 <= len(data.idempotency_key) <= 120:
        raise SettlementError(ProblemCode.INVALID_INPUT, "1 to 120 characters", "idempotencyKey")
    if not data.reason.strip() or len(data.reason) > 300:
        raise SettlementError(
            ProblemCode.INVALID_INPUT, "say why, in at most 300 characters", "reason"
        )
    amount = data.amount_rial
    if isinstance(amount, bool) or amount == 0 or abs(amount) > MAX_RIAL:
        raise SettlementError(ProblemCode.INVALID_INPUT, "a non-zero amount in Rial", "amountRial")
    if data.party != "mall" and (
        await session.scalar(select(Shop.id).where(Shop.slug == data.party)) is None
    ):
        raise SettlementError(ProblemCode.NOT_FOUND, f"no shop {data.party!r}", "party")
    if data.corrects_entry_id is not None and (
        await session.get(SettlementEntry, data.corrects_entry_id) is None
    ):
        raise SettlementError(
            ProblemCode.NOT_FOUND, f"no journal entry {data.corrects_entry_id}", "correctsEntryId"
        )
    row = SettlementCorrection(
        party=data.party,
        amount_rial=amount,
        reason=data.reason.strip(),
        corrects_entry_id=data.corrects_entry_id,
        idempotency_key=data.idempotency_key,
        request_hash=digest,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row, False


async def booked(session: AsyncSession, period_id: int) -> list[SettlementCorrection]:
    rows = await session.scalars(
        select(SettlementCorrection)
        .join(SettlementEntry, SettlementEntry.correction_id == SettlementCorrection.id)
        .where(SettlementEntry.period_id == period_id)
        .order_by(SettlementCorrection.id)
    )
    return list(rows.all())
