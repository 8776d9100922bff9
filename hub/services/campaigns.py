"""Joint campaigns run by mall management, applied to the purchase events shops relay.

A campaign's rewards — more pooled points (a multiplier on what the shop's own policy
issued), bonus points for visiting N distinct participating shops, credit for a minimum
spend (valid at the participating shops) — are network value issued by
``campaign:<id>``: settlement bills them by the campaign's cost rule (equally, by sales
share, or to the mall) to the participating shops — or to its sponsors, the shops named to
pay instead (invited or not). The budget is never exceeded, even under concurrent
purchases (one conditional update decides), and a campaign whose budget cannot pay a
reward stops by itself. Its report is ``hub.services.campaign_report``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.ids import new_event_id
from hub.db.models import Campaign, CampaignReward, CampaignShop, CampaignVisit, ValueLot
from hub.domain.problems import HubError, ProblemCode
from hub.domain.value_rules import POOLED, TARGETED
from hub.services import registry, value
from mallnet.db import utcnow
from mallnet.values import MAX_RIAL
from settlement.policy import CostSharing, SettlementPolicy

POINTS_VALID_DAYS = 365
MAX_SPONSORS = 100


class CampaignError(HubError):
    """An expected failure of a campaign use case (nothing was written)."""


class Reward(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # 20,000 = twice the pooled points the shop's own policy issues on a purchase.
    pooled_multiplier_bp: int = Field(default=10_000, ge=10_000, le=100_000, strict=True)
    visit_bonus_shops: int | None = Field(default=None, ge=2, le=100, strict=True)
    visit_bonus_points: int = Field(default=0, ge=0, le=10**9, strict=True)
    spend_min_rial: int | None = Field(default=None, ge=1, le=MAX_RIAL, strict=True)
    spend_credit_rial: int = Field(default=0, ge=0, le=10**12, strict=True)
    credit_valid_days: int = Field(default=30, ge=1, le=3650, strict=True)


@dataclass(frozen=True)
class CampaignInput:
    name_fa: str
    name_en: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    shops: Sequence[str]
    reward: dict[str, Any]
    budget_rial: int
    cost_rule: Literal["equal", "sales_share", "mall"] | str
    # Shops that pay the cost instead of those that accept (none: those that accept pay).
    sponsors: Sequence[str] = ()


async def create(session: AsyncSession, data: CampaignInput, actor: str) -> Campaign:
    try:
        reward = Reward.model_validate(data.reward)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "reward"
        raise CampaignError(
            ProblemCode.INVALID_INPUT, f"{where}: {first['msg']}", "reward"
        ) from None
    if data.cost_rule not in ("equal", "sales_share", "mall"):
        raise CampaignError(ProblemCode.INVALID_INPUT, "equal, sales_share or mall", "costRule")
    if not 0 < data.budget_rial <= MAX_RIAL:
        raise CampaignError(ProblemCode.INVALID_INPUT, "a positive budget in Rial", "budgetRial")
    if data.starts_at >= data.ends_at:
        raise CampaignError(ProblemCode.INVALID_INPUT, "a campaign ends after it starts", "endsAt")
    if not 1 <= len(data.name_fa) <= 120 or len(data.name_en) > 120:
        raise CampaignError(
            ProblemCode.INVALID_INPUT, "a Persian name of 1-120 characters", "nameFa"
        )
    slugs = sorted(set(data.shops))
    unknown = await registry.unknown_shops(session, slugs)
    if not slugs or unknown:
        raise CampaignError(
            ProblemCode.INVALID_INPUT, f"name known shops (unknown: {unknown})", "shops"
        )
    sponsors = await _sponsors(session, data)
    row = Campaign(
        id=new_event_id(),
        name_fa=data.name_fa,
        name_en=data.name_en,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reward=reward.model_dump(),
        budget_rial=data.budget_rial,
        spent_rial=0,
        cost_rule=data.cost_rule,
        sponsors=sponsors,
        status="active",
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    for shop in slugs:
        session.add(CampaignShop(event_id=row.id, shop=shop, status="invited"))
    await session.flush()
    return row


async def _sponsors(session: AsyncSession, data: CampaignInput) -> list[str]:
    """The sponsors, checked: registered shops, each once, and none when the mall pays."""
    sponsors = list(data.sponsors)
    if not sponsors:
        return []
    if data.cost_rule == "mall":
        raise CampaignError(
            ProblemCode.INVALID_INPUT, "the mall pays this campaign: name no sponsors", "sponsors"
        )
    if len(set(sponsors)) != len(sponsors):
        raise CampaignError(ProblemCode.INVALID_INPUT, "a sponsor is named twice", "sponsors")
    if len(sponsors) > MAX_SPONSORS:
        raise CampaignError(
            ProblemCode.INVALID_INPUT, f"at most {MAX_SPONSORS} sponsors", "sponsors"
        )
    unknown = await registry.unknown_shops(session, sponsors)
    if unknown:
        raise CampaignError(
            ProblemCode.INVALID_INPUT, f"name known shops (unknown: {unknown})", "sponsors"
        )
    return sorted(sponsors)


async def listing(session: AsyncSession) -> list[Campaign]:
    rows = await session.scalars(select(Campaign).order_by(Campaign.created_at.desc()))
    return list(rows.all())


async def get(session: AsyncSession, campaign_id: str) -> Campaign:
    row = await session.get(Campaign, campaign_id)
    if row is None:
        raise CampaignError(ProblemCode.NOT_FOUND, f"no campaign {campaign_id!r}", "campaignId")
    return row


def issuer(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


async def accepted(session: AsyncSession, campaign_id: str) -> list[str]:
    rows = await session.scalars(
        select(CampaignShop.shop).where(
            CampaignShop.event_id == campaign_id, CampaignShop.status == "accepted"
        )
    )
    return sorted(rows.all())


async def _pay(session: AsyncSession, campaign: Campaign, units: int, per_unit: int) -> int:
    """Take up to ``units`` worth of ``per_unit`` Rial each from the budget (one conditional
    update: two purchases at once can never both take the last of it). A reward larger
    than what is left gets what is left, in whole units, and the campaign stops there.
    Returns the units paid for."""
    for wanted in (units, None):
        if wanted is None:
            left = await session.scalar(
                select(Campaign.budget_rial - Campaign.spent_rial).where(
                    Campaign.id == campaign.id, Campaign.status == "active"
                )
            )
            wanted = min(units, int(left or 0) // per_unit)
            if wanted <= 0:
                break
        spent = (
            await session.execute(
                update(Campaign)
                .where(
                    Campaign.id == campaign.id,
                    Campaign.status == "active",
                    Campaign.spent_rial + wanted * per_unit <= Campaign.budget_rial,
                )
                .values(spent_rial=Campaign.spent_rial + wanted * per_unit)
                .returning(Campaign.spent_rial, Campaign.budget_rial)
            )
        ).one_or_none()
        if spent is not None:
            if wanted < units or spent[0] == spent[1]:
                await _stop(session, campaign)
            return wanted
    await _stop(session, campaign)
    return 0


async def _stop(session: AsyncSession, campaign: Campaign) -> None:
    await session.execute(
        update(Campaign).where(Campaign.id == campaign.id).values(status="stopped")
    )


@dataclass(frozen=True)
class Purchase:
    shop: str
    event_id: str
    receipt: str
    pseudonym: str
    total_rial: int
    at: dt.datetime
    issued: Sequence[ValueLot]  # what the shop's own policy issued on it
    paid_with_value_rial: int = 0  # credit and network value: no reward is earned on it


async def apply_purchase(session: AsyncSession, purchase: Purchase) -> list[CampaignReward]:
    """Every active campaign the shop accepted rewards the purchase (once per purchase
    and reward; the visits bonus once per shopper)."""
    campaigns = (
        await session.scalars(
            select(Campaign)
            .join(CampaignShop, CampaignShop.event_id == Campaign.id)
            .where(
                CampaignShop.shop == purchase.shop,
                CampaignShop.status == "accepted",
                Campaign.status == "active",
                Campaign.starts_at <= purchase.at,
                Campaign.ends_at > purchase.at,
            )
            .order_by(Campaign.id)
        )
    ).all()
    given: list[CampaignReward] = []
    for campaign in campaigns:
        given += await _reward(session, campaign, purchase)
    return given


async def _reward(
    session: AsyncSession, campaign: Campaign, purchase: Purchase
) -> list[CampaignReward]:
    reward = Reward.model_validate(campaign.reward)
    pooled = [lot for lot in purchase.issued if lot.kind == POOLED]
    rate = pooled[0].rial_per_point if pooled else await value.point_value_at(session, purchase.at)
    paid = purchase.total_rial - purchase.paid_with_value_rial
    # The shop's own pooled points, as the hub issued them; never taken as worth more than
    # what the purchase took in (the multiplier is paid by every participating shop).
    base = min(sum(lot.amount for lot in pooled), max(0, paid) // rate)
    wanted: list[tuple[str, str, str, int, int]] = []  # kind, occasion, lot kind, amount, rate
    extra = base * (reward.pooled_multiplier_bp - 10_000) // 10_000
    if extra > 0:
        wanted.append(("multiplier", purchase.event_id, POOLED, extra, rate))
    if reward.visit_bonus_shops and reward.visit_bonus_points:
        visited = await _visit(session, campaign.id, purchase)
        if visited >= reward.visit_bonus_shops:
            wanted.append(
                ("visit_bonus", purchase.pseudonym, POOLED, reward.visit_bonus_points, rate)
            )
    spend = reward.spend_min_rial
    if spend and reward.spend_credit_rial and paid >= spend:
        wanted.append(("spend_credit", purchase.event_id, TARGETED, reward.spend_credit_rial, 1))
    given = []
    for kind, occasion, lot_kind, amount, per_unit in wanted:
        row = await _give(session, campaign, purchase, kind, occasion, lot_kind, amount, per_unit)
        if row is not None:
            given.append(row)
    return given


async def _visit(session: AsyncSession, campaign_id: str, purchase: Purchase) -> int:
    key = (campaign_id, purchase.pseudonym, purchase.shop)
    if await session.get(CampaignVisit, key) is None:
        session.add(
            CampaignVisit(campaign_id=campaign_id, pseudonym=purchase.pseudonym, shop=purchase.shop)
        )
        await session.flush()
    count = await session.scalar(
        select(func.count()).where(
            CampaignVisit.campaign_id == campaign_id,
            CampaignVisit.pseudonym == purchase.pseudonym,
        )
    )
    return int(count or 0)


async def _give(
    session: AsyncSession,
    campaign: Campaign,
    purchase: Purchase,
    kind: str,
    occasion: str,
    lot_kind: str,
    amount: int,
    per_unit: int,
) -> CampaignReward | None:
    seen = await session.scalar(
        select(CampaignReward).where(
            CampaignReward.campaign_id == campaign.id,
            CampaignReward.occasion == occasion,
            CampaignReward.kind == kind,
        )
    )
    if seen is not None:
        return None
    amount = await _pay(session, campaign, amount, per_unit)
    if amount == 0:
        return None
    targeted = lot_kind == TARGETED
    lot = await value.issue(
        session,
        value.IssueInput(
            pseudonym=purchase.pseudonym,
            kind=lot_kind,
            issuer=issuer(campaign.id),
            amount=amount,
            expires_at=purchase.at
            + dt.timedelta(
                days=Reward.model_validate(campaign.reward).credit_valid_days
                if targeted
                else POINTS_VALID_DAYS
            ),
            reason=f"{campaign.name_en or campaign.name_fa}: {kind.replace('_', ' ')}",
            # The purchase's own origin: refunded at its shop, the campaign's reward is
            # taken back with the shop's own (pro rata, what is still unspent).
            origin=value.purchase_origin(purchase.shop, purchase.receipt),
            key=f"campaign:{campaign.id}:{kind}:{occasion}",
            rial_per_point=per_unit,
            accepted_shops=await accepted(session, campaign.id) if targeted else (),
        ),
        purchase.at,
    )
    row = CampaignReward(
        campaign_id=campaign.id,
        occasion=occasion,
        kind=kind,
        pseudonym=purchase.pseudonym,
        shop=purchase.shop,
        cost_rial=amount * per_unit,
        lot_id=lot.id,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def cost_rules(session: AsyncSession, policy: SettlementPolicy) -> list[CostSharing]:
    """Each campaign's cost rule among its sponsors, or the shops that accepted it when it
    has none, for settlement (a rule mall finance declared in the policy for the same
    campaign wins). A sponsor's sales share is its own sales, as any shop's."""
    declared = {c.issuer for c in policy.cost_sharing}
    rules = []
    for campaign in await listing(session):
        name, rule = issuer(campaign.id), campaign.cost_rule
        if name in declared:
            continue
        payers: list[str] = []
        if rule != "mall":
            payers = sorted(campaign.sponsors or []) or await accepted(session, campaign.id)
            if not payers:
                continue
        rules.append(CostSharing(issuer=name, rule=rule, shops=payers))
    return rules
