"""Expected failures of the node's use cases, each with a stable code.

The GraphQL layer maps each to a typed result; nothing here knows about GraphQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from federation.problems import HubProblemCode


class ProblemCode(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    MEMBER_NOT_FOUND = "MEMBER_NOT_FOUND"
    MEMBER_EXISTS = "MEMBER_EXISTS"
    PURCHASE_NOT_FOUND = "PURCHASE_NOT_FOUND"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    REFUND_EXCEEDS_PURCHASE = "REFUND_EXCEEDS_PURCHASE"
    NETWORK_VALUE_UNAVAILABLE = "NETWORK_VALUE_UNAVAILABLE"
    NETWORK_VALUE_REFUSED = "NETWORK_VALUE_REFUSED"
    NETWORK_VALUE_UNCERTAIN = "NETWORK_VALUE_UNCERTAIN"
    HOLD_OF_ANOTHER_SHOPPER = "HOLD_OF_ANOTHER_SHOPPER"
    OFFER_NOT_FOUND = "OFFER_NOT_FOUND"
    OFFER_NOT_CHANGEABLE = "OFFER_NOT_CHANGEABLE"
    BELOW_MARGIN = "BELOW_MARGIN"
    SEND_LIMIT = "SEND_LIMIT"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class NodeError(Exception):
    code: ProblemCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(NodeError):
    code = ProblemCode.INVALID_INPUT

    def __init__(self, problems: list[FieldProblem]) -> None:
        if not problems:
            raise ValueError("InvalidInput needs at least one problem")
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldProblem(field, message)])


class MemberNotFound(NodeError):
    code = ProblemCode.MEMBER_NOT_FOUND


class MemberExists(NodeError):
    code = ProblemCode.MEMBER_EXISTS

    def __init__(self, message: str, member_id: int) -> None:
        super().__init__(message)
        self.member_id = member_id


class PurchaseNotFound(NodeError):
    code = ProblemCode.PURCHASE_NOT_FOUND


class IdempotencyConflict(NodeError):
    """The same idempotency key (receipt id, refund id...) came with different content."""

    code = ProblemCode.IDEMPOTENCY_CONFLICT


class InsufficientBalance(NodeError):
    code = ProblemCode.INSUFFICIENT_BALANCE

    def __init__(self, asset: str, available: int, requested: int) -> None:
        super().__init__(f"not enough {asset}: {requested} requested, {available} available")
        self.asset = asset
        self.available = available
        self.requested = requested


class RefundExceedsPurchase(NodeError):
    code = ProblemCode.REFUND_EXCEEDS_PURCHASE

    def __init__(self, refundable_rial: int, requested_rial: int) -> None:
        super().__init__(
            f"refund of {requested_rial} Rial exceeds the {refundable_rial} Rial "
            "still refundable on this purchase"
        )
        self.refundable_rial = refundable_rial
        self.requested_rial = requested_rial


class NetworkValueUnavailable(NodeError):
    """The hub cannot be asked now: network value is unavailable, local value still works."""

    code = ProblemCode.NETWORK_VALUE_UNAVAILABLE

    def __init__(self, why: str) -> None:
        super().__init__(f"network value unavailable, local credit only ({why})")


class NetworkValueRefused(NodeError):
    """The hub said no (the hold expired, was voided, is worth less...)."""

    code = ProblemCode.NETWORK_VALUE_REFUSED

    def __init__(self, hub_code: HubProblemCode, message: str) -> None:
        super().__init__(f"{hub_code}: {message}")
        self.hub_code = hub_code


class HoldOfAnotherShopper(NetworkValueRefused):
    """The hold is not the purchase's shopper's: a hold is captured only by a purchase of
    the shopper who granted it (the node names the purchase's shopper; the hub compares)."""

    code = ProblemCode.HOLD_OF_ANOTHER_SHOPPER

    def __init__(self, message: str = "") -> None:
        super().__init__(
            HubProblemCode.SHOPPER_MISMATCH,
            message
            or "this hold is another shopper's: record the purchase for the shopper who "
            "gave the grant, or hold with this shopper's own grant",
        )


class NetworkValueUncertain(NodeError):
    """The capture reached the hub but its answer did not come back: the value may be
    taken. Only the same purchase again (same receipt and hold) learns the outcome."""

    code = ProblemCode.NETWORK_VALUE_UNCERTAIN

    def __init__(self, why: str) -> None:
        super().__init__(
            "the hub may already have taken the network value for this receipt: send the"
            f" same purchase again, with the same receipt and hold — not without it ({why})"
        )


class OfferNotFound(NodeError):
    code = ProblemCode.OFFER_NOT_FOUND


class OfferNotChangeable(NodeError):
    """The offer's status does not allow this (a live offer is not edited; a stopped one is
    not started again)."""

    code = ProblemCode.OFFER_NOT_CHANGEABLE


class BelowMargin(NodeError):
    """Activating the offer would sell below margin in some product groups: a manager may
    still, with a reason."""

    code = ProblemCode.BELOW_MARGIN

    def __init__(self, groups: list[str]) -> None:
        super().__init__(
            "the offer sells below margin in " + ", ".join(groups) + ": give a reason to "
            "activate it anyway"
        )
        self.groups = groups


class SendLimitReached(NodeError):
    """The shop has sent its lists as many messages as a day allows, or one send is still
    running: every message costs the one who pays for SMS, and reaches every member."""

    code = ProblemCode.SEND_LIMIT
