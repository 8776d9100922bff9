"""Issuing network value as lots (from relayed purchases, campaigns) and taking it back
when the purchase behind it is refunded at its shop (clawbacks, and dues collected when
value returns to a lot).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import PurchaseRefunded
from federation.ids import new_event_id
from hub.db.models import (
    PurchaseRefund,
    PurchaseTotal,
    ValueLot,
)
from hub.domain.problems import ProblemCode
from hub.domain.value_rules import (
    GENERAL,
    POOLED,
    TARGETED,
    Grant,
    IssuanceRules,
    PurchaseFacts,
    issuance,
    unit_of,
)
from hub.services import prepaid
from hub.services.value.ledger import Entry, Leg, NetworkValueError, record, seen, shown_as
from hub.services.value.pricing import DEFAULT_RIAL_PER_POINT, issuance_policy, point_value_at
from mallnet.db import utcnow
from mallnet.values import MAX_RIAL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueInput:
    pseudonym: str
    kind: str
    issuer: str
    amount: int
    expires_at: dt.datetime
    reason: str
    origin: str
    key: str
    rial_per_point: int = 1
    accepted_shops: Sequence[str] = ()
    accepted_category: str | None = None


async def issue(
    session: AsyncSession, data: IssueInput, now: dt.datetime | None = None
) -> ValueLot:
    """Issue a lot (idempotent on ``key``: the same key returns the lot issued before)."""
    now = now or utcnow()
    existing = await session.scalar(select(ValueLot).where(ValueLot.issue_key == data.key))
    if existing is not None:
        return existing
    if not 0 < data.amount <= MAX_RIAL:
        raise NetworkValueError(ProblemCode.INVALID_INPUT, "amount must be positive", "amount")
    unit = unit_of(data.kind)
    funded = False
    if ":" not in data.issuer:  # a shop (a campaign's value is paid for by its sharing rule)
        worth = data.amount * (data.rial_per_point if unit == "point" else 1)
        funded = await prepaid.draw_for_issue(session, data.issuer, worth, data.key)
    lot = ValueLot(
        pseudonym=data.pseudonym,
        kind=data.kind,
        issuer_shop=data.issuer,
        amount=data.amount,
        remaining=0,
        held=0,
        rial_per_point=data.rial_per_point if unit == "point" else 1,
        accepted_shops=sorted(set(data.accepted_shops)),
        accepted_category=data.accepted_category,
        expires_at=data.expires_at,
        reason=data.reason[:200],
        origin=data.origin[:120],
        issue_key=data.key,
        created_at=now,
        prepaid=funded,
    )
    session.add(lot)
    await session.flush()
    await record(
        session,
        Entry(
            kind="issue",
            pseudonym=data.pseudonym,
            key=f"issue:{data.key}",
            reason=data.reason,
            shop=data.issuer,
            **shown_as(lot, data.amount),
        ),
        [
            Leg("issuer", unit, -data.amount, shop=data.issuer),
            Leg("available", unit, data.amount, lot_id=lot.id),
        ],
        now,
    )
    return lot


async def issue_for_purchase(
    session: AsyncSession,
    shop: str,
    event_id: str,
    receipt_id: str,
    pseudonym: str,
    facts: PurchaseFacts,
    occurred_at: dt.datetime,
) -> list[ValueLot]:
    """Issue what the shop's policy in force at the purchase grants (once per event)."""
    policy = await issuance_policy(session, shop, occurred_at)
    if policy is None:
        return []
    rules = IssuanceRules.model_validate(policy.document)
    rate = (
        await point_value_at(session, occurred_at)
        if rules.pooled_share_bp
        else DEFAULT_RIAL_PER_POINT
    )
    bounded = within_purchase(facts, rate)
    if bounded.points_earned < facts.points_earned:
        log.warning(
            "purchase %s at %s: %d points reported, pooled share taken on %d (what %d Rial"
            " paid is worth)",
            receipt_id,
            shop,
            facts.points_earned,
            bounded.points_earned,
            facts.total_rial - facts.paid_with_value_rial,
        )
    grants = issuance(rules, bounded)
    lots = []
    for index, grant in enumerate(grants):
        try:
            lot = await issue(
                session,
                IssueInput(
                    pseudonym=pseudonym,
                    kind=grant.kind,
                    issuer=shop,
                    amount=grant.amount,
                    expires_at=occurred_at + dt.timedelta(days=grant.valid_days),
                    reason=grant_reason(grant, receipt_id, policy.version),
                    origin=purchase_origin(shop, receipt_id),
                    key=f"purchase:{event_id}:{index}",
                    rial_per_point=rate,
                    accepted_shops=grant.accepted_shops,
                    accepted_category=grant.accepted_category,
                ),
            )
        except prepaid.PrepaidExhausted as exc:
            # Recorded as a refused issuance on the shop's prepaid account; the purchase
            # itself stands (it happened at the shop), only its network value is not issued.
            log.warning("purchase %s at %s issued no network value: %s", receipt_id, shop, exc)
            continue
        lots.append(lot)
    return lots


