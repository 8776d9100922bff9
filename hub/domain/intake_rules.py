"""What the hub checks of a node's event before applying any of it (pure: the event and
the network key alone). An event that does not check out refuses its batch."""

from __future__ import annotations

import hmac

from federation.envelope import (
    Envelope,
    MemberConsentChanged,
    MemberEnrolled,
    PurchaseRecorded,
)
from hub.domain.problems import HubError, ProblemCode
from mallnet.values import pseudonym


class RefusedEvent(HubError):
    """An event whose claim the hub does not believe: the batch is refused as
    ``INVALID_BATCH`` (nothing of it written), the message naming the event and why."""

    def __init__(self, envelope: Envelope, why: str) -> None:
        super().__init__(
            ProblemCode.INVALID_BATCH,
            f"event {envelope.event_id} (seq {envelope.seq}, {envelope.type.value}): {why};"
            " the hub does not apply it",
            "events",
        )


def verify(envelope: Envelope, key: bytes) -> None:
    """What the hub checks of an event's claims before applying any of them. A phone
    must be the one its pseudonym was computed from (else a node could send lottery
    notices and partner enrolments for one shopper to another's phone); a purchase's lines
    must add up to its total, and what was paid with value must fit in it (the hub
    issues on the lines and on the part paid with money)."""
    payload = envelope.typed()
    if isinstance(payload, MemberEnrolled | MemberConsentChanged) and payload.phone is not None:
        if not hmac.compare_digest(pseudonym(key, payload.phone), payload.pseudonym):
            raise RefusedEvent(envelope, "the phone reported is not the pseudonym's phone")
    elif isinstance(payload, PurchaseRecorded):
        lines = sum(line.amount_rial for line in payload.lines)
        if lines != payload.total_rial:
            raise RefusedEvent(
                envelope, f"its lines add up to {lines} Rial, not its total {payload.total_rial}"
            )
        if payload.credit_spent_rial + payload.network_paid_rial > payload.total_rial:
            raise RefusedEvent(
                envelope, "more was paid with credit and network value than its total"
            )
