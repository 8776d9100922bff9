"""A joint campaign's report over GraphQL, for mall marketing and reports: its totals and
its days so far (``hub.services.campaign_report``)."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.services import campaign_report
from mallnet.authz import guard_fields
from mallnet.gql import Rial
from mallnet.scopes import Scope

MARKETING = (Scope.MALL_CAMPAIGNS, Scope.MALL_ADMIN, Scope.MALL_REPORTS)
WEEKS = campaign_report.BASELINE_WEEKS


@strawberry.type(description="One Tehran day of a campaign.")
class CampaignReportDay:
    day: dt.date
    sales_rial: Rial = strawberry.field(description="At the participating shops that day.")
    baseline_rial: Rial = strawberry.field(
        description=f"The same weekday of the {WEEKS} weeks before, averaged (cut down to "
        "whole Rial: the days' baselines may add up to a little less than the total's)."
    )
    rewards: int = strawberry.field(description="Rewards given for purchases made that day.")
    cost_rial: Rial = strawberry.field(description="What those rewards cost the budget.")


@strawberry.type(description="What a campaign did: participants, cost, incremental sales.")
class CampaignReport:
    participants: int
    rewards: int
    cost_rial: Rial
    sales_rial: Rial = strawberry.field(description="At the participating shops, in its days.")
    baseline_rial: Rial = strawberry.field(
        description=f"The same weekdays of the {WEEKS} weeks before, averaged."
    )
    incremental_rial: Rial
    cost_per_incremental_rial: str | None = strawberry.field(
        description="Cost / incremental sales (4 decimals); null without incremental sales."
    )
    days: list[CampaignReportDay] = strawberry.field(
        description=f"Its days up to today, oldest first: at most the latest "
        f"{campaign_report.MAX_SERIES_DAYS} (none before it starts)."
    )


guard_fields(CampaignReport, *MARKETING)
guard_fields(CampaignReportDay, *MARKETING)


def report_view(r: campaign_report.Report) -> CampaignReport:
    ratio = r.cost_per_incremental_rial
    return CampaignReport(
        participants=r.participants,
        rewards=r.rewards,
        cost_rial=Rial(r.cost_rial),
        sales_rial=Rial(r.sales_rial),
        baseline_rial=Rial(r.baseline_rial),
        incremental_rial=Rial(r.incremental_rial),
        cost_per_incremental_rial=None if ratio is None else str(ratio),
        days=[
            CampaignReportDay(
                day=d.day,
                sales_rial=Rial(d.sales_rial),
                baseline_rial=Rial(d.baseline_rial),
                rewards=d.rewards,
                cost_rial=Rial(d.cost_rial),
            )
            for d in r.days
        ],
    )
