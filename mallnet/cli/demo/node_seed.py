"""The demo network's story for each shop's club: a policy, members, purchases, a refund.

Everything goes through the same services as the API, with fixed receipt ids and
idempotency keys, so seeding twice (a second ``make demo`` on the same data) changes
nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.cli.demo.hub_seed import DEMO_SHOPS
from mallnet.cli.demo.messaging_seed import birthday_today, link_saras_chat, messaging_policy
from mallnet.db import utcnow
from shop_node.domain.earning import Line
from shop_node.domain.errors import MemberExists
from shop_node.services import adjustments, members, policy, purchases
from shop_node.services.runtime import NodeRuntime

ACTOR = "demo:seed"


def _group(code: str, fa: str, en: str, margin_bp: int = 3000) -> dict[str, Any]:
    return {"code": code, "name_fa": fa, "name_en": en, "margin_bp": margin_bp}


def _tier(
    code: str, fa: str, en: str, threshold: int, multiplier_bp: int = 10_000
) -> dict[str, Any]:
    return {
        "code": code,
        "name_fa": fa,
        "name_en": en,
        "threshold": threshold,
        "multiplier_bp": multiplier_bp,
    }


BRONZE_SILVER_GOLD = [
    _tier("bronze", "برنزی", "Bronze", 0),
    _tier("silver", "نقره‌ای", "Silver", 300, 12_500),
    _tier("gold", "طلایی", "Gold", 1_500, 15_000),
]

POLICIES: dict[str, dict[str, Any]] = {
    # A bookshop with an open club: welcome gift, 8% credit on books.
    "ketab-sara": {
        "open_club": True,
        "welcome_points": 50,
        "welcome_credit_rial": 50_000,
        "product_groups": [
            _group("books", "کتاب", "Books", 2500),
            _group("stationery", "لوازم‌التحریر", "Stationery", 4000),
        ],
        "earning": {"credit_bp": 500, "points": 1, "per_rial": 100_000},
        "earning_by_group": {"books": {"credit_bp": 800, "points": 1, "per_rial": 100_000}},
        "tiers": BRONZE_SILVER_GOLD,
        "points_valid_days": 365,
        "credit_valid_days": 90,
    },
    # A shoe shop: tiers on 12-month spend, a cap on credit per purchase.
    "kafsh-arya": {
        "open_club": True,
        "welcome_points": 20,
        "product_groups": [
            _group("shoes", "کفش", "Shoes", 3500),
            _group("bags", "کیف", "Bags", 4000),
        ],
        "earning": {"credit_bp": 300, "points": 1, "per_rial": 200_000},
        "max_credit_per_purchase_rial": 500_000,
        "tier_basis": "spend_12m",
        "tiers": [
            _tier("bronze", "برنزی", "Bronze", 0),
            _tier("silver", "نقره‌ای", "Silver", 50_000_000, 12_500),
            _tier("gold", "طلایی", "Gold", 200_000_000, 15_000),
        ],
        "credit_valid_days": 60,
    },
    # A café with a closed club and a punch card: every 5th visit earns a free coffee.
    "cafe-sepid": {
        "open_club": False,
        "product_groups": [
            _group("coffee", "قهوه", "Coffee", 6000),
            _group("food", "غذا", "Food", 3500),
        ],
        "earning": {"credit_bp": 200, "points": 1, "per_rial": 50_000},
        "tiers": BRONZE_SILVER_GOLD,
        "frequency": {"every_visits": 5, "reward_points": 0, "reward_credit_rial": 1_500_000},
        "credit_valid_days": 30,
    },
    # A beauty salon (seed 001's offers are a salon's): a margin per line of service.
    "salon-roya": {
        "open_club": True,
        "welcome_points": 30,
        "product_groups": [
            _group("nails", "ناخن", "Nails", 5000),
            _group("colour", "رنگ و مش", "Colour and highlights", 4500),
            _group("hair", "کوتاهی و حالت مو", "Haircut and styling", 5500),
            _group("skin", "پوست", "Skin care", 4000),
        ],
        "earning": {"credit_bp": 500, "points": 1, "per_rial": 100_000},
        "tiers": BRONZE_SILVER_GOLD,
        "points_valid_days": 365,
        "credit_valid_days": 90,
    },
}


# What each club's messages are called; the bookshop gives a birthday gift.
GIFTS = {"ketab-sara": {"points": 100, "credit_rial": 500_000, "valid_days": 30}}
for _shop in DEMO_SHOPS:
    POLICIES[_shop.slug]["messaging"] = messaging_policy(
        _shop.name_fa, _shop.name_en, GIFTS.get(_shop.slug)
    )


@dataclass(frozen=True)
class Shopper:
    phone: str
    name: str
    birthday: str | None = None
    partner_sharing: bool = False


# Some shoppers visit several shops: the network's later story (pooled points, partner
# enrolment) starts from them.
DEMO_SHOPPER = "09121234567"  # Sara: a member at all four shops, the app's demo sign-in
SHOPPERS = [
    Shopper("09121234567", "سارا احمدی", "1370/05/12", partner_sharing=True),
    Shopper("09351112233", "علی رضایی", "1365/11/02", partner_sharing=True),
    Shopper("09189876543", "مریم کریمی", "1375/01/20"),
    Shopper("09901231234", "رضا محمدی"),
]

# Shoppers a single shop enrols (with their consents) before their first purchase there.
ENROLLED_AT: dict[str, list[Shopper]] = {
    # Reza agrees at the bookshop to be introduced to partner shops: the café's partnership
    # with the bookshop will enrol him there.
    "ketab-sara": [Shopper("09901231234", "رضا محمدی", partner_sharing=True)],
}

PURCHASES: dict[str, list[tuple[str, str, list[tuple[str, int]], int]]] = {
    # receipt, phone, lines (group, Rial), credit to spend
    "ketab-sara": [
        ("KS-1001", "09121234567", [("books", 2_400_000), ("stationery", 350_000)], 0),
        ("KS-1002", "09351112233", [("books", 1_150_000)], 0),
        ("KS-1003", "09121234567", [("books", 3_800_000)], 150_000),
        ("KS-1004", "09189876543", [("stationery", 620_000)], 0),
        ("KS-1005", "09901231234", [("books", 1_400_000)], 0),
    ],
    "kafsh-arya": [
        ("KA-2001", "09121234567", [("shoes", 38_000_000)], 0),
        ("KA-2002", "09901231234", [("shoes", 24_500_000), ("bags", 12_000_000)], 0),
        ("KA-2003", "09351112233", [("bags", 9_800_000)], 0),
    ],
    "cafe-sepid": [
        (f"CS-30{i:02d}", phone, [("coffee", 950_000), ("food", 1_800_000)], 0)
        for i, phone in enumerate(["09121234567"] * 6 + ["09189876543"] * 2, start=1)
    ],
    # The salon's members and their histories for the offers: mallnet.cli.demo.offer_seed.
    "salon-roya": [("SR-1001", "09351112233", [("skin", 9_000_000), ("nails", 4_000_000)], 0)],
}


async def seed_demo_club(runtime: NodeRuntime, shop: str) -> int:
    """Give ``shop`` its demo policy and history; returns its number of demo purchases."""
    if shop not in POLICIES:
        return 0
    _version, current = await runtime.read(lambda s: policy.current_policy(s, runtime))
    wanted = policy.parse_policy(POLICIES[shop])
    if current != wanted:
        await policy.update_policy(runtime, POLICIES[shop], ACTOR)
    for shopper in [*SHOPPERS[:2], *ENROLLED_AT.get(shop, [])]:
        with contextlib.suppress(MemberExists):  # seeded on an earlier run
            await members.enrol_member(
                runtime,
                members.MemberInput(
                    phone=shopper.phone,
                    name=shopper.name,
                    birthday=shopper.birthday,
                    consent_partner_sharing=shopper.partner_sharing,
                    consent_promotional=True,
                ),
                ACTOR,
            )
    await link_saras_chat(runtime)
    if shop == "ketab-sara":
        await birthday_today(runtime)
    start = utcnow() - dt.timedelta(days=20)
    for index, (receipt, phone, lines, spend) in enumerate(PURCHASES[shop]):
        # Dated relative to today, so the receipt of an earlier run would now differ in
        # content: skip what is already there instead of resending it.
        if await runtime.read(partial(_receipt_seen, receipt)):
            continue
        await purchases.record_purchase(
            runtime,
            purchases.PurchaseInput(
                receipt_id=receipt,
                total_rial=sum(amount for _, amount in lines),
                lines=[Line(group, amount) for group, amount in lines],
                phone=phone,
                credit_to_spend_rial=spend,
                occurred_at=start + dt.timedelta(days=2 * index),
            ),
            ACTOR,
        )
    first_receipt = PURCHASES[shop][0][0]
    await purchases.refund_purchase(
        runtime,
        purchases.RefundInput(
            refund_key=f"{first_receipt}-R1",
            receipt_id=first_receipt,
            amount_rial=PURCHASES[shop][0][2][-1][1],
            reason="one item returned",
        ),
        ACTOR,
    )
    await adjustments.adjust_balance(
        runtime,
        adjustments.AdjustmentInput(
            member=members.MemberRef(phone=SHOPPERS[0].phone),
            asset="points",
            amount=25,
            reason="گل‌ریزان: thanks for the review",
            idempotency_key=f"{shop}-goodwill-1",
        ),
        ACTOR,
    )
    return len(PURCHASES[shop])


async def _receipt_seen(receipt: str, session: AsyncSession) -> bool:
    return await session.scalar(purchases.RECEIPT_SEEN, {"receipt_id": receipt}) is not None
