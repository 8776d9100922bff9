"""Expected failures as typed GraphQL results, each with a stable code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from mallnet.authz import guard_fields
from mallnet.gql import Amount, Rial
from shop_node.api.access import STAFF
from shop_node.domain import errors
from shop_node.domain.offers.parsing import InvalidOffer as InvalidOfferError

ProblemCode = errors.ProblemCode
strawberry.enum(
    errors.ProblemCode, description="Stable codes of expected failures; clients branch on these."
)


@strawberry.interface(description="An expected failure: what went wrong and what to do.")
class Problem:
    code: ProblemCode
    message: str


@strawberry.type
class FieldProblem:
    field: str
    message: str


@strawberry.type
class InvalidInput(Problem):
    problems: list[FieldProblem]


@strawberry.type
class NotFound(Problem):
    pass


@strawberry.type
class IdempotencyConflict(Problem):
    pass


@strawberry.type
class MemberExists(Problem):
    member_id: strawberry.ID


@strawberry.type
class InsufficientBalance(Problem):
    asset: str
    available: Amount
    requested: Amount


@strawberry.type
class RefundExceedsPurchase(Problem):
    refundable_rial: Rial
    requested_rial: Rial


@strawberry.type(description="Network value could not be used: pay the rest otherwise.")
class NetworkValueProblem(Problem):
    hub_code: str | None = strawberry.field(
        description="The hub's reason when it refused (HOLD_EXPIRED, HOLD_CLOSED...)."
    )
    local_value_only: bool = strawberry.field(
        description="The hub is unreachable: local points and credit still work."
    )


@strawberry.type(description="A part of an offer document that is wrong, and why.")
class OfferDocumentProblem:
    path: str = strawberry.field(description="Where: offer.audience.of[1].gt")
    code: str = strawberry.field(description="A stable kind of mistake (int_parsing, ...).")
    message_en: str
    message_fa: str


@strawberry.type(description="An offer document with problems; nothing was saved.")
class InvalidOffer(Problem):
    problems: list[OfferDocumentProblem]


@strawberry.type(description="The offer sells below margin in these product groups.")
class BelowMargin(Problem):
    groups: list[str]


@strawberry.type(description="The offer's status does not allow this.")
class OfferNotChangeable(Problem):
    pass


@strawberry.type(description="A send to a list is running, or today's sends are all used.")
class SendLimit(Problem):
    pass


for _type in (
    OfferDocumentProblem,
    InvalidOffer,
    BelowMargin,
    OfferNotChangeable,
    SendLimit,
    Problem,
    FieldProblem,
    InvalidInput,
    NotFound,
    IdempotencyConflict,
    MemberExists,
    InsufficientBalance,
    RefundExceedsPurchase,
    NetworkValueProblem,
):
    guard_fields(_type, *STAFF)


def as_problem(exc: errors.NodeError) -> Problem:
    code = exc.code
    match exc:
        case InvalidOfferError():
            return InvalidOffer(
                code=code,
                message=exc.message,
                problems=[
                    OfferDocumentProblem(
                        path=p.path, code=p.code, message_en=p.message_en, message_fa=p.message_fa
                    )
                    for p in exc.located
                ],
            )
        case errors.BelowMargin():
            return BelowMargin(code=code, message=exc.message, groups=exc.groups)
        case errors.OfferNotChangeable():
            return OfferNotChangeable(code=code, message=exc.message)
        case errors.SendLimitReached():
            return SendLimit(code=code, message=exc.message)
        case errors.InvalidInput():
            return InvalidInput(
                code=code,
                message=exc.message,
                problems=[FieldProblem(field=p.field, message=p.message) for p in exc.problems],
            )
        case errors.MemberNotFound() | errors.PurchaseNotFound() | errors.OfferNotFound():
            return NotFound(code=code, message=exc.message)
        case errors.IdempotencyConflict():
            return IdempotencyConflict(code=code, message=exc.message)
        case errors.MemberExists():
            return MemberExists(
                code=code, message=exc.message, member_id=strawberry.ID(str(exc.member_id))
            )
        case errors.InsufficientBalance():
            return InsufficientBalance(
                code=code,
                message=exc.message,
                asset=exc.asset,
                available=Amount(exc.available),
                requested=Amount(exc.requested),
            )
        case errors.RefundExceedsPurchase():
            return RefundExceedsPurchase(
                code=code,
                message=exc.message,
                refundable_rial=Rial(exc.refundable_rial),
                requested_rial=Rial(exc.requested_rial),
            )
        case errors.NetworkValueUnavailable():
            return NetworkValueProblem(
                code=code, message=exc.message, hub_code=None, local_value_only=True
            )
        case errors.NetworkValueUncertain():
            return NetworkValueProblem(
                code=code, message=exc.message, hub_code=None, local_value_only=False
            )
        case errors.NetworkValueRefused():
            return NetworkValueProblem(
                code=code, message=exc.message, hub_code=exc.hub_code, local_value_only=False
            )
    raise TypeError(f"no GraphQL problem type for {type(exc).__name__}")


T = TypeVar("T")


async def attempt(call: Callable[[], Awaitable[T]]) -> T | Any:
    """Run a use case; turn its expected failures into problem results."""
    try:
        return await call()
    except errors.NodeError as exc:
        return as_problem(exc)
