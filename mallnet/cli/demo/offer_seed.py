"""The demo's offers (seed 001's examples): a beauty salon whose members' histories fit
each of the seed's offers, the six offers live, and a few of the members back since —
some granted the offer, some held back in its control group — so the report has both
sides; and at the shoe shop the seed's margin example, left as a draft for its manager
to check and start from the dashboard.

Everything goes through the node's own services; a second run finds the offers there and
changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from mallnet.db import utcnow
from shop_node.db.models import Member, Offer, OfferGrant
from shop_node.domain.earning import Line
from shop_node.services import offers, purchases
from shop_node.services.runtime import NodeRuntime

ACTOR = "demo:seed"
SALON, SHOES = "salon-roya", "kafsh-arya"
TOMAN = 10


def _phone(n: int) -> str:
    return f"0912222{n:04d}"


SARA, ALI = "09121234567", "09351112233"  # Ali's first salon visit: node_seed's SR-1001
# (phone, product group, toman per visit, visits, days between visits, days since the last)
HISTORIES: list[tuple[str, str, int, int, int, int]] = [
    (SARA, "nails", 450_000, 3, 20, 12),  # nails, never colour
    (_phone(1), "hair", 1_500_000, 4, 15, 5),  # 6,000,000 toman in all, silver
    (_phone(2), "hair", 250_000, 11, 7, 3),  # more than ten visits
    (_phone(3), "skin", 300_000, 5, 20, 120),  # a regular who has not come for 4 months
    # many small visits: more than five, under 200,000 toman on average
    *[(_phone(10 + n), "hair", 150_000 + 5_000 * n, 6, 10, 4 + n) for n in range(12)],
]

SALON_OFFERS: list[dict[str, Any]] = [
    {
        "kind": "permanent",
        "name_fa": "مشتری همیشگی: ۱۰٪ اعتبار بیشتر",
        "name_en": "Regulars: 10% more credit",
        "audience": {"kind": "visits", "gt": 10},
        "reward": {"extra_credit_bp": 1_000},
    },
    {
        "kind": "permanent",
        "name_fa": "خرید بالای ۵ میلیون: ۵٪ تخفیف و ۵٪ اعتبار",
        "name_en": "Over 5 million spent: 5% off and 5% credit",
        "audience": {"kind": "total_spend_rial", "gt": 5_000_000 * TOMAN},
        "reward": {"discount_bp": 500, "extra_credit_bp": 500},
    },
    {
        "kind": "permanent",
        "name_fa": "سطح نقره‌ای: ۱۵٪ اعتبار بیشتر",
        "name_en": "Silver members: 15% more credit",
        "audience": {"kind": "tier", "codes": ["silver"]},
        "reward": {"extra_credit_bp": 1_500},
    },
    {
        "kind": "one_time",
        "name_fa": "خرید بزرگ‌تر، اعتبار بیشتر",
        "name_en": "A bigger basket, more credit",
        "audience": {
            "kind": "all",
            "of": [
                {"kind": "visits", "gt": 5},
                {"kind": "average_basket_rial", "lt": 200_000 * TOMAN},
            ],
        },
        "when": {"kind": "basket_rial", "gt": 300_000 * TOMAN},
        "reward": {"extra_credit_bp": 1_000},
        "valid_days": 30,
        "control_bp": 5_000,
    },
    {
        "kind": "one_time",
        "name_fa": "رنگ و مش با ۲۰٪ تخفیف",
        "name_en": "Colour and highlights 20% off",
        "audience": {
            "kind": "all",
            "of": [
                {"kind": "bought_group", "group": "nails"},
                {"kind": "never_bought_group", "group": "colour"},
            ],
        },
        "when": {"kind": "basket_has_group", "groups": ["colour"]},
        "reward": {"discount_bp": 2_000, "groups": ["colour"]},
        "valid_days": 30,
        "control_bp": 0,
    },
    {
        "kind": "one_time",
        "name_fa": "دلمان برایتان تنگ شده: ۳۵٪ اعتبار بیشتر",
        "name_en": "We miss you: 35% more credit",
        "audience": {
            "kind": "all",
            "of": [
                {"kind": "visits", "gt": 4},
                {"kind": "days_since_last_visit", "gt": 90},
            ],
        },
        "reward": {"extra_credit_bp": 3_500},
        "valid_days": 7,
        "control_bp": 0,
    },
]

# Seed 001's shoe shop: 20% credit instead of the club's share on baskets of 600,000 toman
# or more — its manager checks the margin and the backtest, then starts it.
SHOE_DRAFT: dict[str, Any] = {
    "kind": "permanent",
    "name_fa": "خرید ۶۰۰ هزار تومانی: اعتبار بیشتر",
    "name_en": "600,000 toman baskets: more credit",
    "when": {"kind": "basket_rial", "gte": 600_000 * TOMAN},
    "reward": {"extra_credit_bp": 1_000},
}


async def _count_offers(runtime: NodeRuntime) -> int:
    async def read(session: Any) -> int:
        found: int = await session.scalar(select(func.count()).select_from(Offer))
        return found

    return await runtime.read(read)


async def _buy(
    runtime: NodeRuntime, receipt: str, phone: str, group: str, toman: int, at: dt.datetime | None
) -> None:
    await purchases.record_purchase(
        runtime,
        purchases.PurchaseInput(
            receipt_id=receipt,
            total_rial=toman * TOMAN,
            lines=[Line(group, toman * TOMAN)],
            phone=phone,
            occurred_at=at,
        ),
        ACTOR,
    )


async def seed_offers(runtime: NodeRuntime, shop: str) -> list[str]:
    """The shop's demo offers, once; lines to print."""
    if shop not in (SALON, SHOES) or await _count_offers(runtime):
        return []
    if shop == SHOES:
        draft = await offers.create(runtime, SHOE_DRAFT, ACTOR)
        return [f"{shop}: draft offer {draft.id} ({SHOE_DRAFT['name_en']}) to check and start"]
    now = utcnow()
    for person, (phone, group, toman, visits, every, last) in enumerate(HISTORIES):
        for n in range(visits):
            days_ago = last + every * (visits - 1 - n)
            at = now - dt.timedelta(days=days_ago, hours=person % 5)
            await _buy(runtime, f"SR-{person:02d}-{n:02d}", phone, group, toman, at)
    lines = []
    for document in SALON_OFFERS:
        draft = await offers.create(runtime, document, ACTOR)
        started = await offers.activate(runtime, draft.id, ACTOR, "demo: seed 001's example")
        lines.append(
            f"{shop}: offer {document['name_en']} live"
            + (
                f", granted {started.granted}, control {started.control}"
                if document["kind"] == "one_time"
                else ""
            )
        )
    await _since_launch(runtime)
    return lines


async def _since_launch(runtime: NodeRuntime) -> None:
    """The story since the offers started (seeded behaviour, not a measurement): two of
    every three members granted the bigger-basket offer come back with a basket over
    300,000 toman, one of every three held back does too; Ali comes for colour."""

    async def bigger_basket(session: Any) -> list[tuple[str, bool]]:
        rows = await session.execute(
            select(Member.phone, OfferGrant.control)
            .join(OfferGrant, OfferGrant.member_id == Member.id)
            .join(Offer, Offer.id == OfferGrant.offer_id)
            .where(Offer.document["name_en"].as_string() == SALON_OFFERS[3]["name_en"])
            .order_by(Member.id)
        )
        return [(str(phone), bool(control)) for phone, control in rows]

    seen = {True: 0, False: 0}
    for phone, control in await runtime.read(bigger_basket):
        seen[control] += 1
        comes = seen[control] % 3 == 0 if control else seen[control] % 3 != 0
        if comes:
            await _buy(runtime, f"SR-{phone[-4:]}-back", phone, "hair", 350_000, None)
    # Ali, granted the colour offer too, uses it; Sara keeps hers (the app shows it).
    await _buy(runtime, "SR-ali-colour", ALI, "colour", 800_000, None)
