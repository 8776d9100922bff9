"""The hub's intake of node events: each event has one effect however often it arrives.

An event id seen before with the same content is a duplicate (acknowledged, nothing
applied); with other content it is a conflict (recorded, reported, nothing applied).
Batches may arrive out of order: the stream records how far it is contiguous and which
sequence numbers are still missing.

The hub checks what a node claims before it applies anything: a phone must hash to the
pseudonym it is reported for, and a purchase's lines must add up to its total. A batch
holding an event that does not check out is refused whole (``INVALID_BATCH``, naming the
event): the node's relay halves the batch until that event is alone and sets it aside
with the hub's reason, and the rest of its stream goes through. What a refund takes back
of the value its purchase issued is the hub's own share: the purchase's total as the hub
received it, and the refunds of it the hub has counted, not the node's figures.

Two nodes' batches may meet the same new shopper at the same moment: shoppers,
memberships and local balances are written with upserts (never looked up, then
inserted), so both intakes succeed the first time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import (
    BalanceChanged,
    Envelope,
    MemberConsentChanged,
    MemberEnrolled,
    PurchaseRecorded,
    PurchaseRefunded,
)
from hub.db.models import (
    FederationConflict,
    FederationEvent,
    LocalBalance,
    Membership,
    NodeStream,
    PurchaseRefund,
    PurchaseTotal,
    Shopper,
)
from hub.domain.intake_rules import RefusedEvent, verify
from hub.services import campaigns, consents, lotteries, offer_intake, partnerships, sales, value
from mallnet.db import utcnow

log = logging.getLogger(__name__)
MAX_GAPS_REPORTED = 50
# How far past the contiguous point one request looks: bounded work per batch even after
# a permanent gap.
SEQ_WINDOW = 2_000

SHOPPERS: Table = Shopper.__table__  # type: ignore[assignment]
MEMBERSHIPS: Table = Membership.__table__  # type: ignore[assignment]
BALANCES: Table = LocalBalance.__table__  # type: ignore[assignment]


@dataclass
class IngestReport:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Accepted (the stream goes on) but not applied: a balance or an offer's grant for a
    # shopper who is no member of the reporting shop, or what closes an unknown offer.
    ignored: list[str] = field(default_factory=list)
    contiguous_seq: int = 0
    highest_seq: int = 0
    gaps: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Backlog:
    """What the node reported of its outbox when it sent the batch."""

    pending_events: int = 0
    oldest_pending_s: int = 0


async def ingest(
    session: AsyncSession,
    node: str,
    envelopes: list[Envelope],
    backlog: Backlog | None = None,
    *,
    key: bytes,
) -> IngestReport:
    """Apply a node's batch (already parsed and checked to come from ``node``); ``key`` is
    the network key, to check each reported phone against its pseudonym. Raises
    ``RefusedEvent`` (before writing anything) if an event's claim does not check out."""
    for envelope in envelopes:
        verify(envelope, key)
    now = utcnow()
    report = IngestReport()
    stream = await _stream_of(session, node, now)
    known, taken = await _seen(session, node, envelopes)
    fresh = [e for e in envelopes if e.event_id not in known and e.seq not in taken]
    await _ensure_shoppers(session, fresh, now)
    await value.lock_holds(session, node, _holds_named(fresh))
    for envelope in sorted(envelopes, key=lambda e: e.seq):
        digest = envelope.digest()
        if envelope.event_id in known:
            target = report.duplicates if known[envelope.event_id] == digest else report.conflicts
            target.append(envelope.event_id)
            if target is report.conflicts:
                await _conflict(session, envelope, digest, now)
            continue
        if envelope.seq in taken:  # another event already holds this sequence number
            report.conflicts.append(envelope.event_id)
            await _conflict(session, envelope, digest, now)
            continue
        session.add(
            FederationEvent(
                event_id=envelope.event_id,
                node=node,
                seq=envelope.seq,
                type=envelope.type.value,
                digest=digest,
                occurred_at=envelope.occurred_at,
                received_at=now,
            )
        )
        known[envelope.event_id] = digest
        taken.add(envelope.seq)
        if not await _apply(session, node, envelope, now):
            report.ignored.append(envelope.event_id)
        report.accepted.append(envelope.event_id)
    await session.flush()
    if report.ignored:
        log.warning(
            "%d event(s) from %s for shoppers who are not its members (or offers it never"
            " reported), not applied: %s",
            len(report.ignored),
            node,
            ", ".join(report.ignored[:10]),
        )
    stream.events += len(report.accepted)
    stream.highest_seq = max([stream.highest_seq, *taken])
    stream.last_contact_at = now
    if backlog is not None:
        stream.pending_events = backlog.pending_events
        stream.oldest_pending_s = backlog.oldest_pending_s
    await _advance(session, stream)
    report.contiguous_seq = stream.contiguous_seq
    report.highest_seq = stream.highest_seq
    report.gaps = await _gaps(session, stream)
    return report


