"""How shoppers answered a one-time offer, against its control group (SQLite and
PostgreSQL): forty members who came once, an offer granted to half of them by its keyed
hash and held back from the rest; the granted all come back, some of the held back do
too; the report's groups, lift and its interval, redemption and cost per incremental
toman come out of the node's own purchases, through GraphQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select

from shop_node.db.models import Member, OfferGrant
from shop_node.services import offers

from ..node_client import NodeClient
from .test_node_club import purchase, record
from .test_shop_activity import at
from .test_till_api import query

NOW = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
RESPONSE = """
query Response($id: ID!) {
  offerResponse(id: $id) {
    oneTime {
      granted { members buyers purchases salesRial salesPerMemberRial }
      control { members buyers purchases salesRial salesPerMemberRial }
      redeemed redemptionRate costRial costPerIncrementalRial
      salesLiftRial { value low high }
      visitsLift { value low high }
    }
    days { day uses givenRial }
  }
}
"""


def _phone(n: int) -> str:
    return f"0912{n:07d}"


def test_the_granted_are_compared_with_the_held_back(node: NodeClient) -> None:
    at(node, NOW - dt.timedelta(days=10))
    for n in range(40):
        record(node, purchase(f"A-{n}", [("books", 100_000)], phone=_phone(n)))
    at(node, NOW)
    draft = node.call(
        offers.create,
        node.runtime,
        {
            "kind": "one_time",
            "name_fa": "برگرد",
            "name_en": "Come back",
            "audience": {"kind": "visits", "gte": 1},
            "reward": {"extra_credit_bp": 1_000},
            "valid_days": 7,
            "control_bp": 5_000,
        },
        "staff:7",
    )
    done = node.call(offers.activate, node.runtime, draft.id, "staff:7")
    assert done.granted + done.control == 40
    assert 8 <= done.control <= 32  # half, give or take chance (5 standard deviations)

    async def groups(session: Any) -> dict[str, bool]:
        rows = await session.execute(
            select(Member.phone, OfferGrant.control).join(
                OfferGrant, OfferGrant.member_id == Member.id
            )
        )
        return {str(phone): bool(control) for phone, control in rows.all()}

    held = node.call(node.runtime.read, groups)
    # The granted all come back with 1,000,000 Rial; every other held-back member with
    # 500,000, the rest of the held back not at all
    at(node, NOW + dt.timedelta(days=2))
    control_sales: list[int] = []
    granted_n = 0
    for n in range(40):
        e164 = "+98" + _phone(n)[1:]
        if not held[e164]:
            record(node, purchase(f"B-{n}", [("books", 1_000_000)], phone=_phone(n)))
            granted_n += 1
        else:
            amount = 500_000 if len(control_sales) % 2 == 0 else 0
            if amount:
                record(node, purchase(f"B-{n}", [("books", amount)], phone=_phone(n)))
            control_sales.append(amount)
    at(node, NOW + dt.timedelta(days=3))
    report = query(node, RESPONSE, id=draft.id)["data"]["offerResponse"]
    one = report["oneTime"]
    assert (one["granted"]["members"], one["control"]["members"]) == (granted_n, len(control_sales))
    assert one["granted"]["salesRial"] == 1_000_000 * granted_n
    assert one["control"]["salesRial"] == sum(control_sales)
    assert (one["redeemed"], one["redemptionRate"]) == (granted_n, "1.0000")
    control_mean = Fraction(sum(control_sales), len(control_sales))
    lift = Decimal(1_000_000 - control_mean.numerator / control_mean.denominator)
    assert Decimal(one["salesLiftRial"]["value"]) == lift.quantize(Decimal("0.01"))
    low, high = (Decimal(one["salesLiftRial"][k]) for k in ("low", "high"))
    assert low < Decimal(one["salesLiftRial"]["value"]) < high
    # the held back who came: their mean; the granted had no spread
    assert one["costRial"] == 100_000 * granted_n
    per_incremental = Decimal(one["costPerIncrementalRial"])
    assert abs(per_incremental - Decimal(100_000) / lift) < Decimal("0.0001")
    assert report["days"] == [
        {"day": "2026-12-07", "uses": granted_n, "givenRial": 100_000 * granted_n}
    ]
