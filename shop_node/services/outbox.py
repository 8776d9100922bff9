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


def balance(key: bytes, member: Member, points: int, credit_rial: int) -> BalanceChanged:
    return BalanceChanged(pseudonym=shopper(key, member), points=points, credit_rial=credit_rial)


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
