"""The network's settlement policy as the hub stores it: versioned, set by mall finance."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SettlementPolicyVersion, Shop
from hub.domain.problems import HubError, ProblemCode
from mallnet.db import utcnow
from settlement.policy import InvalidPolicy, SettlementPolicy, parse_policy


class SettlementError(HubError):
    """An expected failure of a settlement use case (nothing was written)."""


async def current(session: AsyncSession) -> tuple[int, SettlementPolicy]:
    """The policy in force (version 0: the defaults, before mall finance set one)."""
    row = await session.scalar(
        select(SettlementPolicyVersion).order_by(SettlementPolicyVersion.version.desc()).limit(1)
    )
    if row is None:
        return 0, SettlementPolicy()
    return row.version, SettlementPolicy.model_validate(row.document)


async def set_policy(
    session: AsyncSession, document: object, actor: str
) -> SettlementPolicyVersion:
    try:
        policy = parse_policy(document)
    except InvalidPolicy as exc:
        raise SettlementError(ProblemCode.INVALID_INPUT, str(exc), "policy") from None
    named = {s for a in policy.agreements for s in (a.issuer, a.redeemer) if s}
    named |= {s for c in policy.cost_sharing for s in c.shops}
    known = set((await session.scalars(select(Shop.slug).where(Shop.slug.in_(named)))).all())
    if named - known:
        raise SettlementError(
            ProblemCode.INVALID_INPUT, f"unknown shops {sorted(named - known)}", "policy"
        )
    last = await session.scalar(select(func.max(SettlementPolicyVersion.version)))
    row = SettlementPolicyVersion(
        version=(last or 0) + 1,
        document=policy.model_dump(mode="json"),
        set_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def history(session: AsyncSession) -> list[SettlementPolicyVersion]:
    rows = await session.scalars(
        select(SettlementPolicyVersion).order_by(SettlementPolicyVersion.version.desc())
    )
    return list(rows.all())
