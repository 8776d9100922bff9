"""The dashboard's "Today" figures (``shopActivity``) through the node's GraphQL API, on
SQLite and PostgreSQL: each purchase, member and refund on its Tehran day, the period's
totals, and the period before of the same length."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..node_client import NodeClient
from .test_node_club import purchase, record
from .test_till_api import query

ACTIVITY = """
query Activity($range: ActivityRange!) {
  shopActivity(range: $range) {
    current {
      firstDay lastDay
      totals { ...F }
      days { day figures { ...F } }
    }
    previous { firstDay lastDay totals { ...F } days { day } }
  }
}
fragment F on ActivityFigures {
  salesRial purchases newMembers returningMembers creditIssuedRial creditSpentRial
  networkValueRial refundedRial
}
"""

SARA, REZA = "09121234567", "09351112233"
# Tehran is UTC+03:30: 21:30 UTC on 4 December is 01:00 on 5 December in Tehran.
TODAY_01_00 = dt.datetime(2026, 12, 4, 21, 30, tzinfo=dt.UTC)
TODAY_NOON = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
YESTERDAY_NOON = TODAY_NOON - dt.timedelta(days=1)
TEN_DAYS_AGO = TODAY_NOON - dt.timedelta(days=10)


def at(node: NodeClient, moment: dt.datetime) -> None:
    node.runtime.clock = lambda: moment


def activity(node: NodeClient, range_: str = "DAYS_7", token: str | None = None) -> Any:
    return query(node, ACTIVITY, token, range=range_)


def test_each_figure_lands_on_its_tehran_day_and_period(node: NodeClient) -> None:
    # Given Sara's first purchase ten days ago (the period before this week)
    at(node, TEN_DAYS_AGO)
    card = record(node, purchase("R-1", [("books", 1_000_000)], phone=SARA))["member"]["cardCode"]
    # her second yesterday, and today at 01:00 Tehran (still yesterday in UTC) her third
    # paying 10,000 Rial with credit, and Reza's first purchase, half of it refunded
    at(node, YESTERDAY_NOON)
    record(node, purchase("R-2", [("books", 200_000)], cardCode=card))
    at(node, TODAY_01_00)
    spent = record(
        node, purchase("R-3", [("books", 300_000)], cardCode=card, creditToSpendRial=10_000)
    )
    assert spent["__typename"] == "PurchaseRecorded", spent
    record(node, purchase("R-4", [("stationery", 400_000)], phone=REZA))
    at(node, TODAY_NOON)
    refund = node.op(
        "RefundPurchase", input={"refundId": "F-1", "receiptId": "R-4", "amountRial": 200_000}
    )["refundPurchase"]
    assert refund["__typename"] == "RefundRecorded", refund
    # When a manager asks for the last 7 days
    body = activity(node)
    # Then this week holds yesterday's and today's purchases, each on its Tehran day
    assert "errors" not in body, body
    week = body["data"]["shopActivity"]["current"]
    assert (week["firstDay"], week["lastDay"]) == ("2026-11-29", "2026-12-05")
    assert [d["day"] for d in week["days"]] == [
        f"2026-{d}" for d in ("11-29", "11-30", "12-01", "12-02", "12-03", "12-04", "12-05")
    ]
    today, yesterday = week["days"][-1]["figures"], week["days"][-2]["figures"]
    assert (today["purchases"], today["salesRial"]) == (2, 700_000)
    assert (yesterday["purchases"], yesterday["salesRial"]) == (1, 200_000)
    assert today["creditSpentRial"] == 10_000
    assert today["refundedRial"] == 200_000
    assert today["newMembers"] == 1  # Reza; Sara joined ten days ago
    # Sara returned on two days: one returning member of the week, one on each day
    assert (yesterday["returningMembers"], today["returningMembers"]) == (1, 1)
    totals = week["totals"]
    assert totals == {
        "salesRial": 900_000,
        "purchases": 3,
        "newMembers": 1,
        "returningMembers": 1,
        "creditIssuedRial": sum(d["figures"]["creditIssuedRial"] for d in week["days"]),
        "creditSpentRial": 10_000,
        "networkValueRial": 0,
        "refundedRial": 200_000,
    }
    assert totals["creditIssuedRial"] > 0
    # and the week before holds Sara's first purchase and her joining
    before = body["data"]["shopActivity"]["previous"]
    assert (before["firstDay"], before["lastDay"]) == ("2026-11-22", "2026-11-28")
    assert before["totals"]["purchases"] == 1
    assert before["totals"]["salesRial"] == 1_000_000
    assert before["totals"]["newMembers"] == 1
    assert before["totals"]["returningMembers"] == 0


def test_ranges_are_7_30_or_90_days_and_staff_only(node: NodeClient) -> None:
    at(node, TODAY_NOON)
    quarter = activity(node, "DAYS_90")["data"]["shopActivity"]
    assert len(quarter["current"]["days"]) == 90
    assert quarter["previous"]["lastDay"] == "2026-09-06"
    # Any other number is not a range (the schema refuses it)
    assert "errors" in activity(node, "DAYS_365")
    # An auditor reads it; a token of another shop does not
    auditor = node.token_for(["shop:read"])
    assert "errors" not in activity(node, token=auditor)
    stranger = node.token_for(["shop:manage"], shop="other-shop")
    refused = node.http.post(
        "/graphql",
        json={"query": ACTIVITY, "variables": {"range": "DAYS_7"}},
        headers={"Authorization": f"Bearer {stranger}"},
    )
    assert refused.status_code != 200 or "errors" in refused.json()
