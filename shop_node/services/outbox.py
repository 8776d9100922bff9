"""Writing the events the hub needs, in the same transaction as the change they report:
the change and its event commit together or not at all, and the node never waits for the
hub (the relay delivers later, however long the hub is away)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import PAYLOADS, BalanceChanged, MemberConsentChanged, MemberEnrolled
from federation.ids import new_event_id
from mallnet.secrets_store import pseudonym
from shop_node.db.models import Member, OutboxEvent
from shop_node.services.runtime import NodeRuntime
from shop_node.services.tiers import TierStanding, tier_standings

OUTBOX: Table = OutboxEvent.__table__  # type: ignore[assignment]
INSERT_EVENTS = insert(OUTBOX)
_TYPES = {model: kind for kind, model in PAYLOADS.items()}


async def emit(session: AsyncSession, now: dt.datetime, payloads: Sequence[object]) -> None:
    rows = []
    for payload in payloads:
        kind = _TYPES[type(payload)]  # type: ignore[index]
        rows.append(
            {
                "event_id": new_event_id(),
                "type": kind.value,
                "occurred_at": now,
                "payload": payload.model_dump(mode="json"),  # type: ignore[attr-defined]
                "attempts": 0,
            }
        )
    if rows:
        await (await session.connection()).execute(INSERT_EVENTS, rows)


def shopper(key: bytes, member: Member) -> str:
    return pseudonym(key, member.phone)


def balance(
    key: bytes, member: Member, points: int, credit_rial: int, tier: TierStanding | None = None
) -> BalanceChanged:
    """The member's balances, and with ``tier`` where she stands in the club's tiers (the
    standing ``Member.tier`` shows)."""
    if tier is None:
        return BalanceChanged(
            pseudonym=shopper(key, member), points=points, credit_rial=credit_rial
        )
    following = tier.next
    return BalanceChanged(
        pseudonym=shopper(key, member),
        points=points,
        credit_rial=credit_rial,
        tier_code=tier.current.code,
        tier_name_fa=tier.current.name_fa,
        tier_name_en=tier.current.name_en,
        tier_basis=tier.basis,
        # Refunds never take back more than was counted; never below zero on the wire.
        tier_metric=max(tier.metric, 0),
        next_tier_name_fa=None if following is None else following.name_fa,
        next_tier_name_en=None if following is None else following.name_en,
        next_tier_threshold=None if following is None else following.threshold,
    )


async def balance_now(
    session: AsyncSession, runtime: NodeRuntime, member: Member, points: int, credit_rial: int
) -> BalanceChanged:
    """The balance event of a change just made in ``session``: the balances after it, and
    the member's tier counting it."""
    standing = (await tier_standings(session, runtime, [member.id]))[member.id]
    return balance(runtime.network_key, member, points, credit_rial, standing)


def enrolled(key: bytes, member: Member) -> MemberEnrolled:
    # The contact travels only with the shopper's consent to partner sharing.
    return MemberEnrolled(
        pseudonym=shopper(key, member),
        joined_via=member.joined_via,
        partner_sharing=member.consent_partner_sharing,
        phone=member.phone if member.consent_partner_sharing else None,
        promotional=member.consent_promotional,
    )


def consent_changed(
    key: bytes, member: Member, command_id: str | None = None
) -> MemberConsentChanged:
    """The member's consents now; ``command_id``: the hub's command that changed them."""
    return MemberConsentChanged(
        pseudonym=shopper(key, member),
        partner_sharing=member.consent_partner_sharing,
        promotional=member.consent_promotional,
        phone=member.phone if member.consent_partner_sharing else None,
        command_id=command_id,
    )
