"""Reads of the shops each shopper belongs to (written by the intake of node events)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Membership


async def memberships_of(session: AsyncSession, identities: Sequence[str]) -> dict[str, list[str]]:
    """The shops of many shoppers in one statement (a page of shoppers), in joining order."""
    found: dict[str, list[str]] = {identity: [] for identity in identities}
    rows = await session.execute(
        select(Membership.pseudonym, Membership.shop)
        .where(Membership.pseudonym.in_(found))
        .order_by(Membership.pseudonym, Membership.joined_at)
    )
    for identity, shop in rows:
        found[identity].append(shop)
    return found
