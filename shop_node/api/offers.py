"""The shop's offers over GraphQL: listed for the staff; drafted, checked (margins, a basket,
a backtest), activated and stopped by managers. An offer's document is JSON with a
published schema (``offerSchema``); its problems come back each at its path, in English
and Persian (``InvalidOffer``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from federation.ids import EVENT_ID
from mallnet.authz import guard_fields, requires
from mallnet.gql import JSONDocument, Points, Rial
from mallnet.gql_limits import page_cursor, page_size
from shop_node.api.access import MANAGE, STAFF, actor, runtime
from shop_node.api.policy import PreviewLineInput
from shop_node.api.problems import (
    BelowMargin,
    InvalidInput,
    InvalidOffer,
    NotFound,
    OfferNotChangeable,
    attempt,
)
from shop_node.db.models import Offer
from shop_node.domain.errors import InvalidInput as InvalidInputError
from shop_node.domain.errors import OfferNotFound as OfferNotFoundError
from shop_node.domain.offers.definition import offer_schema
from shop_node.domain.offers.profit import Economics, GroupMargin
from shop_node.services import offer_report, offers
from shop_node.services.offer_facts import MAX_BACKTEST_DAYS, Backtest

MAX_PAGE = 100


@strawberry.type(description="An offer of this shop.")
class ShopOffer:
    id: strawberry.ID
    kind: str = strawberry.field(description="permanent or one_time.")
    status: str = strawberry.field(description="draft, active or stopped.")
    name_fa: str
    name_en: str
    document: JSONDocument
    created_at: dt.datetime
    created_by: str
    activated_at: dt.datetime | None
    activated_by: str | None
    override_reason: str | None = strawberry.field(
        description="Why a manager activated it although it sells below margin."
    )
    stopped_at: dt.datetime | None

    @classmethod
    def of(cls, row: Offer) -> ShopOffer:
        return cls(
            id=strawberry.ID(row.id),
            kind=row.kind,
            status=row.status,
            name_fa=str(row.document.get("name_fa", "")),
            name_en=str(row.document.get("name_en", "")),
            document=JSONDocument(row.document),
            created_at=row.created_at,
            created_by=row.created_by,
            activated_at=row.activated_at,
            activated_by=row.activated_by,
            override_reason=row.override_reason,
            stopped_at=row.stopped_at,
        )


@strawberry.type
class ShopOfferPage:
    items: list[ShopOffer]
    next_after: strawberry.ID | None = strawberry.field(
        description="Pass as 'after' for the next, older page; null on the last page."
    )


@strawberry.type(description="An offer that was activated (a one-time offer: launched).")
class OfferActivated:
    offer: ShopOffer
    granted: int = strawberry.field(description="Members granted a one-time offer.")
    control: int = strawberry.field(description="Members kept in its control group.")


@strawberry.type(description="A product group, worst case: the highest tier's club credit.")
class OfferGroupMargin:
    group: str
    margin_bp: int
    club_credit_bp: int
    offer_bp: int = strawberry.field(description="The offer's discount and extra credit.")
    left_bp: int
    below_margin: bool

    @classmethod
    def of(cls, g: GroupMargin) -> OfferGroupMargin:
        return cls(
            group=g.group,
            margin_bp=g.margin_bp,
            club_credit_bp=g.club_credit_bp,
            offer_bp=g.offer_bp,
            left_bp=g.left_bp,
            below_margin=g.below_margin,
        )


@strawberry.type(description="One basket: the margin, and what the club and the offer give.")
class BasketEconomics:
    basket_rial: Rial
    margin_rial: Rial
    discount_rial: Rial
    club_credit_rial: Rial
    offer_credit_rial: Rial
    bonus_points: Points
    left_rial: int = strawberry.field(
        description="Margin left once the discount is given and all credit spent (may be "
        "negative: below margin)."
    )

    @classmethod
    def of(cls, e: Economics) -> BasketEconomics:
        return cls(
            basket_rial=Rial(e.basket_rial),
            margin_rial=Rial(e.margin_rial),
            discount_rial=Rial(e.discount_rial),
            club_credit_rial=Rial(e.club_credit_rial),
            offer_credit_rial=Rial(e.offer_credit_rial),
            bonus_points=Points(e.bonus_points),
            left_rial=e.left_rial,
        )


@strawberry.type(
    description="Had the offer run over the last days (control group and budget left out)."
)
class OfferBacktest:
    days: int
    purchases_seen: int
    members_reached: int
    purchases_affected: int
    sales_affected_rial: Rial
    discount_rial: Rial
    credit_rial: Rial
    bonus_points: Points
    margin_left_rial: int

    @classmethod
    def of(cls, b: Backtest) -> OfferBacktest:
        return cls(
            days=b.days,
            purchases_seen=b.purchases_seen,
            members_reached=b.members_reached,
            purchases_affected=b.purchases_affected,
            sales_affected_rial=Rial(b.sales_affected_rial),
            discount_rial=Rial(b.discount_rial),
            credit_rial=Rial(b.credit_rial),
            bonus_points=Points(b.bonus_points),
            margin_left_rial=b.margin_left_rial,
        )


@strawberry.type(description="What an offer costs and leaves, before it goes live.")
class OfferCheck:
    group_margins: list[OfferGroupMargin]
    basket_without: BasketEconomics
    basket_with: BasketEconomics
    basket_cost_rial: int
    backtest: OfferBacktest
    below_margin_groups: list[str] = strawberry.field(
        description="Activating needs a manager's reason when this is not empty."
    )


for _read in (ShopOffer, ShopOfferPage):
    guard_fields(_read, *STAFF)
for _managed in (OfferActivated, OfferGroupMargin, BasketEconomics, OfferBacktest, OfferCheck):
    guard_fields(_managed, *MANAGE)

OfferResult = Annotated[
    ShopOffer | InvalidOffer | InvalidInput | NotFound | OfferNotChangeable,
    strawberry.union("OfferResult"),
]
OfferCheckResult = Annotated[
    OfferCheck | InvalidOffer | InvalidInput, strawberry.union("OfferCheckResult")
]
OfferActivationResult = Annotated[
    OfferActivated | BelowMargin | InvalidOffer | InvalidInput | NotFound | OfferNotChangeable,
    strawberry.union("OfferActivationResult"),
]


@strawberry.type
class OfferQuery:
    @strawberry.field(extensions=requires(*STAFF), description="This shop's offers, newest first.")
    async def offers(
        self,
        info: strawberry.Info,
        status: str | None = None,
        first: int = 20,
        after: strawberry.ID | None = None,
    ) -> ShopOfferPage:
        size = page_size(first, MAX_PAGE)
        cursor = page_cursor(None if after is None else str(after), EVENT_ID)
        rows = await offers.listing(runtime(info), status, size + 1, cursor)
        items = [ShopOffer.of(r) for r in rows[:size]]
        more = len(rows) > size
        return ShopOfferPage(items=items, next_after=items[-1].id if more else None)

    @strawberry.field(extensions=requires(*STAFF), description="One offer (null: none such).")
    async def offer(self, info: strawberry.Info, id: strawberry.ID) -> ShopOffer | None:
        if not EVENT_ID.fullmatch(str(id)):
            return None
        try:
            return ShopOffer.of(await offers.get(runtime(info), str(id)))
        except OfferNotFoundError:
            return None

    @strawberry.field(
        extensions=requires(*MANAGE),
        description="The JSON Schema of an offer document (draft 2020-12).",
    )
    def offer_schema(self) -> JSONDocument:
        return JSONDocument(offer_schema())

    @strawberry.field(
        extensions=requires(*MANAGE),
        description="Check an offer document before saving or activating it: the margin per "
        "product group, a basket with and without it, and a backtest over the last days "
        f"(1–{MAX_BACKTEST_DAYS}). Nothing is saved.",
    )
    async def offer_check(
        self,
        info: strawberry.Info,
        document: JSONDocument,
        basket: list[PreviewLineInput],
        days: int = 90,
    ) -> OfferCheckResult:
        lines = [(x.product_group, int(x.amount_rial)) for x in basket]

        async def work() -> OfferCheck:
            if not 1 <= days <= MAX_BACKTEST_DAYS:
                raise InvalidInputError.one("days", f"between 1 and {MAX_BACKTEST_DAYS}")
            found = await offers.check(runtime(info), document, lines, days)
            return OfferCheck(
                group_margins=[OfferGroupMargin.of(g) for g in found.groups],
                basket_without=BasketEconomics.of(found.basket.without),
                basket_with=BasketEconomics.of(found.basket.with_offer),
                basket_cost_rial=found.basket.cost_rial,
                backtest=OfferBacktest.of(found.backtest),
                below_margin_groups=found.below_margin,
            )

        return await attempt(work)


def _offer(row: Any) -> Any:
    return ShopOffer.of(row) if isinstance(row, Offer) else row


@strawberry.type
class OfferMutation:
    @strawberry.mutation(extensions=requires(*MANAGE), description="Draft a new offer.")
    async def create_offer(self, info: strawberry.Info, document: JSONDocument) -> OfferResult:
        return _offer(await attempt(lambda: offers.create(runtime(info), document, actor(info))))

    @strawberry.mutation(extensions=requires(*MANAGE), description="Change a draft's document.")
    async def update_offer(
        self, info: strawberry.Info, id: strawberry.ID, document: JSONDocument
    ) -> OfferResult:
        return _offer(
            await attempt(
                lambda: offers.update_draft(runtime(info), str(id), document, actor(info))
            )
        )

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Put a draft live (a one-time offer: granted to its audience now). Below "
        "margin it needs overrideReason, which is recorded.",
    )
    async def activate_offer(
        self, info: strawberry.Info, id: strawberry.ID, override_reason: str | None = None
    ) -> OfferActivationResult:
        async def work() -> OfferActivated:
            done = await offers.activate(runtime(info), str(id), actor(info), override_reason)
            return OfferActivated(
                offer=ShopOffer.of(done.offer), granted=done.granted, control=done.control
            )

        return await attempt(work)

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Stop an offer (or drop a draft): it applies no more; open grants close.",
    )
    async def stop_offer(self, info: strawberry.Info, id: strawberry.ID) -> OfferResult:
        return _offer(await attempt(lambda: offers.stop(runtime(info), str(id), actor(info))))


@strawberry.type(description="One group of a one-time offer's members over its window.")
class OfferGroupFigures:
    members: int
    buyers: int
    purchases: int
    sales_rial: Rial
    sales_per_member_rial: str = strawberry.field(description="Two decimal places.")
    purchases_per_member: str


@strawberry.type(description="Granted minus control, per member, with its 95% interval.")
class OfferLift:
    value: str
    low: str
    high: str


@strawberry.type(description="A one-time offer against its control group.")
class OneTimeOfferReport:
    window_start: dt.datetime
    window_end: dt.datetime
    granted: OfferGroupFigures
    control: OfferGroupFigures
    redeemed: int
    redemption_rate: str | None = strawberry.field(description="Four decimal places.")
    sales_lift_rial: OfferLift | None
    visits_lift: OfferLift | None
    cost_rial: Rial
    cost_per_incremental_rial: str | None = strawberry.field(
        description="What the offer gave per Rial of sales beyond the control group's."
    )


@strawberry.type(description="What an offer gave on one Tehran day.")
class OfferDayUse:
    day: dt.date
    uses: int
    given_rial: Rial
    bonus_points: Points


@strawberry.type(description="How shoppers answered an offer.")
class OfferResponse:
    one_time: OneTimeOfferReport | None = strawberry.field(
        description="A launched one-time offer against its control group (else null)."
    )
    days: list[OfferDayUse] = strawberry.field(description="Uses per day, the last 30 days.")


for _report in (OfferGroupFigures, OfferLift, OneTimeOfferReport, OfferDayUse, OfferResponse):
    guard_fields(_report, *STAFF)


def _group(g: offer_report.GroupFigures) -> OfferGroupFigures:
    return OfferGroupFigures(
        members=g.members,
        buyers=g.buyers,
        purchases=g.purchases,
        sales_rial=Rial(g.sales_rial),
        sales_per_member_rial=str(g.sales_per_member_rial),
        purchases_per_member=str(g.purchases_per_member),
    )


def _lift(d: offer_report.Difference | None) -> OfferLift | None:
    return None if d is None else OfferLift(value=str(d.value), low=str(d.low), high=str(d.high))


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


@strawberry.type
class OfferReportQuery:
    @strawberry.field(
        extensions=requires(*STAFF), description="How shoppers answered an offer (null: none)."
    )
    async def offer_response(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> OfferResponse | None:
        node = runtime(info)
        if not EVENT_ID.fullmatch(str(id)):
            return None
        try:
            row = await offers.get(node, str(id))
        except OfferNotFoundError:
            return None
        one_time = None
        if row.kind == "one_time" and row.activated_at is not None:
            r = await offer_report.one_time_report(node, row.id)
            one_time = OneTimeOfferReport(
                window_start=r.window_start,
                window_end=r.window_end,
                granted=_group(r.granted),
                control=_group(r.control),
                redeemed=r.redeemed,
                redemption_rate=_text(r.redemption_rate),
                sales_lift_rial=_lift(r.sales_lift),
                visits_lift=_lift(r.visits_lift),
                cost_rial=Rial(r.cost_rial),
                cost_per_incremental_rial=_text(r.cost_per_incremental_rial),
            )
        days = [
            OfferDayUse(
                day=d.day,
                uses=d.uses,
                given_rial=Rial(d.given_rial),
                bonus_points=Points(d.bonus_points),
            )
            for d in await offer_report.daily_uses(node, row.id)
        ]
        return OfferResponse(one_time=one_time, days=days)
