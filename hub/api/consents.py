"""A shopper's consents over GraphQL: the signed-in shopper reads them per shop whose club
she belongs to (``myConsents``) and changes them (``setConsent``, scope
``shopper:consent``). The token says whose consents they are: no argument names a
shopper."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import shopper_of
from hub.api.common import run, sessions
from hub.api.problems import InvalidInput, NotAMember
from hub.services import consents
from mallnet.authz import guard_fields, requires
from mallnet.scopes import Scope


@strawberry.type(description="The shopper's consents at one shop whose club she belongs to.")
class ShopConsent:
    shop: str
    partner_sharing: bool = strawberry.field(
        description="May a purchase here introduce her (her phone) to the shop's partners?"
    )
    promotional_sms: bool = strawberry.field(description="May this shop send her promotional SMS?")
    pending: bool = strawberry.field(
        description="Her latest change is on its way to the shop, not yet confirmed by it"
        " (it already counts at the hub: a withdrawal stops introductions at once)."
    )

    @classmethod
    def of(cls, row: consents.ShopConsents) -> ShopConsent:
        return cls(
            shop=row.shop,
            partner_sharing=row.partner_sharing,
            promotional_sms=row.promotional,
            pending=row.pending,
        )


guard_fields(ShopConsent, Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT)

SetConsentResult = Annotated[
    ShopConsent | InvalidInput | NotAMember, strawberry.union("SetConsentResult")
]


@strawberry.type
class ConsentQuery:
    @strawberry.field(
        extensions=requires(Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT),
        description="The signed-in shopper's consents at each shop whose club she belongs to.",
    )
    async def my_consents(self, info: strawberry.Info) -> list[ShopConsent]:
        identity = shopper_of(info)
        async with sessions(info)() as session:
            return [ShopConsent.of(row) for row in await consents.of_shopper(session, identity)]


@strawberry.type
class ConsentMutation:
    @strawberry.mutation(
        extensions=requires(Scope.SHOPPER_CONSENT),
        description="The signed-in shopper changes her consents at one shop (an omitted one"
        " stays as it is); the shop applies the change through its inbox.",
    )
    async def set_consent(
        self,
        info: strawberry.Info,
        shop: str,
        partner_sharing: bool | None = None,
        promotional_sms: bool | None = None,
    ) -> SetConsentResult:
        identity = shopper_of(info)

        async def work(session: AsyncSession) -> ShopConsent:
            changed = await consents.change(
                session,
                identity,
                shop,
                partner_sharing=partner_sharing,
                promotional=promotional_sms,
            )
            return ShopConsent.of(changed)

        return await run(info, work)
