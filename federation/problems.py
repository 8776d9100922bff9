"""The codes of the problems the hub answers with: the ``ProblemCode`` enum of the hub's
GraphQL schema (``graphql/hub.graphql``), as a node reads them.

The protocol is the schema, not the hub's code: this package imports nothing of the hub,
so the enum is written out here, and a test keeps it equal to the hub's.
"""

from __future__ import annotations

from enum import StrEnum


class HubProblemCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    NOT_A_NODE = "NOT_A_NODE"
    INVALID_BATCH = "INVALID_BATCH"
    SHOP_EXISTS = "SHOP_EXISTS"
    SHOP_NOT_FOUND = "SHOP_NOT_FOUND"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    INSUFFICIENT_VALUE = "INSUFFICIENT_VALUE"
    HOLD_MISMATCH = "HOLD_MISMATCH"
    HOLD_CLOSED = "HOLD_CLOSED"
    HOLD_EXPIRED = "HOLD_EXPIRED"
    NOT_INVITED = "NOT_INVITED"
    ANSWER_FINAL = "ANSWER_FINAL"
    ALREADY_SET = "ALREADY_SET"
    ALREADY_DRAWN = "ALREADY_DRAWN"
    NO_PUBLIC_VALUE = "NO_PUBLIC_VALUE"
    TOO_EARLY = "TOO_EARLY"
    NOT_DRAWN = "NOT_DRAWN"
    TAMPERED = "TAMPERED"
    INVALID_TICKETS = "INVALID_TICKETS"
    NOTHING_TO_CLOSE = "NOTHING_TO_CLOSE"
    PERIOD_NOT_ENDED = "PERIOD_NOT_ENDED"
    PERIOD_OPEN = "PERIOD_OPEN"
    PREPAID_EXHAUSTED = "PREPAID_EXHAUSTED"
    INVALID_PHONE = "INVALID_PHONE"
    CODE_EXPIRED = "CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    RATE_LIMITED = "RATE_LIMITED"
