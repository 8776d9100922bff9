"""Network value over GraphQL: the shopper's wallet (``me``), a shop's issuance policy,
the pooled point's value, and two-phase redemption for nodes (hold → capture or void)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from graphql import GraphQLError
from hub.api.access import MALL, actor, node_of
from hub.api.common import run, sessions, write
from hub.api.problems import (
    GrantExceeded,
    GrantExpired,
    GrantInvalid,
    GrantRequired,
    GrantUsed,
    HoldClosed,
    HoldExpired,
    HoldMismatch,
    IdempotencyConflict,
    InsufficientValue,
    InvalidInput,
    NotFound,
    ShopperMismatch,
    TooManyAttempts,
    refused,
)
from hub.api.wallet import NetworkValueKind
from hub.db import models
from hub.domain.problems import Refusal
from hub.services import grants, value
from mallnet.auth import Principal
from mallnet.authz import guard_fields, requires
from mallnet.gql import JSONDocument, Points, Rial, snake_keys
from mallnet.gql_limits import page_size
from mallnet.scopes import Scope

T = TypeVar("T")
POLICY_READERS = (Scope.NODE_FEDERATE, Scope.MALL_ADMIN, Scope.MALL_REPORTS)


@strawberry.type(description="Part of a hold, from one lot.")
class HoldPortion:
    kind: NetworkValueKind
    issuer_shop: str
    units: Points = strawberry.field(description="Points, or Rial for credit.")
    rial_per_unit: Rial
    captured_units: Points
    refunded_units: Points


@strawberry.type(description="A reservation of network value for one purchase.")
class NetworkHold:
    id: str
    pseudonym: str
    purchase_ref: str
    requested_rial: Rial
    held_rial: Rial
    captured_rial: Rial
    refunded_rial: Rial
    status: str = strawberry.field(description="open, captured, voided or expired.")
    expires_at: dt.datetime
    replayed: bool = strawberry.field(description="This answer repeats an earlier one.")
    portions: list[HoldPortion]


async def _hold_view(session: AsyncSession, outcome: value.HoldOutcome) -> NetworkHold:
    row = outcome.hold
    lots = dict(outcome.lots)
    for p in outcome.portions:
        if p.lot_id not in lots:  # a replay: the use case did not read them
            lots[p.lot_id] = await session.get_one(models.ValueLot, p.lot_id)
    return NetworkHold(
        id=row.id,
        pseudonym=row.pseudonym,
        purchase_ref=row.purchase_ref,
        requested_rial=Rial(row.requested_rial),
        held_rial=Rial(row.held_rial),
        captured_rial=Rial(row.captured_rial),
        refunded_rial=Rial(row.refunded_rial),
        status=row.status,
        expires_at=row.expires_at,
        replayed=outcome.replayed,
        portions=[
            HoldPortion(
                kind=NetworkValueKind(lots[p.lot_id].kind),
                issuer_shop=lots[p.lot_id].issuer_shop,
                units=Points(p.units),
                rial_per_unit=Rial(lots[p.lot_id].rial_per_point),
                captured_units=Points(p.captured_units),
                refunded_units=Points(p.refunded_units),
            )
            for p in outcome.portions
        ],
    )


@strawberry.input
class HoldInput:
    pseudonym: str
    amount_rial: Rial
    purchase_ref: str = strawberry.field(description="The receipt id the purchase will carry.")
    idempotency_key: str
    grant: str | None = strawberry.field(
        default=None,
        description="The shopper's redemption grant: the digits from the app or the SMS, "
        "or the app's QR payload. Without it nothing is held (GRANT_REQUIRED).",
    )
    partial: bool = strawberry.field(
        default=False, description="Hold what there is when it covers less than asked."
    )
    kinds: list[NetworkValueKind] | None = strawberry.field(
        default=None, description="Which kinds to use (all by default)."
    )
    ttl_seconds: int = value.DEFAULT_HOLD_TTL_S


@strawberry.type(description="A shop's issuance policy for network value.")
class IssuancePolicy:
    shop: str
    version: int
    policy: JSONDocument
    effective_from: dt.datetime


@strawberry.type(description="The value of a pooled point (new lots use the latest).")
class PointValue:
    rial_per_point: Rial
    effective_from: dt.datetime
    set_by: str


for hold_part in (HoldPortion, NetworkHold):
    guard_fields(hold_part, Scope.NODE_FEDERATE)
guard_fields(IssuancePolicy, *POLICY_READERS)
guard_fields(PointValue, *MALL, Scope.NODE_FEDERATE, Scope.SHOPPER_READ)

HoldResult = Annotated[
    NetworkHold
    | InvalidInput
    | IdempotencyConflict
    | InsufficientValue
    | GrantRequired
    | GrantInvalid
    | GrantUsed
    | GrantExpired
    | GrantExceeded
    | TooManyAttempts,
    strawberry.union("HoldNetworkValueResult"),
]
CaptureResult = Annotated[
    NetworkHold
    | InvalidInput
    | NotFound
    | HoldMismatch
    | ShopperMismatch
    | HoldClosed
    | HoldExpired,
    strawberry.union("CaptureNetworkHoldResult"),
]
VoidResult = Annotated[
    NetworkHold | NotFound | HoldClosed, strawberry.union("VoidNetworkHoldResult")
]
PolicyResult = Annotated[IssuancePolicy | InvalidInput, strawberry.union("IssuancePolicyResult")]
PointValueResult = Annotated[PointValue | InvalidInput, strawberry.union("PointValueResult")]


def _policy(row: models.IssuancePolicy) -> IssuancePolicy:
    return IssuancePolicy(
        shop=row.shop,
        version=row.version,
        policy=JSONDocument(row.document),
        effective_from=row.effective_from,
    )


@strawberry.type
class ValueQuery:
    @strawberry.field(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Whether a member of the calling shop has network value spendable "
        "there: yes or no, nothing more (how much is seen only by a hold, with the "
        "shopper's redemption grant); no for anyone not its member. Rate-limited per shop "
        "(a RATE_LIMITED error).",
    )
    async def has_network_value(self, info: strawberry.Info, pseudonym: str) -> bool:
        shop = node_of(info)
        try:
            return await write(info, lambda s: grants.has_value_here(s, shop, pseudonym))
        except grants.GrantError as exc:  # only RATE_LIMITED: a yes-or-no has no problem type
            raise GraphQLError(exc.message, extensions={"code": exc.code.value}) from None

    @strawberry.field(
        extensions=requires(*POLICY_READERS),
        description="A shop's current issuance policy (a node reads its own by default).",
    )
    async def issuance_policy(
        self, info: strawberry.Info, shop: str | None = None
    ) -> IssuancePolicy | None:
        user = info.context["request"].user
        own = user.shop if isinstance(user, Principal) else None
        if own is not None and shop not in (None, own):
            return None  # a node reads its own policy; mall management reads any
        slug = shop or own
        if slug is None:
            return None
        async with sessions(info)() as session:
            row = await value.issuance_policy(session, slug)
        return None if row is None else _policy(row)

    @strawberry.field(
        extensions=requires(*MALL, Scope.NODE_FEDERATE, Scope.SHOPPER_READ),
        description="The pooled point's value: the current one first, then its history "
        "(the newest `first`, at most 100).",
    )
    async def point_values(self, info: strawberry.Info, first: int = 20) -> list[PointValue]:
        async with sessions(info)() as session:
            rows = await value.point_values(session, page_size(first, 100))
        return [
            PointValue(
                rial_per_point=Rial(r.rial_per_point),
                effective_from=r.effective_from,
                set_by=r.set_by,
            )
            for r in rows
        ]


@strawberry.type
class ValueMutation:
    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Reserve a shopper's network value acceptable at the calling shop, "
        "soonest-expiring first, with the shopper's redemption grant (used once: the same "
        "hold asked again with it is answered as a replay). Idempotent on idempotencyKey.",
    )
    async def hold_network_value(self, info: strawberry.Info, input: HoldInput) -> HoldResult:
        shop = node_of(info)
        data = value.HoldInput(
            pseudonym=input.pseudonym,
            amount_rial=input.amount_rial,
            purchase_ref=input.purchase_ref,
            idempotency_key=input.idempotency_key,
            partial=input.partial,
            kinds=[k.value for k in input.kinds] if input.kinds is not None else value.ALL_KINDS,
            ttl_s=input.ttl_seconds,
        )

        async def work(session: AsyncSession) -> NetworkHold | Refusal:
            held = await grants.hold_with_grant(session, shop, data, input.grant)
            return held if isinstance(held, Refusal) else await _hold_view(session, held)

        return refused(info, await run(info, work))

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Capture an open hold, fully (no amount) or partly, for a purchase of "
        "the hold's own shopper; the rest is released.",
    )
    async def capture_network_hold(
        self,
        info: strawberry.Info,
        hold_id: str,
        pseudonym: Annotated[
            str,
            strawberry.argument(
                description="The purchase's shopper: refused (SHOPPER_MISMATCH) unless the "
                "hold is theirs."
            ),
        ],
        amount_rial: Rial | None = None,
        purchase_ref: Annotated[
            str | None,
            strawberry.argument(description="The receipt: refused unless the hold is for it."),
        ] = None,
        up_to_rial: Annotated[
            Rial | None,
            strawberry.argument(description="Without amountRial: all of the hold, at most this."),
        ] = None,
    ) -> CaptureResult:
        shop = node_of(info)

        async def work(session: AsyncSession) -> NetworkHold:
            captured = await value.capture(
                session, shop, hold_id, amount_rial, purchase_ref, up_to_rial, pseudonym=pseudonym
            )
            return await _hold_view(session, captured)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Release an open hold (the sale was cancelled). Idempotent.",
    )
    async def void_network_hold(self, info: strawberry.Info, hold_id: str) -> VoidResult:
        shop = node_of(info)

        async def work(session: AsyncSession) -> NetworkHold:
            return await _hold_view(session, await value.void(session, shop, hold_id))

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Set the calling shop's issuance policy (a new version, for purchases "
        "from now on): pooledShareBp, pooledValidDays, creditRules[].",
    )
    async def set_issuance_policy(
        self, info: strawberry.Info, policy: JSONDocument
    ) -> PolicyResult:
        shop = node_of(info)
        author = actor(info)

        async def work(session: AsyncSession) -> IssuancePolicy:
            return _policy(
                await value.set_issuance_policy(session, shop, snake_keys(policy), author)
            )

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_ADMIN),
        description="Set the pooled point's value in Rial: lots issued from now on carry it.",
    )
    async def set_point_value(
        self, info: strawberry.Info, rial_per_point: Rial
    ) -> PointValueResult:
        author = actor(info)

        async def work(session: AsyncSession) -> PointValue:
            row = await value.set_point_value(session, rial_per_point, author)
            return PointValue(
                rial_per_point=Rial(row.rial_per_point),
                effective_from=row.effective_from,
                set_by=row.set_by,
            )

        return await run(info, work)
