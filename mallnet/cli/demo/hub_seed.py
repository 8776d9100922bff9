"""What the demo's hub holds before anyone clicks: the shops, a partnership, the network's
value and settlement rules, mall marketing's festival and draws, and a sign-in for each
shop's manager and each mall role. Each part is one function, run in ``run``'s
transaction, returning the lines it prints."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.services import campaigns, lotteries, partnerships, people, settlement_policy, value
from mallnet.db import utcnow
from mallnet.jalali import TEHRAN


@dataclass(frozen=True)
class DemoShop:
    slug: str
    name_fa: str
    name_en: str
    category: str
    floor: str
    unit: str


DEMO_SHOPS = (
    DemoShop("ketab-sara", "کتاب‌سرا", "Ketab Sara bookshop", "books", "1", "104"),
    DemoShop("kafsh-arya", "کفش آریا", "Arya shoes", "shoes", "2", "212"),
    DemoShop("cafe-sepid", "کافه سپید", "Cafe Sepid", "cafe", "3", "F-07"),
    DemoShop("salon-roya", "سالن زیبایی رویا", "Roya beauty salon", "beauty", "2", "230"),
)


async def cafe_welcomes_readers(session: AsyncSession) -> str:
    """The café welcomes the bookshop's customers who spend at least 100,000 toman there:
    a free coffee's worth of credit. The bookshop agrees."""
    offer = await partnerships.publish_offer(
        session,
        "cafe-sepid",
        partnerships.OfferInput(
            origin_shops=["ketab-sara"],
            min_purchase_rial=1_000_000,
            monthly_cap=100,
            welcome_credit_rial=500_000,
        ),
    )
    await partnerships.opt_in(session, "ketab-sara", offer.id)
    return f"partnership: cafe-sepid welcomes ketab-sara's customers ({offer.id})"


# Mall management's demo sign-ins: (who, username, role).
MALL_ROLES = (
    ("mall console", "mall-admin", "mall_admin"),
    ("mall marketing", "mall-marketing", "mall_marketing"),
    ("mall finance", "mall-finance", "mall_finance"),
)


async def shop_managers(session: AsyncSession) -> list[str]:
    """A manager's sign-in for each shop's dashboard, and mall management's."""
    lines = []
    for shop in DEMO_SHOPS:
        password = secrets.token_urlsafe(9)
        await people.create_user(session, f"{shop.slug}-manager", password, "manager", shop.slug)
        lines.append(f"{shop.slug} manager sign-in: {shop.slug}-manager {password}")
    # The mall console's sign-ins (its client is the hub's own: hub-console), one per mall
    # role: the admin (shops, users, value), marketing (campaigns, lotteries), finance.
    for who, username, role in MALL_ROLES:
        password = secrets.token_urlsafe(9)
        await people.create_user(session, username, password, role, None)
        lines.append(f"{who} sign-in: {username} {password}")
    return lines


async def network_value_rules(session: AsyncSession) -> None:
    """The mall values a pooled point at 100 toman. The bookshop gives half of what its
    club awards again as pooled points, the café a fifth; the shoe shop gives 5% of a
    purchase of 500,000 toman or more as credit at the café, valid 30 days. Mall finance
    sets how the shared fund settles."""
    await value.set_point_value(session, 1_000, "demo:mall-admin")
    policies: dict[str, dict[str, Any]] = {
        "ketab-sara": {"pooled_share_bp": 5_000},
        "cafe-sepid": {"pooled_share_bp": 2_000},
        "kafsh-arya": {
            "credit_rules": [
                {
                    "min_purchase_rial": 5_000_000,
                    "credit_bp": 500,
                    "accepted_shops": ["cafe-sepid"],
                    "valid_days": 30,
                }
            ]
        },
    }
    for shop, policy in policies.items():
        await value.set_issuance_policy(session, shop, policy, f"demo:{shop}-manager")
    # Postpaid: each shop is billed at the close for its value spent elsewhere; the fund
    # keeps 1% of what a redeeming shop receives, but nothing on the shoe shop's credit at
    # the café (their own arrangement); expired value goes to the fund; daily periods.
    await settlement_policy.set_policy(
        session,
        {
            "funding": "postpaid",
            "fee_bp": 100,
            "breakage": "fund",
            "period": "daily",
            "agreements": [{"issuer": "kafsh-arya", "redeemer": "cafe-sepid", "fee_bp": 0}],
        },
        "demo:mall-finance",
    )


async def mall_events(session: AsyncSession) -> list[str]:
    """Mall marketing's autumn festival among the bookshop and the café (both accept):
    pooled points doubled for a month, within a 5,000,000-toman budget shared equally; and
    a lottery among their shoppers — a ticket per 100,000 toman, one more per shop visited,
    drawn when the month ends. The seeded purchases already earn both. And a short draw
    among every shop's shoppers, ready to draw from the console five minutes after the
    start."""
    now = utcnow()
    month = now + dt.timedelta(days=30)
    shops = ["ketab-sara", "cafe-sepid"]
    festival = await campaigns.create(
        session,
        campaigns.CampaignInput(
            name_fa="جشنواره پاییزه",
            name_en="Autumn festival",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=month,
            shops=shops,
            reward={"pooled_multiplier_bp": 20_000},
            budget_rial=50_000_000,
            cost_rule="equal",
        ),
        "demo:mall-marketing",
    )
    draw = await lotteries.create(
        session,
        lotteries.LotteryInput(
            name_fa="قرعه‌کشی پاییزه",
            name_en="Autumn draw",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=month,
            draw_at=month,
            shops=shops,
            rules={"rial_per_ticket": 1_000_000, "bonus_per_shop": 1},
            prizes=[
                {"count": 1, "description_fa": "کارت هدیه ۵ میلیون تومانی"},
                {"count": 2, "description_fa": "یک ماه قهوه رایگان", "sponsor": "cafe-sepid"},
            ],
        ),
        "demo:mall-marketing",
    )
    # A short draw the newcomer can run from the console minutes after the start: every
    # shop's seeded purchases earn its tickets; mall marketing sets the public value, draws
    # it (the worker shows its progress) and verifies the winners in the browser.
    soon = now + dt.timedelta(minutes=5)
    everyone = [shop.slug for shop in DEMO_SHOPS]
    opening = await lotteries.create(
        session,
        lotteries.LotteryInput(
            name_fa="قرعه‌کشی هفتهٔ افتتاح",
            name_en="Opening-week draw",
            starts_at=now - dt.timedelta(hours=1),
            ends_at=soon,
            draw_at=soon,
            shops=everyone,
            rules={"rial_per_ticket": 1_000_000, "bonus_per_shop": 0},
            prizes=[{"count": 2, "description_fa": "کارت هدیهٔ یک میلیون تومانی"}],
        ),
        "demo:mall-marketing",
    )
    for event, invited in ((festival.id, shops), (draw.id, shops), (opening.id, everyone)):
        for shop in invited:
            await lotteries.respond(session, event, shop, accept=True)
    at = soon.astimezone(TEHRAN).strftime("%H:%M")
    return [
        f"campaign: {festival.name_en} ({festival.id}), ketab-sara and cafe-sepid",
        f"lottery: {draw.name_en} ({draw.id}), commitment {draw.commitment}",
        f"lottery: {opening.name_en} ({opening.id}), drawable from the console at {at} Tehran",
    ]
