"""The hub's expected failures: a stable code from one enum, a message saying what to do,
and the input field at fault (if any). The GraphQL layer answers each with the typed
problem of its code (``hub.api.problems``); the sign-in pages and the workers read the code
too. Nothing here knows about GraphQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """Stable codes of the hub's expected failures; clients branch on these. Each value is
    the code the hub has always sent, so clients written against the strings keep working.
    """

    # Any use case
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    # Federation intake
    NOT_A_NODE = "NOT_A_NODE"
    INVALID_BATCH = "INVALID_BATCH"
    # Shops registry and partnerships
    SHOP_EXISTS = "SHOP_EXISTS"
    SHOP_NOT_FOUND = "SHOP_NOT_FOUND"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    # A shopper's consents
    NOT_A_MEMBER = "NOT_A_MEMBER"
    # Network value
    INSUFFICIENT_VALUE = "INSUFFICIENT_VALUE"
    HOLD_MISMATCH = "HOLD_MISMATCH"
    HOLD_CLOSED = "HOLD_CLOSED"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    SHOPPER_MISMATCH = "SHOPPER_MISMATCH"
    # Redemption grants (the shopper's say before a hold)
    GRANT_REQUIRED = "GRANT_REQUIRED"
    GRANT_INVALID = "GRANT_INVALID"
    GRANT_USED = "GRANT_USED"
    GRANT_EXPIRED = "GRANT_EXPIRED"
    GRANT_EXCEEDED = "GRANT_EXCEEDED"
    PHONE_MISMATCH = "PHONE_MISMATCH"
    PIN_REQUIRED = "PIN_REQUIRED"
    PIN_INVALID = "PIN_INVALID"
    # Campaigns and lotteries
    NOT_INVITED = "NOT_INVITED"
    ANSWER_FINAL = "ANSWER_FINAL"
    ALREADY_SET = "ALREADY_SET"
    ALREADY_DRAWN = "ALREADY_DRAWN"
    NO_PUBLIC_VALUE = "NO_PUBLIC_VALUE"
    TOO_EARLY = "TOO_EARLY"
    NOT_DRAWN = "NOT_DRAWN"
    TAMPERED = "TAMPERED"
    # The draw's own check of a ticket list (hub.domain.draw), in lower case as it has
    # always been reported.
    INVALID_TICKETS = "invalid_tickets"
    # Settlement
    NOTHING_TO_CLOSE = "NOTHING_TO_CLOSE"
    PERIOD_NOT_ENDED = "PERIOD_NOT_ENDED"
    PERIOD_OPEN = "PERIOD_OPEN"
    PREPAID_EXHAUSTED = "PREPAID_EXHAUSTED"
    # Sign-in (the OAuth pages)
    INVALID_PHONE = "INVALID_PHONE"
    CODE_EXPIRED = "CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    RATE_LIMITED = "RATE_LIMITED"
    # Staff and mall accounts
    USERNAME_TAKEN = "USERNAME_TAKEN"
    # The mall's Telegram bot
    TELEGRAM_NOT_CONFIGURED = "TELEGRAM_NOT_CONFIGURED"
    # The SMS provider refused or did not answer: nothing was texted.
    SMS_NOT_SENT = "SMS_NOT_SENT"


class HubError(Exception):
    """An expected failure of a hub use case; nothing it did is kept."""

    def __init__(self, code: ProblemCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        # A member, also from a caller still passing the code's string (a typo fails here).
        self.code, self.message, self.field = ProblemCode(code), message, field


@dataclass(frozen=True)
class Refusal:
    """An expected failure *returned* by a use case, not raised: its transaction commits,
    so what the refusal counted is kept (a wrong redemption code or PIN costs a try however
    the caller reacts). The API answers it with the typed problem of ``error``."""

    error: HubError