def within_purchase(facts: PurchaseFacts, rial_per_point: int) -> PurchaseFacts:
    """The purchase as the hub issues on it. The points a shop's club awarded are the
    node's own figure (the hub does not know its club's rules): the hub takes them only up
    to what the part paid with money is worth in pooled points at the mall's point value,
    so the pooled share (and a campaign's multiplier of it) is never worth more than the
    shop's registered share of what the purchase actually took in."""
    paid = max(0, facts.total_rial - facts.paid_with_value_rial)
    return replace(facts, points_earned=min(facts.points_earned, paid // rial_per_point))


def purchase_origin(shop: str, receipt_id: str) -> str:
    return f"receipt:{shop}:{receipt_id}"


def grant_reason(grant: Grant, receipt_id: str, version: int) -> str:
    what = {POOLED: "pooled points", GENERAL: "network credit", TARGETED: "targeted credit"}
    return f"{what[grant.kind]} for purchase {receipt_id} ({grant.rule}, policy v{version})"


async def record_purchase_total(
    session: AsyncSession, shop: str, receipt_id: str, total_rial: int, now: dt.datetime
) -> None:
    """The hub's own record of a purchase's total, taken at the intake of its event: what a
    refund's share is computed from. Another purchase event under the same receipt adds its
    total (the value both issued sits under the same origin). Called under the node's
    stream lock, the only writer of its shop's rows."""
    row = await session.get(PurchaseTotal, (shop, receipt_id), with_for_update=True)
    if row is None:
        session.add(
            PurchaseTotal(
                shop=shop,
                receipt=receipt_id,
                total_rial=total_rial,
                refunded_rial=0,
                updated_at=now,
            )
        )
    else:
        row.total_rial += total_rial
        row.updated_at = now
    await session.flush()


async def _count_refund(
    session: AsyncSession, shop: str, refund: PurchaseRefunded, now: dt.datetime
) -> tuple[int, int, int] | None:
    """Count the refund in its purchase's running sum, once per refund id. Returns the
    hub's (total, refunded before, refunded after) of the purchase, or None if this refund
    was counted before. A receipt the hub never received gets a row with no total."""
    if await session.get(PurchaseRefund, (shop, refund.refund_id)) is not None:
        return None
    session.add(
        PurchaseRefund(
            shop=shop,
            refund_id=refund.refund_id,
            receipt=refund.receipt_id,
            amount_rial=refund.amount_rial,
            created_at=now,
        )
    )
    row = await session.get(PurchaseTotal, (shop, refund.receipt_id), with_for_update=True)
    if row is None:
        row = PurchaseTotal(
            shop=shop, receipt=refund.receipt_id, total_rial=0, refunded_rial=0, updated_at=now
        )
        session.add(row)
    before = row.refunded_rial
    row.refunded_rial = before + refund.amount_rial
    row.updated_at = now
    await session.flush()
    what = f"refund {refund.refund_id} of {refund.receipt_id} at {shop}"
    if row.total_rial == 0:
        log.warning(
            "%s: the hub received no total for that purchase; what it issued is all taken back",
            what,
        )
    elif row.refunded_rial > row.total_rial:
        log.warning(
            "%s: %s Rial refunded of %s left of its %s Rial; what it issued is all taken back",
            what,
            f"{refund.amount_rial:,}",
            f"{max(0, row.total_rial - before):,}",
            f"{row.total_rial:,}",
        )
    return row.total_rial, before, row.refunded_rial


def _share(amount: int, refunded: int, total: int) -> int:
    """Of a lot of ``amount``, what refunds of ``refunded`` Rial of a ``total`` take back
    (cumulative, rounded down; all of it once the whole total, or more, is refunded, and
    all of it at the first refund of a purchase with no total)."""
    if refunded <= 0:
        return 0
    if refunded >= total:
        return amount
    return amount * refunded // total


async def clawback_for_refund(
    session: AsyncSession, shop: str, refund: PurchaseRefunded, now: dt.datetime
) -> int:
    """A purchase refunded at its own shop takes back, pro rata, the value it issued. What
    is available goes now; what is held or spent becomes a due, taken as soon as value
    comes back into the lot (a void, an expired hold, a refund where it was spent). Value
    that expired stays expired. Returns what was taken now.

    The share is the hub's own: the purchase's total as its event arrived, and what the
    hub has counted refunded of it before (``record_purchase_total``); the node's
    ``purchase_total_rial`` and ``refunded_before_rial`` are not believed (an inflated
    total would make a full refund take back almost nothing). A refund of a purchase the
    hub never received, or one beyond what is left of it, takes back everything (logged)."""
    if refund.amount_rial <= 0:
        return 0
    counted = await _count_refund(session, shop, refund, now)
    if counted is None:  # this refund was counted before: a replay takes nothing more
        return 0
    total, before, after = counted
    lots = (
        await session.scalars(
            select(ValueLot)
            .where(ValueLot.origin == purchase_origin(shop, refund.receipt_id))
            .order_by(ValueLot.id)
            .with_for_update()
        )
    ).all()
    taken = 0
    for lot in lots:
        key = f"clawback:{shop}:{refund.refund_id}:{lot.id}"
        if await seen(session, key):
            continue
        # Cumulative rounding, as the node's own reversal: all refunds take back it all.
        wanted = _share(lot.amount, after, total) - _share(lot.amount, before, total)
        take = min(wanted, lot.remaining - lot.held)
        lot.clawback_due += wanted - take
        # Recorded even when nothing is available now: the key makes a replay a no-op.
        await _clawback(session, lot, take, key, f"purchase refunded at {shop}", now)
        taken += take
    await session.flush()
    return taken


async def _clawback(
    session: AsyncSession, lot: ValueLot, take: int, key: str, why: str, now: dt.datetime
) -> None:
    unit = unit_of(lot.kind)
    await record(
        session,
        Entry(
            kind="clawback",
            pseudonym=lot.pseudonym,
            key=key,
            reason=f"{why}: its {lot.kind.replace('_', ' ')} taken back",
            shop=lot.issuer_shop,
            **shown_as(lot, take),
        ),
        [
            Leg("available", unit, -take, lot_id=lot.id),
            Leg("issuer", unit, take, shop=lot.issuer_shop),
        ]
        if take
        else [],
        now,
    )
    if take and lot.prepaid:  # what the issuer paid for in advance goes back to it
        worth = take * lot.rial_per_point
        await prepaid.give_back(session, lot.issuer_shop, "clawback", worth, key, why)


async def collect_dues(
    session: AsyncSession, touched: Sequence[ValueLot], now: dt.datetime
) -> None:
    """Value came back into these lots (their rows as ``record`` just returned them,
    under its row lock): take what their issuers are still owed."""
    lots = sorted(
        {lot.id: lot for lot in touched if lot.clawback_due > 0}.values(), key=lambda x: x.id
    )
    for lot in lots:
        take = min(lot.clawback_due, lot.remaining - lot.held)
        if take > 0:
            lot.clawback_due -= take
            key = f"clawback-due:{lot.id}:{new_event_id()}"
            await _clawback(session, lot, take, key, "owed since its purchase was refunded", now)
    await session.flush()