async def _stream_of(session: AsyncSession, node: str, now: dt.datetime) -> NodeStream:
    """The node's stream, locked: one batch of a node is applied at a time."""
    stream = await session.get(NodeStream, node, with_for_update=True)
    if stream is None:
        stream = NodeStream(
            node=node, contiguous_seq=0, highest_seq=0, events=0, last_contact_at=now
        )
        session.add(stream)
        await session.flush()
    return stream


async def _seen(
    session: AsyncSession, node: str, envelopes: list[Envelope]
) -> tuple[dict[str, str], set[int]]:
    """Of this batch: the events already received (id -> digest), and the node's sequence
    numbers already taken."""
    ids = [e.event_id for e in envelopes]
    known = dict(
        (
            await session.execute(
                select(FederationEvent.event_id, FederationEvent.digest).where(
                    FederationEvent.event_id.in_(ids)
                )
            )
        ).all()
    )
    taken = set(
        (
            await session.scalars(
                select(FederationEvent.seq).where(
                    FederationEvent.node == node,
                    FederationEvent.seq.in_([e.seq for e in envelopes]),
                )
            )
        ).all()
    )
    return known, taken


async def _conflict(
    session: AsyncSession, envelope: Envelope, digest: str, now: dt.datetime
) -> None:
    """Record a conflict once per content (a node resending it adds nothing)."""
    seen = await session.scalar(
        select(FederationConflict.id).where(
            FederationConflict.event_id == envelope.event_id, FederationConflict.digest == digest
        )
    )
    if seen is None:
        session.add(
            FederationConflict(
                event_id=envelope.event_id,
                node=envelope.node,
                seq=envelope.seq,
                digest=digest,
                received_at=now,
            )
        )


async def _advance(session: AsyncSession, stream: NodeStream) -> None:
    seqs = (
        await session.scalars(
            select(FederationEvent.seq)
            .where(FederationEvent.node == stream.node, FederationEvent.seq > stream.contiguous_seq)
            .order_by(FederationEvent.seq)
            .limit(SEQ_WINDOW)
        )
    ).all()
    for seq in seqs:
        if seq != stream.contiguous_seq + 1:
            break
        stream.contiguous_seq = seq


async def _gaps(session: AsyncSession, stream: NodeStream) -> list[int]:
    if stream.highest_seq <= stream.contiguous_seq:
        return []
    present = set(
        (
            await session.scalars(
                select(FederationEvent.seq).where(
                    FederationEvent.node == stream.node,
                    FederationEvent.seq > stream.contiguous_seq,
                )
            )
        ).all()
    )
    missing = (
        seq for seq in range(stream.contiguous_seq + 1, stream.highest_seq) if seq not in present
    )
    return [seq for _, seq in zip(range(MAX_GAPS_REPORTED), missing, strict=False)]


async def _apply(session: AsyncSession, node: str, envelope: Envelope, now: dt.datetime) -> bool:
    """Apply one event; False if it was accepted but had no effect (see ``_balance``,
    ``offer_intake``)."""
    payload = envelope.typed()
    if isinstance(payload, PurchaseRecorded):
        await _purchase(session, node, envelope, payload, now)
    elif isinstance(payload, PurchaseRefunded):
        await _refund(session, node, envelope, payload, now)
    elif isinstance(payload, MemberEnrolled | MemberConsentChanged):
        membership = await _member_of(session, payload.pseudonym, node, envelope.occurred_at)
        await consents.report(session, membership, envelope.seq, payload)
    elif isinstance(payload, BalanceChanged):
        return await _balance(session, node, envelope.seq, payload, now)
    elif isinstance(payload, offer_intake.EVENTS):
        return await offer_intake.apply(session, node, envelope, payload, now)
    return True


