"""Where members stand in their club's tiers: the metric the club's basis counts, the tier
it reaches and the next one. ``Member.tier`` shows it, and every balance event the node
sends the hub carries it (``outbox.balance_now``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.db import UTCDateTime
from shop_node.db.models import Purchase, Refund
from shop_node.domain.policy import ClubPolicy, Tier
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime


def metric_of(
    policy: ClubPolicy, earned: int, reversed_points: int, spent: int, refunded: int
) -> int:
    """The tier metric under the club's basis: points earned (never the current balance)
    less those refunds reversed, or the rolling 12-month spend less its refunds."""
    return earned - reversed_points if policy.tier_basis == "earned_points" else spent - refunded


def _standings_query() -> Select[Any, Any, Any, Any, Any, Any]:
    """``STANDING`` for many members at once, a row per member who has bought."""
    since = bindparam("since", type_=UTCDateTime())
    theirs = Purchase.member_id.in_(bindparam("member_ids", expanding=True))
    refunded = (
        select(
            Purchase.member_id,
            func.coalesce(func.sum(Refund.reversed_points), 0).label("points"),
            func.coalesce(
                func.sum(Refund.amount_rial).filter(Purchase.occurred_at > since), 0
            ).label("amount"),
        )
        .join(Purchase, Purchase.id == Refund.purchase_id)
        .where(theirs)
        .group_by(Purchase.member_id)
        .subquery()
    )
    bought = (
        select(
            Purchase.member_id,
            func.count(Purchase.id).label("visits"),
            func.sum(Purchase.earned_points + Purchase.frequency_points).label("earned"),
            func.sum(Purchase.total_rial).filter(Purchase.occurred_at > since).label("spent"),
        )
        .where(theirs)
        .group_by(Purchase.member_id)
        .subquery()
    )
    return select(
        bought.c.member_id,
        bought.c.visits,
        bought.c.earned,
        refunded.c.points,
        bought.c.spent,
        refunded.c.amount,
    ).outerjoin(refunded, refunded.c.member_id == bought.c.member_id)


STANDINGS = _standings_query()


@dataclass(frozen=True)
class TierStanding:
    """Where a member stands in the club's tiers, and how far the next one is."""

    current: Tier
    basis: str
    metric: int
    next: Tier | None
    to_next: int | None


async def tier_standings(
    session: AsyncSession, runtime: NodeRuntime, member_ids: Sequence[int]
) -> dict[int, TierStanding]:
    """Many members' tiers under the policy in force, in one query (a page of members)."""
    _version, policy = await current_policy(session, runtime)
    now = runtime.clock()
    rows = await session.execute(
        STANDINGS, {"member_ids": list(member_ids), "since": now - dt.timedelta(days=365)}
    )
    metrics = {
        member_id: metric_of(policy, *(int(v or 0) for v in (earned, points, spent, amount)))
        for member_id, _visits, earned, points, spent, amount in rows
    }
    out = {}
    for member_id in member_ids:
        metric = metrics.get(member_id, 0)  # no purchase yet
        current = policy.tier_for(metric)
        following = policy.next_tier(current)
        out[member_id] = TierStanding(
            current=current,
            basis=policy.tier_basis,
            metric=metric,
            next=following,
            to_next=None if following is None else following.threshold - metric,
        )
    return out
