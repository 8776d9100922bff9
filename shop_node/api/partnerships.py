"""Partnerships, managed from the shop's own dashboard: the node asks the hub for it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from federation.client import HubConnection, HubRefused, HubUnavailable
from mallnet.authz import guard_fields, requires
from mallnet.gql import Points, Rial
from shop_node.api.access import MANAGE, STAFF, runtime
from shop_node.services.relay import hub_connection


@strawberry.type(description="A partnership offer: shop B welcomes customers of other shops.")
class PartnerOffer:
    id: str
    host_shop: str
    origin_shops: list[str]
    origin_category: str | None
    min_purchase_rial: Rial
    origin_groups: list[str]
    first_purchase_only: bool
    monthly_cap: int | None
    welcome_points: Points
    welcome_credit_rial: Rial
    status: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> PartnerOffer:
        return cls(
            id=data["id"],
            host_shop=data["hostShop"],
            origin_shops=data["originShops"],
            origin_category=data["originCategory"],
            min_purchase_rial=Rial(data["minPurchaseRial"]),
            origin_groups=data["originGroups"],
            first_purchase_only=data["firstPurchaseOnly"],
            monthly_cap=data["monthlyCap"],
            welcome_points=Points(data["welcomePoints"]),
            welcome_credit_rial=Rial(data["welcomeCreditRial"]),
            status=data["status"],
        )


@strawberry.type(description="The hub could not be asked, or said no.")
class HubAnswer:
    code: str = strawberry.field(description="HUB_UNAVAILABLE, NOT_CONNECTED or the hub's code.")
    message: str


@strawberry.input
class PartnerOfferInput:
    origin_shops: list[str] = strawberry.field(default_factory=list)
    origin_category: str | None = None
    min_purchase_rial: Rial = Rial(0)
    origin_groups: list[str] = strawberry.field(default_factory=list)
    first_purchase_only: bool = False
    monthly_cap: int | None = None
    welcome_points: Points = Points(0)
    welcome_credit_rial: Rial = Rial(0)


guard_fields(PartnerOffer, *STAFF)
guard_fields(HubAnswer, *STAFF)

OfferResult = Annotated[PartnerOffer | HubAnswer, strawberry.union("PartnerOfferResult")]


async def hub_of(info: strawberry.Info) -> HubConnection | HubAnswer:
    node = runtime(info)
    hub = await hub_connection(node, info.context["state"].settings.public_hub_url)
    if hub is None:
        return HubAnswer(code="NOT_CONNECTED", message="run 'mallnet node-connect' for this shop")
    return hub


async def ask(info: strawberry.Info, call: Any, *, unavailable: str | None = None) -> Any:
    """Ask the hub; an unreachable hub or its refusal comes back as a ``HubAnswer``."""
    hub = await hub_of(info)
    if isinstance(hub, HubAnswer):
        return hub
    try:
        return await call(hub)
    except HubUnavailable as exc:
        return HubAnswer(
            code="HUB_UNAVAILABLE",
            message=f"{unavailable or 'the hub is not reachable now'}: {exc}",
        )
    except HubRefused as exc:
        return HubAnswer(code=exc.code, message=exc.message)


@strawberry.type
class PartnershipQuery:
    @strawberry.field(extensions=requires(*STAFF), description="Partnership offers of the mall.")
    async def partner_offers(self, info: strawberry.Info) -> list[PartnerOffer]:
        answer = await ask(info, lambda hub: hub.partner_offers())
        return [] if isinstance(answer, HubAnswer) else [PartnerOffer.of(o) for o in answer]


@strawberry.type
class PartnershipMutation:
    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Offer to welcome customers of chosen shops (or a category), on conditions.",
    )
    async def publish_partner_offer(
        self, info: strawberry.Info, input: PartnerOfferInput
    ) -> OfferResult:
        offer = {
            "originShops": input.origin_shops,
            "originCategory": input.origin_category,
            "minPurchaseRial": input.min_purchase_rial,
            "originGroups": input.origin_groups,
            "firstPurchaseOnly": input.first_purchase_only,
            "monthlyCap": input.monthly_cap,
            "welcomePoints": input.welcome_points,
            "welcomeCreditRial": input.welcome_credit_rial,
        }
        answer = await ask(info, lambda hub: hub.publish_offer(offer))
        return answer if isinstance(answer, HubAnswer) else PartnerOffer.of(answer)

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Agree to refer this shop's customers to an offer.",
    )
    async def opt_in_to_partner_offer(self, info: strawberry.Info, offer_id: str) -> OfferResult:
        answer = await ask(info, lambda hub: hub.opt_in(offer_id))
        return answer if isinstance(answer, HubAnswer) else PartnerOffer.of(answer)