async def _purchase(
    session: AsyncSession,
    node: str,
    envelope: Envelope,
    payload: PurchaseRecorded,
    now: dt.datetime,
) -> None:
    """A purchase: the capture it names reconciled, the shopper's membership, the shop's
    sales, a partner referral, network value issued, campaign rewards and lottery
    tickets. One event per receipt: another would dilute every refund's share of what
    the first issued (the node records a receipt once)."""
    if await session.get(PurchaseTotal, (node, payload.receipt_id)) is not None:
        raise RefusedEvent(envelope, f"receipt {payload.receipt_id} was already recorded")
    claim = value.PurchaseClaim(
        shop=node,
        event_id=envelope.event_id,
        receipt_id=payload.receipt_id,
        pseudonym=payload.pseudonym,
        hold_id=payload.network_hold_id,
        paid_rial=payload.network_paid_rial,
    )
    await value.match_purchase(session, claim, now)
    # The hub's own figure a refund of this receipt takes its share by (not the node's).
    await value.record_purchase_total(session, node, payload.receipt_id, payload.total_rial, now)
    await _member_of(session, payload.pseudonym, node, envelope.occurred_at)
    await sales.record(session, node, envelope.occurred_at, payload.total_rial, 1)
    await partnerships.refer(session, node, envelope.event_id, payload, envelope.occurred_at)
    paid_with_value = payload.credit_spent_rial + payload.network_paid_rial
    issued = await value.issue_for_purchase(
        session,
        node,
        envelope.event_id,
        payload.receipt_id,
        payload.pseudonym,
        value.PurchaseFacts(
            total_rial=payload.total_rial,
            paid_with_value_rial=paid_with_value,
            points_earned=payload.points_earned,
            lines=[(line.group, line.amount_rial) for line in payload.lines],
        ),
        envelope.occurred_at,
    )
    purchase = campaigns.Purchase(
        shop=node,
        event_id=envelope.event_id,
        receipt=payload.receipt_id,
        pseudonym=payload.pseudonym,
        total_rial=payload.total_rial,
        at=envelope.occurred_at,
        issued=issued,
        paid_with_value_rial=paid_with_value,
    )
    await campaigns.apply_purchase(session, purchase)
    await lotteries.enter_purchase(
        session,
        node,
        envelope.event_id,
        payload.receipt_id,
        payload.pseudonym,
        payload.total_rial,
        envelope.occurred_at,
    )


async def _refund(
    session: AsyncSession,
    node: str,
    envelope: Envelope,
    payload: PurchaseRefunded,
    now: dt.datetime,
) -> None:
    """A refund: sales and tickets taken back, value issued for the purchase clawed back
    (its share by the hub's own record of the purchase's total and of what was refunded
    of it before, never by the node's figures), network value spent on it returned to the
    shopper."""
    if await session.get(PurchaseRefund, (node, payload.refund_id)) is not None:
        # A replay of this very event never gets here (its id is known); another event
        # under a used refund id would refund again while taking nothing more back.
        raise RefusedEvent(envelope, f"refund id {payload.refund_id} was already used")
    await value.lock_for_refund(session, node, payload.receipt_id, payload.network_hold_id)
    await sales.record(session, node, envelope.occurred_at, -payload.amount_rial, 0)
    await lotteries.refund_purchase(session, node, payload.receipt_id, payload.amount_rial)
    await value.clawback_for_refund(session, node, payload, now)
    if payload.network_hold_id is None or payload.network_returned_rial <= 0:
        return
    try:
        await value.refund(
            session,
            node,
            payload.network_hold_id,
            payload.network_returned_rial,
            f"{node}:{payload.refund_id}",
            now,
        )
    except value.NetworkValueError as exc:
        # Not a hold this node captured: retrying cannot help, and one bad event must not
        # hold up the stream. Kept in the log for the operators.
        log.warning("refund %s from %s not applied: %s", payload.refund_id, node, exc)


