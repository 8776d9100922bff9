"""Network value at this shop's till: who the shopper is at the hub, and the capture a
purchase paid with network value makes (the hub holds the value; the node asks it).

A capture always names the purchase's own shopper — the member the node records the
purchase for, never what the till typed for the hold — and the hub refuses a hold of
anyone else (``SHOPPER_MISMATCH``); the node checks the hub's answer names that shopper
too. Either way the till gets ``HOLD_OF_ANOTHER_SHOPPER`` and nothing is recorded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubConnection, HubRefused, HubUnavailable, HubUncertain
from federation.problems import HubProblemCode
from mallnet.secrets_store import pseudonym
from shop_node.domain.errors import (
    FieldProblem,
    HoldOfAnotherShopper,
    InvalidInput,
    MemberNotFound,
    NetworkValueRefused,
    NetworkValueUnavailable,
    NetworkValueUncertain,
)
from shop_node.services.members import MemberRef, find_member, phone_or_problem
from shop_node.services.purchases import Capture
from shop_node.services.runtime import NodeRuntime


async def shopper_of(runtime: NodeRuntime, ref: MemberRef) -> str:
    """The shopper's network pseudonym: from the phone alone (they need not be a member
    here yet), or from the member a card code names."""
    return (await contact_of(runtime, ref))[1]


async def contact_of(runtime: NodeRuntime, ref: MemberRef) -> tuple[str, str]:
    """The shopper's (E.164 phone, pseudonym): from the phone alone, or from the member a
    card code names (where the till asks the hub to text the shopper a code)."""
    if ref.phone is not None and ref.card_code is None and ref.member_id is None:
        problems: list[FieldProblem] = []
        phone = phone_or_problem(ref.phone, "phone", problems)
        if phone is None:
            raise InvalidInput(problems)
        return phone, pseudonym(runtime.network_key, phone)

    async def load(session: AsyncSession) -> tuple[str, str]:
        member = await find_member(session, ref)
        if member is None:
            raise MemberNotFound("no member with that card code or id")
        return member.phone, pseudonym(runtime.network_key, member.phone)

    return await runtime.read(load)


def capture_at(hub: HubConnection | None) -> Capture:
    """The capture a purchase makes through ``hub``; failures as the node's own errors."""

    async def capture(
        hold_id: str, amount_rial: int | None, receipt_id: str, left: int, shopper: str
    ) -> int:
        if hub is None:
            raise NetworkValueUnavailable("this node is not connected to the hub")
        try:
            result = await hub.capture(hold_id, shopper, amount_rial, receipt_id, left)
        except HubUncertain as exc:
            raise NetworkValueUncertain(str(exc)) from exc
        except HubUnavailable as exc:
            raise NetworkValueUnavailable(str(exc)) from exc
        except HubRefused as exc:
            if exc.code is HubProblemCode.SHOPPER_MISMATCH:
                raise HoldOfAnotherShopper() from exc
            raise NetworkValueRefused(exc.code, exc.message) from exc
        if result.get("pseudonym") != shopper:
            # A hub that did not compare (an older one): its answer still shows whose hold
            # it was, and this purchase is not recorded for it.
            raise HoldOfAnotherShopper()
        return int(result["capturedRial"])

    return capture
