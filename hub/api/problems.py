"""The hub's expected failures as typed GraphQL results: one type per problem code, each
implementing the ``HubProblem`` interface (a stable ``code``, a message saying what to do,
the input field at fault). A mutation's union lists exactly the problems it can answer
with; ``... on HubProblem { code message field }`` reads any of them.

Some codes never reach GraphQL (the sign-in pages', the workers' and intake's own): they
are in the ``ProblemCode`` enum, with no type here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import strawberry
from strawberry.types.union import StrawberryUnion

from hub.api.access import ANY_CLIENT
from hub.domain.problems import HubError, ProblemCode, Refusal
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


@strawberry.type(description="The shopper is not a member of that shop's club.")
class NotAMember(HubProblem):
    CODE = ProblemCode.NOT_A_MEMBER


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


@strawberry.type(description="The hold is another shopper's: the purchase must be the holder's.")
class ShopperMismatch(HubProblem):
    CODE = ProblemCode.SHOPPER_MISMATCH


@strawberry.type(description="Network value is held only with the shopper's redemption grant.")
class GrantRequired(HubProblem):
    CODE = ProblemCode.GRANT_REQUIRED


@strawberry.type(
    description="No live redemption grant of this shopper, for this shop, has that code."
)
class GrantInvalid(HubProblem):
    CODE = ProblemCode.GRANT_INVALID


@strawberry.type(description="The redemption grant was used already: the shopper makes a new one.")
class GrantUsed(HubProblem):
    CODE = ProblemCode.GRANT_USED


@strawberry.type(description="The redemption grant expired: the shopper makes a new one.")
class GrantExpired(HubProblem):
    CODE = ProblemCode.GRANT_EXPIRED


@strawberry.type(description="The hold asks more than the shopper's grant allows.")
class GrantExceeded(HubProblem):
    CODE = ProblemCode.GRANT_EXCEEDED


@strawberry.type(description="The phone is not the shopper the pseudonym names.")
class PhoneMismatch(HubProblem):
    CODE = ProblemCode.PHONE_MISMATCH


@strawberry.type(description="Set a redemption PIN first.")
class PinRequired(HubProblem):
    CODE = ProblemCode.PIN_REQUIRED


@strawberry.type(description="The redemption PIN is wrong (each wrong PIN costs a try).")
class PinInvalid(HubProblem):
    CODE = ProblemCode.PIN_INVALID


@strawberry.type(description="Too many wrong tries: wait, or start again with a new code.")
class TooManyAttempts(HubProblem):
    CODE = ProblemCode.TOO_MANY_ATTEMPTS


@strawberry.type(description="Asked too often: try again in a few minutes.")
class RateLimited(HubProblem):
    CODE = ProblemCode.RATE_LIMITED


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


@strawberry.type(description="Another account already has that username: choose another.")
class UsernameTaken(HubProblem):
    CODE = ProblemCode.USERNAME_TAKEN


@strawberry.type(description="The mall has no Telegram bot set up: ask the mall, or use SMS.")
class TelegramNotConfigured(HubProblem):
    CODE = ProblemCode.TELEGRAM_NOT_CONFIGURED


@strawberry.type(
    description="The SMS could not be sent now (the provider refused or did not answer)."
)
class SmsNotSent(HubProblem):
    CODE = ProblemCode.SMS_NOT_SENT


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
        NotAMember,
        InsufficientValue,
        HoldMismatch,
        HoldClosed,
        HoldExpired,
        ShopperMismatch,
        GrantRequired,
        GrantInvalid,
        GrantUsed,
        GrantExpired,
        GrantExceeded,
        PhoneMismatch,
        PinRequired,
        PinInvalid,
        TooManyAttempts,
        RateLimited,
        NotInvited,
        AnswerFinal,
        AlreadySet,
        AlreadyDrawn,
        NoPublicValue,
        TooEarly,
        NotDrawn,
        NothingToClose,
        PeriodOpen,
        UsernameTaken,
        TelegramNotConfigured,
        SmsNotSent,
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


def refused(info: strawberry.Info, result: Any) -> Any:
    """A use case's answer, its returned ``Refusal`` (committed: what it counted is kept)
    turned into the typed problem the field's union declares; an undeclared one is an
    error, as with raised problems."""
    if not isinstance(result, Refusal):
        return result
    answer = problem_of(result.error)
    declared = info.return_type
    if not (isinstance(declared, StrawberryUnion) and type(answer) in declared.types):
        raise TypeError(f"{info.field_name} does not declare the problem {result.error.code.name}")
    return answer
