"""Network value at this shop's till: who the shopper is at the hub, and the capture a
purchase paid with network value makes (the hub holds the value; the node asks it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.client import HubConnection, HubRefused, HubUnavailable, HubUncertain
from mallnet.secrets_store import pseudonym
from shop_node.domain.errors import (
    FieldProblem,
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
    if ref.phone is not None and ref.card_code is None and ref.member_id is None:
        problems: list[FieldProblem] = []
        phone = phone_or_problem(ref.phone, "phone", problems)
        if phone is None:
            raise InvalidInput(problems)
        return pseudonym(runtime.network_key, phone)

    async def load(session: AsyncSession) -> str:
        member = await find_member(session, ref)
        if member is None:
            raise MemberNotFound("no member with that card code or id")
        return pseudonym(runtime.network_key, member.phone)

    return await runtime.read(load)


def capture_at(hub: HubConnection | None) -> Capture:
    """The capture a purchase makes through ``hub``; failures as the node's own errors."""

    async def capture(hold_id: str, amount_rial: int | None, receipt_id: str, left: int) -> int:
        if hub is None:
            raise NetworkValueUnavailable("this node is not connected to the hub")
        try:
            result = await hub.capture(hold_id, amount_rial, receipt_id, left)
        except HubUncertain as exc:
            raise NetworkValueUncertain(str(exc)) from exc
        except HubUnavailable as exc:
            raise NetworkValueUnavailable(str(exc)) from exc
        except HubRefused as exc:
            raise NetworkValueRefused(exc.code, exc.message) from exc
        return int(result["capturedRial"])

    return capture
