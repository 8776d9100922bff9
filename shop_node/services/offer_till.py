"""Offers at the till: which of the shop's live offers hold for this member and basket (the
permanent offers whose conditions hold, and her one-time grants whose purchase condition
holds), within each offer's caps and budget, and what they give by the stated stacking
rule (``shop_node.domain.offers.rewards``). Read in the purchase's own transaction, so
what is given is what the books say; nothing here writes but ``record``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop_node.db.models import Member, Offer, OfferGrant, OfferReward
from shop_node.domain.offers.conditions import MemberFacts, holds
from shop_node.domain.offers.conditions import Purchase as Basket
from shop_node.domain.offers.definition import Offer as OfferDocument
from shop_node.domain.offers.rewards import Candidate, Given, apply
from shop_node.domain.policy import ClubPolicy
from shop_node.services.offer_facts import member_facts
from shop_node.services.runtime import NodeRuntime


@dataclass(frozen=True)
class Applied:
    """What the offers give at one purchase, and the basket as charged after discounts."""

    given: list[Given] = field(default_factory=list)
    lines: list[tuple[str, int]] = field(default_factory=list)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (fa, en)

    @property
    def discount_rial(self) -> int:
        return sum(g.discount_rial for g in self.given)

    @property
    def credit_rial(self) -> int:
        return sum(g.credit_rial for g in self.given)

    @property
    def points(self) -> int:
        return sum(g.bonus_points for g in self.given)


async def offers_at_till(
    session: AsyncSession,
    runtime: NodeRuntime,
    policy: ClubPolicy,
    member: Member | None,
    lines: Sequence[tuple[str, int]],
    now: dt.datetime,
    credit_spent_rial: int,
    *,
    lock: bool = False,
) -> Applied:
    """What the shop's live offers give ``member`` (None: a shopper this purchase enrols)
    for ``lines`` at ``now``, ``credit_spent_rial`` of it paid with credit or network
    value. No live offer: nothing is read beyond one small query. ``lock`` (the purchase's
    write, not a preview's read) holds the capped offers until the purchase commits."""
    live = list(await session.scalars(select(Offer).where(Offer.status == "active")))
    if not live:
        return Applied(lines=list(lines))
    documents = {row.id: OfferDocument.model_validate(row.document) for row in live}
    grants = []
    if member is not None:
        open_grants = select(OfferGrant).where(
            OfferGrant.member_id == member.id,
            OfferGrant.control.is_(False),
            OfferGrant.closed_at.is_(None),
            OfferGrant.used_purchase_id.is_(None),
            OfferGrant.expires_at > now,
            OfferGrant.offer_id.in_(list(documents)),
        )
        # A purchase holds the grants it may use: an offer stopped meanwhile waits for it.
        found = await session.scalars(open_grants.with_for_update() if lock else open_grants)
        grants = list(found)
    facts = await _facts(session, runtime, policy, member, now)
    basket = Basket(now, tuple(lines))
    candidates: list[Candidate] = []
    for grant in grants:
        offer = documents[grant.offer_id]
        if holds(offer.when, facts, now, basket):
            key = grant.expires_at.isoformat()
            candidates.append(Candidate(grant.offer_id, offer, grant.id, key))
    for offer_id, offer in documents.items():
        if offer.kind == "permanent" and (
            holds(offer.audience, facts, now) and holds(offer.when, facts, now, basket)
        ):
            candidates.append(Candidate(offer_id, offer))
    if not candidates:
        return Applied(lines=list(lines))
    candidates, budgets = await _within_caps(session, candidates, member, lock=lock)
    result = apply(candidates, lines, credit_spent_rial=credit_spent_rial, budget_left=budgets)
    names = {c.offer_id: (c.offer.name_fa, c.offer.name_en) for c in candidates}
    return Applied(result.given, result.lines, names)


async def _facts(
    session: AsyncSession,
    runtime: NodeRuntime,
    policy: ClubPolicy,
    member: Member | None,
    now: dt.datetime,
) -> MemberFacts:
    if member is None:
        return MemberFacts(tier=policy.tiers[0].code, membership_type="individual", joined_at=now)
    return (await member_facts(session, runtime, [member.id], now))[member.id]


async def _within_caps(
    session: AsyncSession, candidates: list[Candidate], member: Member | None, *, lock: bool
) -> tuple[list[Candidate], dict[str, int | None]]:
    """The candidates whose per-member and total uses are not used up, and what is left
    of each one's budget (None: no budget)."""
    ids = [c.offer_id for c in candidates]
    # Two tills giving the same offer at once must not both spend the last of its budget or
    # uses: the offers with such caps are locked until this purchase commits (a member's own
    # purchases are already serialised by the ledger's member lock).
    capped = [
        c.offer_id
        for c in candidates
        if c.offer.caps.total_uses is not None or c.offer.caps.budget_rial is not None
    ]
    if capped and lock:
        await session.execute(
            select(Offer.id).where(Offer.id.in_(capped)).order_by(Offer.id).with_for_update()
        )
    totals = {
        offer_id: (int(uses), int(rial))
        for offer_id, uses, rial in await session.execute(
            select(
                OfferReward.offer_id,
                func.count(OfferReward.id),
                func.coalesce(func.sum(OfferReward.discount_rial + OfferReward.credit_rial), 0),
            )
            .where(OfferReward.offer_id.in_(ids))
            .group_by(OfferReward.offer_id)
        )
    }
    mine: dict[str, int] = {}
    if member is not None:
        mine = {
            offer_id: int(uses)
            for offer_id, uses in await session.execute(
                select(OfferReward.offer_id, func.count(OfferReward.id))
                .where(OfferReward.offer_id.in_(ids), OfferReward.member_id == member.id)
                .group_by(OfferReward.offer_id)
            )
        }
    kept: list[Candidate] = []
    budgets: dict[str, int | None] = {}
    for candidate in candidates:
        caps = candidate.offer.caps
        uses, given = totals.get(candidate.offer_id, (0, 0))
        if caps.total_uses is not None and uses >= caps.total_uses:
            continue
        if caps.per_member is not None and mine.get(candidate.offer_id, 0) >= caps.per_member:
            continue
        left = None if caps.budget_rial is None else max(0, caps.budget_rial - given)
        if left == 0:
            continue
        kept.append(candidate)
        budgets[candidate.offer_id] = left
    return kept, budgets


async def record(
    session: AsyncSession, applied: Applied, purchase_id: int, member_id: int, now: dt.datetime
) -> list[str]:
    """What each offer gave at the purchase, and its one-time grant used; the grants used."""
    used: list[str] = []
    for given in applied.given:
        session.add(
            OfferReward(
                offer_id=given.offer_id,
                grant_id=given.grant,
                purchase_id=purchase_id,
                member_id=member_id,
                discount_rial=given.discount_rial,
                credit_rial=given.credit_rial,
                bonus_points=given.bonus_points,
                created_at=now,
            )
        )
        if given.grant is not None:
            used.append(given.grant)
            await session.execute(
                update(OfferGrant)
                .where(OfferGrant.id == given.grant, OfferGrant.closed_at.is_(None))
                .values(used_purchase_id=purchase_id, closed_at=now, closed_reason="used")
            )
    await session.flush()
    return used


def memo(applied: Applied) -> str:
    """The ledger memo's part naming each offer and what it gave."""
    parts = []
    for given in applied.given:
        _fa, en = applied.names.get(given.offer_id, ("", given.offer_id))
        parts.append(
            f"offer {given.offer_id} ({en}): {given.discount_rial} Rial off, "
            f"{given.credit_rial} Rial credit, {given.bonus_points} points"
        )
    return "; ".join(parts)


@dataclass(frozen=True)
class GivenAt:
    """What one offer gave at a recorded purchase, with the offer's names."""

    offer_id: str
    name_fa: str
    name_en: str
    discount_rial: int
    credit_rial: int
    bonus_points: int


async def rewards_by_purchase(
    session: AsyncSession, purchase_ids: Sequence[int]
) -> dict[int, list[GivenAt]]:
    """What offers gave at each purchase (an empty list where none did)."""
    out: dict[int, list[GivenAt]] = {pid: [] for pid in purchase_ids}
    rows = await session.execute(
        select(OfferReward, Offer.document)
        .join(Offer, Offer.id == OfferReward.offer_id)
        .where(OfferReward.purchase_id.in_(list(purchase_ids)))
        .order_by(OfferReward.id)
    )
    for reward, document in rows:
        out[reward.purchase_id].append(
            GivenAt(
                reward.offer_id,
                str(document.get("name_fa", "")),
                str(document.get("name_en", "")),
                reward.discount_rial,
                reward.credit_rial,
                reward.bonus_points,
            )
        )
    return out


def given_now(applied: Applied) -> list[GivenAt]:
    """What ``applied`` gives, as a recorded purchase's rewards read (for a preview)."""
    return [
        GivenAt(
            g.offer_id,
            *applied.names.get(g.offer_id, ("", "")),
            g.discount_rial,
            g.credit_rial,
            g.bonus_points,
        )
        for g in applied.given
    ]