async def _balance(
    session: AsyncSession, node: str, seq: int, payload: BalanceChanged, now: dt.datetime
) -> bool:
    """The shopper's points and credit at the node, as of the node's latest report: one
    upsert (an older report arriving late changes nothing). Only for a member of the node's
    club (its enrolment or a purchase came first in its stream): a shop puts no balance,
    nor a tier in its own words, into the wallet of a shopper who never joined it. Such a
    report is ignored (False), not refused: refusing would hold up the node's stream."""
    if await session.get(Membership, (payload.pseudonym, node)) is None:
        return False
    conn = await session.connection()
    reported = {
        "points": payload.points,
        "credit_rial": payload.credit_rial,
        "as_of_seq": seq,
        "updated_at": now,
        # The tier as reported, or none (an older node's report clears an old tier).
        **{name: getattr(payload, name) for name in _TIER_COLUMNS},
    }
    stmt = _insert(conn.dialect.name, BALANCES).values(
        pseudonym=payload.pseudonym, shop=node, **reported
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["pseudonym", "shop"],
            set_={name: stmt.excluded[name] for name in reported},
            where=BALANCES.c.as_of_seq < stmt.excluded.as_of_seq,
        )
    )
    return True


_TIER_COLUMNS = (
    "tier_code",
    "tier_name_fa",
    "tier_name_en",
    "tier_basis",
    "tier_metric",
    "next_tier_name_fa",
    "next_tier_name_en",
    "next_tier_threshold",
)


def _insert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def _holds_named(envelopes: Sequence[Envelope]) -> list[str]:
    """The holds the batch's purchases and refunds name: locked up front, in ascending id,
    before any event locks lots (docs/ARCHITECTURE.md "Locks")."""
    named: set[str] = set()
    for envelope in envelopes:
        payload = envelope.typed()
        if isinstance(payload, PurchaseRecorded | PurchaseRefunded) and payload.network_hold_id:
            named.add(payload.network_hold_id)
    return sorted(named)


# Events after which the hub knows the shopper (and the shop as one of theirs).
_MEMBER_EVENTS = (MemberEnrolled, MemberConsentChanged, PurchaseRecorded)


async def _ensure_shoppers(
    session: AsyncSession, envelopes: Sequence[Envelope], now: dt.datetime
) -> None:
    """Every shopper the batch names, in one statement: inserted if new, left alone if
    known. Rows go in pseudonym order, and the shoppers whose contact the batch may
    change are locked in that order too: two nodes' batches meeting the same shoppers wait
    for each other in one order (on PostgreSQL an insert waits for another transaction's
    uncommitted row of the same key), never in a cycle, and neither fails on the key."""
    named: set[str] = set()
    contacts: set[str] = set()
    for envelope in envelopes:
        payload = envelope.typed()
        if isinstance(payload, _MEMBER_EVENTS):
            named.add(payload.pseudonym)
        if isinstance(payload, MemberEnrolled | MemberConsentChanged):
            contacts.add(payload.pseudonym)
    if not named:
        return
    conn = await session.connection()
    rows = [{"pseudonym": p, "phone": None, "created_at": now} for p in sorted(named)]
    await conn.execute(
        _insert(conn.dialect.name, SHOPPERS)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["pseudonym"])
    )
    if contacts:
        await session.execute(
            select(Shopper.pseudonym)
            .where(Shopper.pseudonym.in_(sorted(contacts)))
            .order_by(Shopper.pseudonym)
            .with_for_update()
        )


async def _member_of(
    session: AsyncSession, identity: str, shop: str, joined_at: dt.datetime
) -> Membership:
    """The shopper's membership at the shop (``_ensure_shoppers`` wrote the shopper)."""
    membership = await session.get(Membership, (identity, shop))
    if membership is None:
        conn = await session.connection()
        await conn.execute(
            _insert(conn.dialect.name, MEMBERSHIPS)
            .values(
                pseudonym=identity,
                shop=shop,
                joined_at=joined_at,
                consent_seq=0,
                partner_sharing=False,
            )
            .on_conflict_do_nothing(index_elements=["pseudonym", "shop"])
        )
        # Inserted now, or by another transaction that committed it meanwhile.
        membership = await session.get_one(Membership, (identity, shop))
    return membership


async def streams(session: AsyncSession) -> list[NodeStream]:
    return list((await session.scalars(select(NodeStream).order_by(NodeStream.node))).all())
