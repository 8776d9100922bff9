"""What the node knows of its members for offers, read from its own tables: each member's
visits here (what was paid net of refunds, the product groups bought), tier, membership
type, tags, birthday, and when they joined. Nothing of it leaves the node.

And the backtest: "had this offer run over the last N days", replayed over the node's own
purchases in time order, each judged on the member's history just before it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop_node.db.models import Member, Purchase, PurchaseLine, Refund
from shop_node.domain.offers.conditions import MemberFacts, Visit, holds
from shop_node.domain.offers.conditions import Purchase as Basket
from shop_node.domain.offers.definition import Offer
from shop_node.domain.offers.rewards import BP_ONE, Candidate, give
from shop_node.domain.policy import ClubPolicy
from shop_node.services.runtime import NodeRuntime
from shop_node.services.tiers import tier_standings

BATCH = 500
YIELD_EVERY = 100  # purchases judged between two turns of the event loop
MAX_BACKTEST_DAYS = 365


@dataclass(frozen=True)
class _Bought:
    id: int
    member_id: int
    at: dt.datetime
    total_rial: int
    net_rial: int
    earned_credit_rial: int
    lines: tuple[tuple[str, int], ...]


async def _purchases(
    session: AsyncSession, member_ids: Sequence[int], until: dt.datetime
) -> dict[int, list[_Bought]]:
    """The members' purchases before ``until``, oldest first, with their lines and what
    of each was refunded."""
    refunded = (
        select(Refund.purchase_id, func.sum(Refund.amount_rial).label("rial"))
        .group_by(Refund.purchase_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Purchase.id,
            Purchase.member_id,
            Purchase.occurred_at,
            Purchase.total_rial,
            func.coalesce(refunded.c.rial, 0),
            Purchase.earned_credit_rial + Purchase.frequency_credit_rial,
        )
        .outerjoin(refunded, refunded.c.purchase_id == Purchase.id)
        .where(Purchase.member_id.in_(member_ids), Purchase.occurred_at < until)
        .order_by(Purchase.occurred_at, Purchase.id)
    )
    found = list(rows)
    lines: dict[int, list[tuple[str, int]]] = defaultdict(list)
    ids = [row[0] for row in found]
    for start in range(0, len(ids), BATCH):
        for purchase_id, group, amount in await session.execute(
            select(PurchaseLine.purchase_id, PurchaseLine.product_group, PurchaseLine.amount_rial)
            .where(PurchaseLine.purchase_id.in_(ids[start : start + BATCH]))
            .order_by(PurchaseLine.purchase_id, PurchaseLine.line_no)
        ):
            lines[purchase_id].append((group, amount))
    out: dict[int, list[_Bought]] = defaultdict(list)
    for pid, member_id, at, total, refunded_rial, credit in found:
        out[member_id].append(
            _Bought(
                pid, member_id, at, total, total - int(refunded_rial), credit, tuple(lines[pid])
            )
        )
    return out


def _visits(bought: Sequence[_Bought]) -> tuple[Visit, ...]:
    """Purchases as visits; one refunded in full was no visit."""
    return tuple(
        Visit(b.at, b.net_rial, frozenset(g for g, _a in b.lines)) for b in bought if b.net_rial > 0
    )


async def member_facts(
    session: AsyncSession, runtime: NodeRuntime, member_ids: Sequence[int], now: dt.datetime
) -> dict[int, MemberFacts]:
    """The facts of each member in ``member_ids`` (at most a batch) as of ``now``."""
    members = {
        m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(member_ids)))
    }
    tiers = await tier_standings(session, runtime, list(members))
    bought = await _purchases(session, list(members), now)
    return {
        member_id: MemberFacts(
            tier=tiers[member_id].current.code,
            membership_type=member.membership_type,
            joined_at=member.joined_at,
            visits=_visits(bought.get(member_id, ())),
            tags=frozenset(member.tags or ()),
            birthday=member.birthday,
        )
        for member_id, member in members.items()
    }


@dataclass(frozen=True)
class Backtest:
    days: int
    purchases_seen: int
    members_reached: int
    purchases_affected: int
    discount_rial: int
    credit_rial: int
    bonus_points: int
    # Over the affected purchases: margin by product group, less the club's credit (as
    # recorded) and what the offer gives — all credit counted as spent.
    margin_left_rial: int
    sales_affected_rial: int


async def backtest(
    session: AsyncSession, runtime: NodeRuntime, policy: ClubPolicy, offer: Offer, days: int
) -> Backtest:
    """Replay the node's purchases of the last ``days`` days as if ``offer`` had run from
    the start of them. A one-time offer is "launched" at that start: its audience is chosen
    on the history before it, and each member uses it once, within ``valid_days``. The
    control group and budgets are left out: this is what the offer would have given."""
    if not 1 <= days <= MAX_BACKTEST_DAYS:
        raise ValueError(f"days must be 1–{MAX_BACKTEST_DAYS}")
    now = runtime.clock()
    start = now - dt.timedelta(days=days)
    active = list(
        await session.scalars(
            select(Purchase.member_id)
            .where(Purchase.occurred_at >= start, Purchase.occurred_at < now)
            .distinct()
        )
    )
    margins = {g.code: g.margin_bp for g in policy.product_groups}
    reached: set[int] = set()
    seen = affected = discount = credit = points = left = sales = 0
    for first in range(0, len(active), BATCH):
        batch = active[first : first + BATCH]
        facts = await member_facts(session, runtime, batch, now)
        history = await _purchases(session, batch, now)
        for member_id in batch:
            bought = history.get(member_id, [])
            base = facts[member_id]
            # The visits before the purchase being judged, grown one purchase at a time
            # (the facts share this list: nothing is rebuilt per purchase).
            visits = list(_visits([b for b in bought if b.at < start]))
            before = _with_visits(base, visits)
            launched = offer.kind == "one_time" and holds(offer.audience, before, start)
            used = False
            for b in (b for b in bought if b.at >= start):
                seen += 1
                if seen % YIELD_EVERY == 0:
                    # Plain Python on the node's event loop: let the tills in between.
                    await asyncio.sleep(0)
                if b.net_rial <= 0 or not b.lines:  # refunded in full: no visit, no offer
                    continue
                before = _with_visits(base, tuple(visits))
                visits.append(Visit(b.at, b.net_rial, frozenset(g for g, _a in b.lines)))
                basket = Basket(b.at, b.lines)
                if offer.kind == "one_time":
                    valid = offer.valid_days or 0
                    applies = (
                        launched
                        and not used
                        and b.at < start + dt.timedelta(days=valid)
                        and holds(offer.when, before, b.at, basket)
                    )
                else:
                    applies = holds(offer.audience, before, b.at) and holds(
                        offer.when, before, b.at, basket
                    )
                if not applies:
                    continue
                given = give([Candidate("backtest", offer)], list(b.lines))
                if not given:
                    continue
                used = True
                reached.add(member_id)
                affected += 1
                sales += b.total_rial
                d = sum(g.discount_rial for g in given)
                c = sum(g.credit_rial for g in given)
                discount, credit = discount + d, credit + c
                points += sum(g.bonus_points for g in given)
                margin = sum(a * margins.get(g, 0) // BP_ONE for g, a in b.lines)
                left += margin - b.earned_credit_rial - d - c
    return Backtest(days, seen, len(reached), affected, discount, credit, points, left, sales)


def _with_visits(facts: MemberFacts, visits: Sequence[Visit]) -> MemberFacts:
    """The member's facts with these visits (tier and tags as now)."""
    return MemberFacts(
        tier=facts.tier,
        membership_type=facts.membership_type,
        joined_at=facts.joined_at,
        visits=visits,
        tags=facts.tags,
        birthday=facts.birthday,
    )
