"""Reading and editing the club policy (insert-only versions)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.db import utcnow
from shop_node.domain.policy import DEFAULT_POLICY, ClubPolicy, parse_policy
from shop_node.models import PolicyVersion
from shop_node.runtime import NodeRuntime

# Parsed policies by version: a version never changes once written, so this never goes
# stale; only the "which version is current" question goes to the database each time.
_parsed: dict[tuple[str, int], ClubPolicy] = {}


async def current_policy(session: AsyncSession, shop: str) -> tuple[int, ClubPolicy]:
    version = await session.scalar(select(func.max(PolicyVersion.version)))
    if version is None:
        raise LookupError("this node has no club policy yet: run 'mallnet migrate --shop ...'")
    key = (shop, version)
    if key not in _parsed:
        document = await session.scalar(
            select(PolicyVersion.document).where(PolicyVersion.version == version)
        )
        _parsed[key] = ClubPolicy.model_validate(document)
    return version, _parsed[key]


async def ensure_policy(session: AsyncSession, actor: str = "system") -> int:
    """Give a new node the default policy (version 1); leave an existing one alone."""
    version = await session.scalar(select(func.max(PolicyVersion.version)))
    if version is not None:
        return version
    session.add(
        PolicyVersion(
            version=1,
            document=DEFAULT_POLICY.model_dump(mode="json"),
            created_at=utcnow(),
            created_by=actor,
        )
    )
    await session.flush()
    return 1


async def update_policy(
    runtime: NodeRuntime, document: dict[str, Any], actor: str
) -> tuple[int, ClubPolicy]:
    policy = parse_policy(document)

    async def work(session: AsyncSession) -> tuple[int, ClubPolicy]:
        latest = await session.scalar(select(func.max(PolicyVersion.version))) or 0
        session.add(
            PolicyVersion(
                version=latest + 1,
                document=policy.model_dump(mode="json"),
                created_at=runtime.clock(),
                created_by=actor,
            )
        )
        await session.flush()
        return latest + 1, policy

    return await runtime.transaction(work)
