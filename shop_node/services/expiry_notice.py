"""Telling members before their points or credit expire.

Beat's hourly expiry job (``node.expire_lots``) also runs :func:`notify_soon`: for every
member with points or credit left in lots that expire within ``WARN_DAYS`` days, one
message per Tehran day of expiry, naming what expires that day and the day. The message's
key is the member and that day, so the hourly runs tell her once however often they find
the same lots. It is a service message: it concerns her own balance.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.jalali import tehran_date
from mallnet.messaging.templates import Kind, Values
from shop_node.db.models import Account, Lot, Member, Posting
from shop_node.services import notify
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

WARN_DAYS: Final = 7
# How many lots one run looks at: the next run goes on.
MOST: Final = 5_000


async def notify_soon(runtime: NodeRuntime, *, warn_days: int = WARN_DAYS) -> int:
    """Queue a notice for each member and day on which some of her points or credit
    expire within ``warn_days``; returns how many messages were queued (0 for those told
    already)."""
    now = runtime.clock()
    remaining = func.sum(Posting.amount)
    query = (
        select(Account.member_id, Account.asset, Lot.expires_at, remaining)
        .join(Account, Account.id == Lot.account_id)
        .join(Posting, (Posting.lot_id == Lot.id) & (Posting.account_id == Lot.account_id))
        .where(Lot.expires_at > now, Lot.expires_at <= now + dt.timedelta(days=warn_days))
        .group_by(Lot.id, Account.member_id, Account.asset, Lot.expires_at)
        .having(remaining > 0)
        .order_by(Lot.id)
        .limit(MOST)
    )

    async def work(session: AsyncSession) -> int:
        rows = (await session.execute(query)).all()
        if not rows:
            return 0
        # What expires, per member and Tehran day: points and Rial of credit.
        due: dict[tuple[int, dt.date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for member_id, asset, expires_at, left in rows:
            if member_id is not None and expires_at is not None:
                due[(member_id, tehran_date(expires_at))][asset] += int(left)
        _version, policy = await current_policy(session, runtime)
        members = {
            m.id: m
            for m in await session.scalars(
                select(Member).where(Member.id.in_({member for member, _day in due}))
            )
        }
        queued = 0
        for (member_id, day), amounts in sorted(due.items()):
            values = Values(
                points=amounts.get("points") or None,
                credit_rial=amounts.get("rial") or None,
                date=day,
            )
            queued += await notify.tell(
                session,
                runtime,
                policy,
                members[member_id],
                Kind.EXPIRY_SOON,
                values,
                key=f"expiry-soon:{member_id}:{day.isoformat()}",
            )
        return queued

    return await runtime.transaction(work)
