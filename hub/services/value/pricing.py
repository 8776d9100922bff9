"""What a pooled point is worth (set by mall management) and each shop's versioned
issuance policy.
"""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    IssuancePolicy,
    PointValue,
    Shop,
)
from hub.domain.problems import ProblemCode
from hub.domain.value_rules import (
    IssuanceRules,
)
from hub.services import registry
from hub.services.value.ledger import NetworkValueError
from mallnet.db import utcnow

log = logging.getLogger(__name__)

# Until mall management sets one: 1,000 Rial (100 toman) a pooled point.
DEFAULT_RIAL_PER_POINT = 1_000
# A million toman a point is far beyond any mall; it keeps points × value inside BIGINT.
MAX_RIAL_PER_POINT = 10**7


async def point_value_at(session: AsyncSession, at: dt.datetime) -> int:
    value = await session.scalar(
        select(PointValue.rial_per_point)
        .where(PointValue.effective_from <= at)
        .order_by(PointValue.effective_from.desc(), PointValue.id.desc())
        .limit(1)
    )
    return DEFAULT_RIAL_PER_POINT if value is None else int(value)


async def point_values(session: AsyncSession, first: int = 20) -> list[PointValue]:
    """The newest ``first`` point values, the current one first."""
    rows = await session.scalars(
        select(PointValue).order_by(PointValue.effective_from.desc()).limit(first)
    )
    return list(rows.all())


async def set_point_value(session: AsyncSession, rial_per_point: int, actor: str) -> PointValue:
    if isinstance(rial_per_point, bool) or not 1 <= rial_per_point <= MAX_RIAL_PER_POINT:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT,
            f"between 1 and {MAX_RIAL_PER_POINT} Rial a point",
            "rialPerPoint",
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
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT, f"{where}: {first['msg']}", "policy"
        ) from None


async def set_issuance_policy(
    session: AsyncSession, shop: str, document: object, actor: str
) -> IssuancePolicy:
    rules = parse_rules(document)
    categories = {r.accepted_category for r in rules.credit_rules if r.accepted_category}
    unknown = categories - set(registry.CATEGORIES)
    if unknown:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT,
            f"unknown categories {sorted(unknown)}; known: {registry.CATEGORIES}",
        )
    named = {s for rule in rules.credit_rules for s in rule.accepted_shops}
    known = set((await session.scalars(select(Shop.slug).where(Shop.slug.in_(named)))).all())
    if named - known:
        raise NetworkValueError(
            ProblemCode.INVALID_INPUT, f"unknown shops {sorted(named - known)}", "policy"
        )
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
