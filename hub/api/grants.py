"""Redemption grants over GraphQL: the signed-in shopper sets a PIN and, with it, makes a
one-time grant (QR and digits) for a till; a shop's till asks the hub to text a grant to
the shopper's phone. A hold of network value needs one (``holdNetworkValue``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import node_of, shopper_of
from hub.api.common import run, sessions
from hub.api.problems import (
    InvalidInput,
    PhoneMismatch,
    PinInvalid,
    PinRequired,
    RateLimited,
    SmsNotSent,
    TooManyAttempts,
    refused,
)
from hub.api.wallet import ShopRef, shop_ref
from hub.domain.problems import Refusal
from hub.services import abuse, grants, value
from hub.services.hub_messages import hub_sender
from mallnet.authz import guard_fields, requires
from mallnet.gql import Rial
from mallnet.messaging.channels import ChannelFailure
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key


@strawberry.type(description="A one-time redemption grant for the shopper to show at a till.")
class RedemptionGrant:
    id: str = strawberry.field(description="Follow it with myRedemptionGrant(id:).")
    digits: str = strawberry.field(description="What the till types (single use).")
    qr_payload: str = strawberry.field(description="What the QR code carries: the till scans it.")
    expires_at: dt.datetime
    max_rial: Rial | None = strawberry.field(description="At most this may be held with it.")


@strawberry.type(description="Where one of the signed-in shopper's grants stands.")
class RedemptionGrantStatus:
    id: str
    status: str = strawberry.field(
        description="open (still usable), used (a till held with it) or expired (its time "
        "ran out, a newer grant replaced it, or too many wrong codes ended it)."
    )
    expires_at: dt.datetime
    used_at: dt.datetime | None
    shop: ShopRef | None = strawberry.field(description="Where it may be used; null: any shop.")
    held_at: ShopRef | None = strawberry.field(
        description="The shop whose hold used it; null until used."
    )
    held_rial: Rial = strawberry.field(description="What its hold reserved (0 until used).")
    captured_rial: Rial = strawberry.field(description="What the till captured of it.")
    paid: bool = strawberry.field(
        description="Its hold was captured, fully or partly: the purchase is paid with it."
    )


def _grant_status(
    found: grants.GrantStatus, names: dict[str, tuple[str, str]]
) -> RedemptionGrantStatus:
    return RedemptionGrantStatus(
        id=found.id,
        status=found.status,
        expires_at=found.expires_at,
        used_at=found.used_at,
        shop=shop_ref(names, found.shop),
        held_at=shop_ref(names, found.held_at),
        held_rial=Rial(found.held_rial),
        captured_rial=Rial(found.captured_rial),
        paid=found.paid,
    )


@strawberry.type(description="The shopper's redemption PIN is set.")
class RedemptionPinSet:
    ok: bool


@strawberry.type(description="A redemption code was texted to the shopper's phone.")
class RedemptionCodeSent:
    expires_at: dt.datetime
    max_rial: Rial | None


@strawberry.type(
    description="A shop's wrong redemption codes, counted across all its tries: past its "
    "budget its code attempts and texts are refused for a while (a lockout)."
)
class RedemptionCodeFailures:
    shop: str
    failures_total: int = strawberry.field(description="Wrong codes it ever typed.")
    lockouts: int = strawberry.field(description="How often it was locked for them.")
    locked_until: dt.datetime | None = strawberry.field(description="Its last lock's end.")
    last_failure_at: dt.datetime | None


MALL_WATCH = (Scope.MALL_ADMIN, Scope.MALL_REPORTS)
guard_fields(RedemptionCodeFailures, *MALL_WATCH)
guard_fields(RedemptionGrant, Scope.SHOPPER_READ)
guard_fields(RedemptionGrantStatus, Scope.SHOPPER_READ)
guard_fields(RedemptionPinSet, Scope.SHOPPER_READ)
guard_fields(RedemptionCodeSent, Scope.NODE_FEDERATE)

GrantResult = Annotated[
    RedemptionGrant | InvalidInput | PinRequired | PinInvalid | TooManyAttempts | RateLimited,
    strawberry.union("IssueRedemptionGrantResult"),
]
PinResult = Annotated[
    RedemptionPinSet | InvalidInput | PinInvalid | TooManyAttempts,
    strawberry.union("SetRedemptionPinResult"),
]
CodeResult = Annotated[
    RedemptionCodeSent | InvalidInput | PhoneMismatch | RateLimited | SmsNotSent,
    strawberry.union("SendRedemptionCodeResult"),
]


@strawberry.type
class GrantQuery:
    @strawberry.field(
        extensions=requires(Scope.SHOPPER_READ),
        description="Whether the signed-in shopper has set a redemption PIN.",
    )
    async def has_redemption_pin(self, info: strawberry.Info) -> bool:
        shopper = shopper_of(info)
        async with sessions(info)() as session:
            return await grants.has_pin(session, shopper)

    @strawberry.field(
        extensions=requires(Scope.SHOPPER_READ),
        description="One of the signed-in shopper's own redemption grants, by the id "
        "issueRedemptionGrant gave: the app polls it to show the purchase paid. Null for an "
        "unknown id and for another shopper's grant alike.",
    )
    async def my_redemption_grant(
        self, info: strawberry.Info, id: str
    ) -> RedemptionGrantStatus | None:
        shopper = shopper_of(info)
        async with sessions(info)() as session:
            found = await grants.grant_status(session, shopper, id)
            if found is None:
                return None
            return _grant_status(found, await value.shop_names(session))

    @strawberry.field(
        extensions=requires(*MALL_WATCH),
        description="Each shop that ever typed a wrong redemption code, the most first: a "
        "shop guessing at shoppers' codes shows here (and in the hub's log) with its "
        "lockouts.",
    )
    async def redemption_code_failures(self, info: strawberry.Info) -> list[RedemptionCodeFailures]:
        async with sessions(info)() as session:
            rows = await grants.code_failures(session)
        return [
            RedemptionCodeFailures(
                shop=r.shop,
                failures_total=r.failures_total,
                lockouts=r.lockouts,
                locked_until=r.locked_until,
                last_failure_at=r.last_failure_at,
            )
            for r in rows
        ]


@strawberry.type
class GrantMutation:
    @strawberry.mutation(
        extensions=requires(Scope.SHOPPER_READ),
        description="Set the signed-in shopper's redemption PIN (4-6 digits), or change it "
        "with the current one. Each wrong PIN costs a try; five lock grants for a while.",
    )
    async def set_redemption_pin(
        self, info: strawberry.Info, pin: str, current_pin: str | None = None
    ) -> PinResult:
        shopper = shopper_of(info)

        async def work(session: AsyncSession) -> RedemptionPinSet | Refusal:
            result = await grants.set_pin(session, shopper, pin, current_pin)
            return RedemptionPinSet(ok=True) if result is None else result

        return refused(info, await run(info, work))

    @strawberry.mutation(
        extensions=requires(Scope.SHOPPER_READ),
        description="After the shopper's PIN, a one-time grant for a till to hold their "
        "network value once: digits and a QR payload, valid about two minutes, at most "
        "maxRial if given, at any shop or only at shop (an active shop's slug) if given. A "
        "new grant replaces the last one.",
    )
    async def issue_redemption_grant(
        self,
        info: strawberry.Info,
        pin: str,
        max_rial: Rial | None = None,
        shop: str | None = None,
    ) -> GrantResult:
        shopper = shopper_of(info)

        async def work(session: AsyncSession) -> RedemptionGrant | Refusal:
            made = await grants.issue_app_grant(session, shopper, pin, max_rial, shop=shop)
            if isinstance(made, Refusal):
                return made
            return RedemptionGrant(
                id=made.id,
                digits=made.code,
                qr_payload=made.qr_payload,
                expires_at=made.expires_at,
                max_rial=None if made.max_rial is None else Rial(made.max_rial),
            )

        return refused(info, await run(info, work))

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Text the shopper a one-time redemption code for the calling shop (the "
        "phone must be the shopper the pseudonym names); the till types it into "
        "holdNetworkValue's grant. At most maxRial may be held with it, if given. Only a "
        "shopper with network value spendable here is texted; the answer is the same "
        "either way.",
    )
    async def send_redemption_code(
        self,
        info: strawberry.Info,
        phone: str,
        pseudonym: str,
        max_rial: Rial | None = None,
    ) -> CodeResult:
        shop = node_of(info)
        settings = info.context["state"].settings
        key = network_key(settings)
        limits = abuse.Limits.of(info.context["state"])

        async def work(session: AsyncSession) -> grants.TextedCode:
            return await grants.text_code(
                session, key, shop, phone, pseudonym, max_rial, limits=limits
            )

        made = await run(info, work)
        if not isinstance(made, grants.TextedCode):
            return made
        state = info.context["state"]
        try:
            await grants.deliver(hub_sender(settings, state.sessions), made)  # after the commit
        except ChannelFailure:
            # The grant stands (the shopper may still read the code in her app).
            return SmsNotSent.of("the code could not be texted now; it is in the shopper's app")
        return RedemptionCodeSent(
            expires_at=made.expires_at,
            max_rial=None if made.max_rial is None else Rial(made.max_rial),
        )
