"""Joint campaigns and lotteries over GraphQL: mall marketing runs them (``mall:campaigns``),
shops answer invitations and hand prizes over through their nodes (``node:federate``),
shoppers see their tickets, entrant ids and results (``shopper:read``), and anyone can read
what a drawn lottery published to re-run its draw (public). What is published names
entrant ids, never pseudonyms (``hub.services.lotteries``); a lottery frozen before entrant
ids existed named its entrants by pseudonym, and its list and winners' ids are now shown
to mall management only (``_withheld``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import actor, node_of
from hub.api.campaign_report import MARKETING, CampaignReport, report_view
from hub.api.common import run, sessions
from hub.api.lottery_views import (
    LotteryView,
    LotteryWinner,
    PrizeClaimView,
    ShopperLottery,
    TicketEntry,
    is_operator,
    lottery_view,
    lottery_views,
)
from hub.api.problems import (
    AlreadyDrawn,
    AlreadySet,
    AnswerFinal,
    Forbidden,
    InvalidInput,
    NoPublicValue,
    NotDrawn,
    NotFound,
    NotInvited,
    TooEarly,
)
from hub.api.wallet import jalali
from hub.db import models
from hub.domain.problems import HubError, ProblemCode
from hub.services import campaign_report, campaigns, event_pages, lotteries
from mallnet.auth import Principal
from mallnet.authz import Forbidden as Refused
from mallnet.authz import guard_fields, open_fields, public, requires
from mallnet.gql import JSONDocument, Rial, snake_keys
from mallnet.gql_limits import page_size
from mallnet.jalali import InvalidDate, parse_moment
from mallnet.scopes import Scope

INVITEES = (*MARKETING, Scope.NODE_FEDERATE)


@strawberry.type(description="A shop invited to a campaign or lottery, and its answer.")
class Invitation:
    id: str = strawberry.field(description="The campaign's or lottery's id.")
    kind: str = strawberry.field(description="campaign or lottery.")
    name_fa: str
    shop: str
    status: str = strawberry.field(description="invited, accepted or declined.")


@strawberry.type(description="A joint campaign.")
class CampaignView:
    id: str
    name_fa: str
    name_en: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    starts_jalali: str
    ends_jalali: str
    reward: JSONDocument
    budget_rial: Rial
    spent_rial: Rial
    cost_rule: str
    sponsors: list[str] = strawberry.field(
        description="Shops that pay the cost by the cost rule instead of the shops that "
        "accepted (none: those that accepted pay)."
    )
    status: str = strawberry.field(description="active, or stopped (budget spent).")
    shops: list[Invitation]


@strawberry.type(description="A page of campaigns, newest first.")
class CampaignPage:
    items: list[CampaignView]
    total: int


@strawberry.type(description="A page of lotteries, newest first.")
class LotteryPage:
    items: list[LotteryView]
    total: int


@strawberry.type(description="A drawn lottery re-run on the hub from what it published.")
class LotteryVerification:
    lottery_id: str
    entrants: int
    matches: bool = strawberry.field(description="The re-run gave the published winners.")
    differences: list[str] = strawberry.field(description="Each disagreement (none: it stands).")


guard_fields(Invitation, *INVITEES)
guard_fields(CampaignPage, *MARKETING)
guard_fields(LotteryPage, *MARKETING)
guard_fields(LotteryVerification, *MARKETING)
guard_fields(CampaignView, *INVITEES)
for public_part in (LotteryWinner, LotteryView, TicketEntry):
    open_fields(public_part)  # published: anyone may read them
guard_fields(ShopperLottery, Scope.SHOPPER_READ)
guard_fields(PrizeClaimView, *INVITEES)

CampaignResult = Annotated[CampaignView | InvalidInput, strawberry.union("CampaignResult")]
CreateLotteryResult = Annotated[LotteryView | InvalidInput, strawberry.union("CreateLotteryResult")]
PublicValueResult = Annotated[
    LotteryView | InvalidInput | NotFound | AlreadyDrawn | AlreadySet,
    strawberry.union("SetLotteryPublicValueResult"),
]
DrawResult = Annotated[
    LotteryView | NotFound | NoPublicValue | TooEarly, strawberry.union("DrawLotteryResult")
]
InvitationResult = Annotated[
    Invitation | NotInvited | AnswerFinal, strawberry.union("InvitationResult")
]
CampaignPageResult = Annotated[CampaignPage | InvalidInput, strawberry.union("CampaignPageResult")]
LotteryPageResult = Annotated[LotteryPage | InvalidInput, strawberry.union("LotteryPageResult")]
VerificationResult = Annotated[
    LotteryVerification | NotFound | NotDrawn, strawberry.union("LotteryVerificationResult")
]
ClaimResult = Annotated[
    PrizeClaimView | NotFound | NotDrawn | Forbidden, strawberry.union("PrizeClaimResult")
]


@strawberry.input(description="A joint campaign: Jalali dates with hours, Tehran time.")
class CampaignInput:
    name_fa: str
    name_en: str = ""
    starts: str = strawberry.field(description="e.g. 1405/09/10 10:00")
    ends: str
    shops: list[str]
    reward: JSONDocument = strawberry.field(
        description="pooledMultiplierBp, visitBonusShops, visitBonusPoints, spendMinRial, "
        "spendCreditRial, creditValidDays."
    )
    budget_rial: Rial
    cost_rule: str = strawberry.field(description="equal, sales_share or mall.")
    sponsors: list[str] = strawberry.field(
        default_factory=list,
        description=f"Registered shops (slugs, at most {campaigns.MAX_SPONSORS}, invited or "
        "not) that pay the cost by the cost rule instead of the shops that accept; none with "
        "the rule mall.",
    )


@strawberry.input(description="A lottery: Jalali dates with hours, Tehran time.")
class LotteryInput:
    name_fa: str
    name_en: str = ""
    starts: str
    ends: str
    draw_at: str
    shops: list[str]
    rules: JSONDocument = strawberry.field(
        description="rialPerTicket, bonusPerShop, maxPerShopper."
    )
    prizes: JSONDocument = strawberry.field(
        description="[{count, descriptionFa, descriptionEn, sponsor}]"
    )


def _moment(raw: str, field: str) -> dt.datetime:
    try:
        return parse_moment(raw)
    except InvalidDate as exc:
        raise HubError(ProblemCode.INVALID_INPUT, str(exc), field) from None


def _invitations(
    event_id: str, kind: str, name_fa: str, shops: list[models.CampaignShop]
) -> list[Invitation]:
    return [
        Invitation(id=event_id, kind=kind, name_fa=name_fa, shop=i.shop, status=i.status)
        for i in shops
    ]


async def campaign_view(session: AsyncSession, row: models.Campaign) -> CampaignView:
    return (await campaign_views(session, [row]))[0]


async def campaign_views(
    session: AsyncSession, rows: Sequence[models.Campaign]
) -> list[CampaignView]:
    """Campaigns with their invited shops, read for all of them at once (a listing)."""
    shops = await lotteries.shops_of_many(session, [row.id for row in rows])
    return [_campaign_view(row, shops[row.id]) for row in rows]


def _campaign_view(row: models.Campaign, shops: list[models.CampaignShop]) -> CampaignView:
    return CampaignView(
        id=row.id,
        name_fa=row.name_fa,
        name_en=row.name_en,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        starts_jalali=jalali(row.starts_at),
        ends_jalali=jalali(row.ends_at),
        reward=JSONDocument(row.reward),
        budget_rial=Rial(row.budget_rial),
        spent_rial=Rial(row.spent_rial),
        cost_rule=row.cost_rule,
        sponsors=list(row.sponsors or []),
        status=row.status,
        shops=_invitations(row.id, "campaign", row.name_fa, shops),
    )


@strawberry.type
class CampaignQuery:
    @strawberry.field(extensions=requires(*INVITEES), description="Joint campaigns, newest first.")
    async def campaigns(self, info: strawberry.Info) -> list[CampaignView]:
        user = info.context["request"].user
        shop = user.shop if isinstance(user, Principal) else None
        async with sessions(info)() as session:
            views = await campaign_views(session, await campaigns.listing(session))
        # A shop sees the campaigns it was invited to or sponsors, not the others'.
        return [
            v
            for v in views
            if shop is None or shop in {i.shop for i in v.shops} or shop in v.sponsors
        ]

    @strawberry.field(
        extensions=requires(*MARKETING),
        description=f"Campaigns a page at a time (1-{event_pages.MAX_PAGE}), newest first.",
    )
    async def campaign_page(
        self, info: strawberry.Info, first: int = 20, offset: int = 0
    ) -> CampaignPageResult:
        async def work(session: AsyncSession) -> CampaignPage:
            page = await event_pages.campaigns(session, first, offset)
            return CampaignPage(items=await campaign_views(session, page.items), total=page.total)

        return await run(info, work)

    @strawberry.field(
        extensions=requires(*MARKETING),
        description=f"Lotteries a page at a time (1-{event_pages.MAX_PAGE}), newest first.",
    )
    async def lottery_page(
        self, info: strawberry.Info, first: int = 20, offset: int = 0
    ) -> LotteryPageResult:
        async def work(session: AsyncSession) -> LotteryPage:
            page = await event_pages.lotteries(session, first, offset)
            views = await lottery_views(session, page.items, operator=True)
            return LotteryPage(items=views, total=page.total)

        return await run(info, work)

    @strawberry.field(
        extensions=requires(*MARKETING),
        description="Re-run a drawn lottery on the hub from its published record and list.",
    )
    async def verify_lottery(self, info: strawberry.Info, lottery_id: str) -> VerificationResult:
        async def work(session: AsyncSession) -> LotteryVerification:
            done = await event_pages.verify(session, lottery_id)
            return LotteryVerification(
                lottery_id=done.lottery_id,
                entrants=done.entrants,
                matches=not done.differences,
                differences=done.differences,
            )

        return await run(info, work)

    @strawberry.field(extensions=requires(*MARKETING), description="One campaign, or null.")
    async def campaign(self, info: strawberry.Info, campaign_id: str) -> CampaignView | None:
        async with sessions(info)() as session:
            row = await session.get(models.Campaign, campaign_id)
            return None if row is None else await campaign_view(session, row)

    @strawberry.field(extensions=requires(*MARKETING), description="A campaign's report.")
    async def campaign_report(self, info: strawberry.Info, campaign_id: str) -> CampaignReport:
        async with sessions(info)() as session:
            return report_view(await campaign_report.report(session, campaign_id))

    @strawberry.field(extensions=public(), description="Lotteries, newest first (published).")
    async def lotteries(self, info: strawberry.Info) -> list[LotteryView]:
        async with sessions(info)() as session:
            rows = await lotteries.listing(session)
            return await lottery_views(session, rows, operator=is_operator(info))

    @strawberry.field(extensions=public(), description="One lottery with all it published.")
    async def lottery(self, info: strawberry.Info, lottery_id: str) -> LotteryView | None:
        async with sessions(info)() as session:
            row = await session.get(models.Lottery, lottery_id)
            if row is None:
                return None
            return await lottery_view(session, row, operator=is_operator(info))

    @strawberry.field(
        extensions=public(),
        description="A drawn lottery's frozen ticket list, in canonical order, a page at a time.",
    )
    async def lottery_tickets(
        self, info: strawberry.Info, lottery_id: str, after: int = 0, first: int = 1000
    ) -> list[TicketEntry]:
        async with sessions(info)() as session:
            if not is_operator(info) and await lotteries.listed_by_pseudonym(session, [lottery_id]):
                raise Refused(
                    "this lottery was drawn before entrant ids: its list names shoppers by "
                    "pseudonym, so only mall management reads it (a copy kept from before "
                    "still checks against its listDigest)"
                )
            rows = await lotteries.ticket_page(
                session, lottery_id, max(0, after), page_size(first, lotteries.MAX_TICKET_PAGE)
            )
        return [TicketEntry(position=i, entrant_id=e, tickets=t) for i, e, t in rows]

    @strawberry.field(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop's invitations to campaigns and lotteries.",
    )
    async def invitations(self, info: strawberry.Info) -> list[Invitation]:
        shop = node_of(info)
        async with sessions(info)() as session:
            events = [
                *[(c.id, "campaign", c.name_fa) for c in await campaigns.listing(session)],
                *[(lot.id, "lottery", lot.name_fa) for lot in await lotteries.listing(session)],
            ]
            shops = await lotteries.shops_of_many(session, [event_id for event_id, _, _ in events])
        return [
            i
            for event_id, kind, name_fa in events
            for i in _invitations(event_id, kind, name_fa, shops[event_id])
            if i.shop == shop
        ]


@strawberry.type
class CampaignMutation:
    @strawberry.mutation(
        extensions=requires(Scope.MALL_CAMPAIGNS),
        description="Create a joint campaign; its shops are invited (each answers from its node).",
    )
    async def create_campaign(self, info: strawberry.Info, input: CampaignInput) -> CampaignResult:
        author = actor(info)

        async def work(session: AsyncSession) -> CampaignView:
            data = campaigns.CampaignInput(
                name_fa=input.name_fa,
                name_en=input.name_en,
                starts_at=_moment(input.starts, "starts"),
                ends_at=_moment(input.ends, "ends"),
                shops=input.shops,
                reward=snake_keys(input.reward),
                budget_rial=input.budget_rial,
                cost_rule=input.cost_rule,
                sponsors=input.sponsors,
            )
            return await campaign_view(session, await campaigns.create(session, data, author))

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_CAMPAIGNS),
        description="Create a lottery: its seed's commitment is published at once.",
    )
    async def create_lottery(
        self, info: strawberry.Info, input: LotteryInput
    ) -> CreateLotteryResult:
        author = actor(info)

        async def work(session: AsyncSession) -> LotteryView:
            data = lotteries.LotteryInput(
                name_fa=input.name_fa,
                name_en=input.name_en,
                starts_at=_moment(input.starts, "starts"),
                ends_at=_moment(input.ends, "ends"),
                draw_at=_moment(input.draw_at, "drawAt"),
                shops=input.shops,
                rules=snake_keys(input.rules),
                prizes=snake_keys(input.prizes),
            )
            row = await lotteries.create(session, data, author)
            return await lottery_view(session, row, operator=True)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_CAMPAIGNS),
        description="Enter the public value (announced in public) before the draw.",
    )
    async def set_lottery_public_value(
        self, info: strawberry.Info, lottery_id: str, value: str
    ) -> PublicValueResult:
        async def work(session: AsyncSession) -> LotteryView:
            row = await lotteries.set_public_value(session, lottery_id, value)
            return await lottery_view(session, row, operator=True)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_CAMPAIGNS),
        description="Draw the lottery on a worker; follow its stage and progress on lottery().",
    )
    async def draw_lottery(self, info: strawberry.Info, lottery_id: str) -> DrawResult:
        async def work(session: AsyncSession) -> LotteryView:
            await lotteries.progress(session, lottery_id, "queued", 5)
            row = await lotteries.get(session, lottery_id)
            return await lottery_view(session, row, operator=True)

        result = await run(info, work)
        # Until the winners are told (stage "done"): a draw stopped midway resumes.
        if isinstance(result, LotteryView) and result.stage != "done":
            await info.context["state"].enqueue("hub.draw_lottery", lottery_id)
        return result

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop accepts or declines a campaign or lottery.",
    )
    async def respond_to_invitation(
        self, info: strawberry.Info, id: str, accept: bool
    ) -> InvitationResult:
        shop = node_of(info)

        async def work(session: AsyncSession) -> Invitation:
            row = await lotteries.respond(session, id, shop, accept)
            campaign = await session.get(models.Campaign, id)
            lottery = None if campaign else await session.get(models.Lottery, id)
            kind = "campaign" if campaign else "lottery"
            name = campaign.name_fa if campaign else lottery.name_fa if lottery else ""
            return Invitation(id=id, kind=kind, name_fa=name, shop=row.shop, status=row.status)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="The calling shop handed a prize over to its winner.",
    )
    async def claim_prize(self, info: strawberry.Info, lottery_id: str, place: int) -> ClaimResult:
        shop = node_of(info)
        author = actor(info)

        async def work(session: AsyncSession) -> PrizeClaimView:
            row = await lotteries.claim_prize(session, lottery_id, place, shop, author)
            return PrizeClaimView(
                lottery_id=row.lottery_id, place=row.place, shop=row.shop, claimed_at=row.claimed_at
            )

        return await run(info, work)
