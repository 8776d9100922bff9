"""Joint campaigns and lotteries, answered from the shop's own dashboard: the node asks the
hub for the shop's invitations, accepts or declines them, and records a prize handed over."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from mallnet.authz import guard_fields, requires
from shop_node.api.access import MANAGE, STAFF
from shop_node.api.partnerships import HubAnswer, ask


@strawberry.type(description="The shop invited to a joint campaign or lottery, and its answer.")
class CampaignInvitation:
    id: str = strawberry.field(description="The campaign's or lottery's id.")
    kind: str = strawberry.field(description="campaign or lottery.")
    name_fa: str
    shop: str
    status: str = strawberry.field(description="invited, accepted or declined.")

    @classmethod
    def of(cls, data: dict[str, Any]) -> CampaignInvitation:
        return cls(
            id=data["id"],
            kind=data["kind"],
            name_fa=data["nameFa"],
            shop=data["shop"],
            status=data["status"],
        )


@strawberry.type(description="A lottery's winner and who handed the prize over.")
class NodeLotteryWinner:
    place: int
    entrant_id: str = strawberry.field(
        description="The winner's entrant id in the lottery, as published (never a "
        "pseudonym): the winner finds it, and her place, in her app."
    )
    prize_fa: str
    sponsor: str | None = strawberry.field(description="The shop that gives the prize.")
    claimed_by_shop: str | None = strawberry.field(description="The shop that handed it over.")

    @classmethod
    def of(cls, data: dict[str, Any]) -> NodeLotteryWinner:
        return cls(
            place=int(data["place"]),
            entrant_id=data["entrantId"],
            prize_fa=data["prizeFa"],
            sponsor=data["sponsor"],
            claimed_by_shop=data["claimedByShop"],
        )


@strawberry.type(description="A lottery of the mall, as the hub publishes it.")
class NodeLottery:
    id: str
    name_fa: str
    name_en: str
    status: str = strawberry.field(description="open, drawing or drawn.")
    stage: str
    draw_at: dt.datetime
    commitment: str = strawberry.field(description="SHA-256 of the secret seed.")
    winners: list[NodeLotteryWinner]

    @classmethod
    def of(cls, data: dict[str, Any]) -> NodeLottery:
        return cls(
            id=data["id"],
            name_fa=data["nameFa"],
            name_en=data["nameEn"],
            status=data["status"],
            stage=data["stage"],
            draw_at=dt.datetime.fromisoformat(data["drawAt"]),
            commitment=data["commitment"],
            winners=[NodeLotteryWinner.of(w) for w in data["winners"]],
        )


@strawberry.type(description="A prize this shop handed over to its winner.")
class PrizeClaim:
    lottery_id: str
    place: int
    shop: str
    claimed_at: dt.datetime

    @classmethod
    def of(cls, data: dict[str, Any]) -> PrizeClaim:
        return cls(
            lottery_id=data["lotteryId"],
            place=int(data["place"]),
            shop=data["shop"],
            claimed_at=dt.datetime.fromisoformat(data["claimedAt"]),
        )


for staff_part in (CampaignInvitation, NodeLotteryWinner, NodeLottery, PrizeClaim):
    guard_fields(staff_part, *STAFF)

InvitationAnswer = Annotated[
    CampaignInvitation | HubAnswer, strawberry.union("CampaignInvitationResult")
]
PrizeClaimAnswer = Annotated[PrizeClaim | HubAnswer, strawberry.union("RecordPrizeClaimResult")]


@strawberry.type
class CampaignQuery:
    @strawberry.field(
        extensions=requires(*STAFF),
        description="This shop's invitations to joint campaigns and lotteries (asks the hub).",
    )
    async def invitations(self, info: strawberry.Info) -> list[CampaignInvitation]:
        answer = await ask(info, lambda hub: hub.invitations())
        return [] if isinstance(answer, HubAnswer) else [CampaignInvitation.of(i) for i in answer]

    @strawberry.field(
        extensions=requires(*STAFF),
        description="The mall's lotteries, newest first, with winners once drawn (asks the hub).",
    )
    async def lotteries(self, info: strawberry.Info) -> list[NodeLottery]:
        answer = await ask(info, lambda hub: hub.lotteries())
        return [] if isinstance(answer, HubAnswer) else [NodeLottery.of(x) for x in answer]


@strawberry.type
class CampaignMutation:
    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Accept or decline a joint campaign or lottery this shop was invited to.",
    )
    async def respond_to_invitation(
        self, info: strawberry.Info, id: str, accept: bool
    ) -> InvitationAnswer:
        answer = await ask(info, lambda hub: hub.respond_to_invitation(id, accept))
        return answer if isinstance(answer, HubAnswer) else CampaignInvitation.of(answer)

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Record that this shop handed a lottery prize over to its winner.",
    )
    async def record_prize_claim(
        self, info: strawberry.Info, lottery_id: str, place: int
    ) -> PrizeClaimAnswer:
        answer = await ask(info, lambda hub: hub.claim_prize(lottery_id, place))
        return answer if isinstance(answer, HubAnswer) else PrizeClaim.of(answer)
