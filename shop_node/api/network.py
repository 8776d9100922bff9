"""Network value at the till and in the manager's dashboard: the node asks the hub.

The POS asks whether a shopper has network value here (yes or no: nothing more without
the shopper's say), takes the shopper's redemption grant — the code from the app (digits
or QR), or one the hub texts the shopper at the till's request — holds with it, then
records the purchase *for that shopper* with the hold (the capture happens with the
purchase) or voids the hold. When the hub cannot be reached the answer says so —
NETWORK_VALUE_UNAVAILABLE, local credit only — and local points and credit keep working.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from mallnet.authz import guard_fields, requires
from mallnet.gql import JSONDocument, Rial
from shop_node.api.access import MANAGE, OPERATE, STAFF, runtime
from shop_node.api.partnerships import HubAnswer, ask
from shop_node.api.problems import InvalidInput, NotFound, as_problem
from shop_node.domain.errors import InvalidInput as InvalidInputError
from shop_node.domain.errors import NodeError
from shop_node.services import network
from shop_node.services.members import MemberRef

UNAVAILABLE = "network value unavailable, local credit only"


@strawberry.type(
    description="Whether a shopper has network value spendable here. How much shows only "
    "in a hold made with the shopper's redemption grant."
)
class NetworkValue:
    has_value: bool


@strawberry.type(description="The hub texted the shopper a one-time redemption code.")
class RedemptionCodeSent:
    expires_at: dt.datetime
    max_rial: Rial | None = strawberry.field(description="At most this may be held with it.")


@strawberry.type(description="Network value reserved for a purchase here.")
class NetworkHold:
    id: str
    receipt_id: str
    requested_rial: Rial
    held_rial: Rial = strawberry.field(description="Pass it as networkRial (or less).")
    captured_rial: Rial
    status: str = strawberry.field(description="open, captured, voided or expired.")
    expires_at: dt.datetime
    replayed: bool

    @classmethod
    def of(cls, data: dict[str, Any]) -> NetworkHold:
        return cls(
            id=data["id"],
            receipt_id=data["purchaseRef"],
            requested_rial=Rial(int(data["requestedRial"])),
            held_rial=Rial(int(data["heldRial"])),
            captured_rial=Rial(int(data["capturedRial"])),
            status=data["status"],
            expires_at=dt.datetime.fromisoformat(data["expiresAt"]),
            replayed=data["replayed"],
        )


@strawberry.type(description="This shop's issuance policy for network value, at the hub.")
class NetworkIssuancePolicy:
    version: int
    policy: JSONDocument
    effective_from: dt.datetime


@strawberry.input
class HoldNetworkValueInput:
    phone: str | None = None
    card_code: str | None = None
    amount_rial: Rial
    receipt_id: str = strawberry.field(description="The receipt the purchase will carry.")
    grant_code: str | None = strawberry.field(
        default=None,
        description="The shopper's redemption grant: the digits from the app or the SMS, or "
        "the app's scanned QR payload. The hub holds nothing without it.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Defaults to the receipt id."
    )
    partial: bool = strawberry.field(
        default=False, description="Hold what there is when it covers less than asked."
    )


guard_fields(NetworkValue, *STAFF)
guard_fields(NetworkHold, *STAFF)
guard_fields(RedemptionCodeSent, *STAFF)
guard_fields(NetworkIssuancePolicy, *STAFF)

NetworkValueResult = Annotated[
    NetworkValue | HubAnswer | InvalidInput | NotFound, strawberry.union("NetworkValueResult")
]
NetworkHoldResult = Annotated[
    NetworkHold | HubAnswer | InvalidInput | NotFound, strawberry.union("NetworkHoldResult")
]
CodeSentResult = Annotated[
    RedemptionCodeSent | HubAnswer | InvalidInput | NotFound,
    strawberry.union("RedemptionCodeSentResult"),
]
IssuancePolicyResult = Annotated[
    NetworkIssuancePolicy | HubAnswer, strawberry.union("NetworkIssuancePolicyResult")
]


def _policy(data: dict[str, Any]) -> NetworkIssuancePolicy:
    return NetworkIssuancePolicy(
        version=data["version"],
        policy=JSONDocument(data["policy"]),
        effective_from=dt.datetime.fromisoformat(data["effectiveFrom"]),
    )


async def _shopper(info: strawberry.Info, phone: str | None, card_code: str | None) -> Any:
    try:
        if (phone is None) == (card_code is None):
            raise InvalidInputError.one("member", "give exactly one of phone or cardCode")
        return await network.shopper_of(runtime(info), MemberRef(phone=phone, card_code=card_code))
    except NodeError as exc:
        return as_problem(exc)


@strawberry.type
class NetworkQuery:
    @strawberry.field(
        extensions=requires(*STAFF),
        description="Whether a shopper has network value spendable here (yes or no; how "
        "much shows in a hold made with the shopper's grant).",
    )
    async def network_value(
        self, info: strawberry.Info, phone: str | None = None, card_code: str | None = None
    ) -> NetworkValueResult:
        who = await _shopper(info, phone, card_code)
        if not isinstance(who, str):
            return who
        answer = await ask(info, lambda hub: hub.has_value(who), unavailable=UNAVAILABLE)
        return answer if isinstance(answer, HubAnswer) else NetworkValue(has_value=answer)

    @strawberry.field(
        extensions=requires(*STAFF), description="This shop's issuance policy at the hub."
    )
    async def network_issuance_policy(self, info: strawberry.Info) -> NetworkIssuancePolicy | None:
        answer = await ask(info, lambda hub: hub.issuance_policy())
        if isinstance(answer, HubAnswer) or answer is None:
            return None
        return _policy(answer)


@strawberry.type
class NetworkMutation:
    @strawberry.mutation(
        extensions=requires(*OPERATE),
        description="Hold a shopper's network value for a purchase here, with the "
        "shopper's redemption grant (grantCode); then record the purchase of that same "
        "shopper with networkHoldId (it captures) or void the hold.",
    )
    async def hold_network_value(
        self, info: strawberry.Info, input: HoldNetworkValueInput
    ) -> NetworkHoldResult:
        who = await _shopper(info, input.phone, input.card_code)
        if not isinstance(who, str):
            return who
        request = {
            "pseudonym": who,
            "amountRial": input.amount_rial,
            "purchaseRef": input.receipt_id,
            "idempotencyKey": input.idempotency_key or input.receipt_id,
            "partial": input.partial,
            "grant": input.grant_code,
        }
        answer = await ask(info, lambda hub: hub.hold(request), unavailable=UNAVAILABLE)
        return answer if isinstance(answer, HubAnswer) else NetworkHold.of(answer)

    @strawberry.mutation(
        extensions=requires(*OPERATE),
        description="Ask the hub to text the shopper a one-time redemption code for this "
        "shop (for a shopper without the app); the till types it as holdNetworkValue's "
        "grantCode. maxRial, if given, caps what may be held with it (the text says so).",
    )
    async def request_network_value_code(
        self,
        info: strawberry.Info,
        phone: str | None = None,
        card_code: str | None = None,
        max_rial: Rial | None = None,
    ) -> CodeSentResult:
        try:
            if (phone is None) == (card_code is None):
                raise InvalidInputError.one("member", "give exactly one of phone or cardCode")
            ref = MemberRef(phone=phone, card_code=card_code)
            contact, who = await network.contact_of(runtime(info), ref)
        except NodeError as exc:
            return as_problem(exc)  # type: ignore[return-value]
        answer = await ask(
            info,
            lambda hub: hub.send_redemption_code(contact, who, max_rial),
            unavailable=UNAVAILABLE,
        )
        if isinstance(answer, HubAnswer):
            return answer
        cap = answer["maxRial"]
        return RedemptionCodeSent(
            expires_at=dt.datetime.fromisoformat(answer["expiresAt"]),
            max_rial=None if cap is None else Rial(int(cap)),
        )

    @strawberry.mutation(
        extensions=requires(*OPERATE), description="Release a hold (the sale did not happen)."
    )
    async def void_network_hold(self, info: strawberry.Info, hold_id: str) -> NetworkHoldResult:
        answer = await ask(info, lambda hub: hub.void(hold_id), unavailable=UNAVAILABLE)
        return answer if isinstance(answer, HubAnswer) else NetworkHold.of(answer)

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Set this shop's issuance policy at the hub: pooledShareBp (share of the "
        "points a purchase earns issued as pooled points), pooledValidDays, creditRules "
        "[{minPurchaseRial, creditBp, maxCreditRial, groups, acceptedShops, "
        "acceptedCategory, validDays}].",
    )
    async def set_network_issuance_policy(
        self, info: strawberry.Info, policy: JSONDocument
    ) -> IssuancePolicyResult:
        answer = await ask(info, lambda hub: hub.set_issuance_policy(policy))
        return answer if isinstance(answer, HubAnswer) else _policy(answer)
