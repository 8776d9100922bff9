"""Reading and editing the club policy (insert-only versions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.db import utcnow
from shop_node.db.models import PolicyVersion
from shop_node.domain.policy import DEFAULT_POLICY, STORED, ClubPolicy, parse_policy
from shop_node.services.runtime import NodeRuntime

LATEST_VERSION = select(func.max(PolicyVersion.version))


async def current_policy(session: AsyncSession, runtime: NodeRuntime) -> tuple[int, ClubPolicy]:
    """The policy in force, through the runtime's cache (see ``PolicyCache``)."""
    cache = runtime.policies
    version = cache.fresh_version()
    if version is None:
        found = await session.scalar(LATEST_VERSION)
        if found is None:
            raise LookupError("this node has no club policy: run 'mallnet migrate --shop ...'")
        version = cache.saw_version(found)
    parsed = cache.parsed.get(version)
    if parsed is None:
        document = await session.scalar(
            select(PolicyVersion.document).where(PolicyVersion.version == version)
        )
        # Read as stored: a name from before a rule it breaks still loads (see ``Name``).
        parsed = cache.parsed[version] = ClubPolicy.model_validate(document, context=STORED)
    return version, parsed


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

    result = await runtime.transaction(work)
    runtime.policies.forget_version()
    return result


MAX_VERSIONS_PAGE = 50


@dataclass(frozen=True)
class VersionPage:
    items: list[PolicyVersion]
    total_count: int
    next_before: int | None  # pass as ``before`` for the next (older) page


async def policy_versions(session: AsyncSession, first: int, before: int | None) -> VersionPage:
    """The policy's versions, newest first, ``first`` at a time below version ``before``."""
    query = select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(first + 1)
    if before is not None:
        query = query.where(PolicyVersion.version < before)
    rows = list(await session.scalars(query))
    total = await session.scalar(select(func.count()).select_from(PolicyVersion)) or 0
    page = rows[:first]
    more = len(rows) > first
    return VersionPage(page, total, page[-1].version if more and page else None)
