"""The hub's expected failures as typed GraphQL results: one type per problem code, each
implementing the ``HubProblem`` interface (a stable ``code``, a message saying what to do,
the input field at fault). A mutation's union lists exactly the problems it can answer
with; ``... on HubProblem { code message field }`` reads any of them.

Some codes never reach GraphQL (the sign-in pages', the workers' and intake's own): they
are in the ``ProblemCode`` enum, with no type here.
"""

from __future__ import annotations

from typing import ClassVar, Self

import strawberry

from hub.api.access import ANY_CLIENT
from hub.domain.problems import HubError, ProblemCode
from mallnet.authz import guard_fields

strawberry.enum(
    ProblemCode, description="Stable codes of the hub's expected failures; clients branch on these."
)


@strawberry.interface(description="An expected failure: a stable code, what to do, the field.")
class HubProblem:
    code: ProblemCode
    message: str
    field: str | None = strawberry.field(description="The input field at fault, if one is.")

    CODE: ClassVar[ProblemCode]

    @classmethod
    def of(cls, message: str, field: str | None = None) -> Self:
        return cls(code=cls.CODE, message=message, field=field)


@strawberry.type(description="The input breaks a rule: the message says what is allowed.")
class InvalidInput(HubProblem):
    CODE = ProblemCode.INVALID_INPUT


@strawberry.type(description="Nothing with that id (for the caller): the field names the id.")
class NotFound(HubProblem):
    CODE = ProblemCode.NOT_FOUND


@strawberry.type(description="The caller may not do this to what it named.")
class Forbidden(HubProblem):
    CODE = ProblemCode.FORBIDDEN


@strawberry.type(description="The idempotency key (or reference) came before with another request.")
class IdempotencyConflict(HubProblem):
    CODE = ProblemCode.IDEMPOTENCY_CONFLICT


@strawberry.type(description="Only a shop node's client delivers events.")
class NotANode(HubProblem):
    CODE = ProblemCode.NOT_A_NODE


@strawberry.type(description="The batch is malformed or not the sender's: a retry cannot help.")
class InvalidBatch(HubProblem):
    CODE = ProblemCode.INVALID_BATCH


@strawberry.type(description="A shop with that slug is registered already.")
class ShopExists(HubProblem):
    CODE = ProblemCode.SHOP_EXISTS


@strawberry.type(description="No shop is registered with that slug.")
class ShopNotFound(HubProblem):
    CODE = ProblemCode.SHOP_NOT_FOUND


@strawberry.type(description="The partnership offer is not open to the calling shop.")
class NotEligible(HubProblem):
    CODE = ProblemCode.NOT_ELIGIBLE


@strawberry.type(description="The shopper's value spendable here covers less than asked.")
class InsufficientValue(HubProblem):
    CODE = ProblemCode.INSUFFICIENT_VALUE


@strawberry.type(description="The hold was made for another purchase.")
class HoldMismatch(HubProblem):
    CODE = ProblemCode.HOLD_MISMATCH


@strawberry.type(description="The hold is over (captured, voided or expired).")
class HoldClosed(HubProblem):
    CODE = ProblemCode.HOLD_CLOSED


@strawberry.type(description="The hold expired before its capture: ask for a new one.")
class HoldExpired(HubProblem):
    CODE = ProblemCode.HOLD_EXPIRED


@strawberry.type(description="The calling shop was not invited to the campaign or lottery.")
class NotInvited(HubProblem):
    CODE = ProblemCode.NOT_INVITED


@strawberry.type(description="The invitation's answer can no longer change.")
class AnswerFinal(HubProblem):
    CODE = ProblemCode.ANSWER_FINAL


@strawberry.type(description="The lottery's public value was entered already.")
class AlreadySet(HubProblem):
    CODE = ProblemCode.ALREADY_SET


@strawberry.type(description="The lottery's draw has begun.")
class AlreadyDrawn(HubProblem):
    CODE = ProblemCode.ALREADY_DRAWN


@strawberry.type(description="Enter the lottery's public value before its draw.")
class NoPublicValue(HubProblem):
    CODE = ProblemCode.NO_PUBLIC_VALUE


@strawberry.type(description="The lottery's draw time has not come yet.")
class TooEarly(HubProblem):
    CODE = ProblemCode.TOO_EARLY


@strawberry.type(description="The lottery has not been drawn.")
class NotDrawn(HubProblem):
    CODE = ProblemCode.NOT_DRAWN


@strawberry.type(description="The open settlement period has only just started.")
class NothingToClose(HubProblem):
    CODE = ProblemCode.NOTHING_TO_CLOSE


@strawberry.type(description="The settlement period is not closed yet.")
class PeriodOpen(HubProblem):
    CODE = ProblemCode.PERIOD_OPEN


PROBLEM_TYPES: dict[ProblemCode, type[HubProblem]] = {
    cls.CODE: cls
    for cls in (
        InvalidInput,
        NotFound,
        Forbidden,
        IdempotencyConflict,
        NotANode,
        InvalidBatch,
        ShopExists,
        ShopNotFound,
        NotEligible,
        InsufficientValue,
        HoldMismatch,
        HoldClosed,
        HoldExpired,
        NotInvited,
        AnswerFinal,
        AlreadySet,
        AlreadyDrawn,
        NoPublicValue,
        TooEarly,
        NotDrawn,
        NothingToClose,
        PeriodOpen,
    )
}

guard_fields(HubProblem, *ANY_CLIENT)
for _type in PROBLEM_TYPES.values():
    guard_fields(_type, *ANY_CLIENT)


def problem_of(exc: HubError) -> HubProblem:
    """The typed problem of a use case's expected failure."""
    kind = PROBLEM_TYPES.get(exc.code)
    if kind is None:
        raise TypeError(f"no GraphQL problem type for {exc.code.name}") from exc
    return kind.of(exc.message, exc.field)
