"""A member's history and join date show the Tehran day, through the node's GraphQL API.

Tehran is UTC+03:30: from 00:00 to 03:30 Tehran time the UTC date is still the day before.
A purchase at 01:00 on Nowruz (1 Farvardin 1405) happens at 21:30 UTC on 20 March 2026, and
staff expect it on 1405/01/01, not on 29 Esfand. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..node_client import NodeClient

PHONE = "09121234567"
NIGHT_OWL = "09351112233"

# 1 Farvardin 1405 begins at 2026-03-20T20:30Z.
NOWRUZ_01_00 = dt.datetime(2026, 3, 20, 21, 30, tzinfo=dt.UTC)  # 01:00 Tehran, 1405/01/01
NOWRUZ_03_29 = dt.datetime(2026, 3, 20, 23, 59, tzinfo=dt.UTC)  # 03:29 Tehran, 1405/01/01
ESFAND_29_23_59 = dt.datetime(2026, 3, 20, 20, 29, 59, tzinfo=dt.UTC)  # 23:59:59, 1404/12/29


def at(node: NodeClient, moment: dt.datetime) -> None:
    """Set the node's clock (what the till's purchase and the ledger are stamped with)."""
    node.runtime.clock = lambda: moment


def detail(node: NodeClient, phone: str) -> dict[str, Any]:
    member: dict[str, Any] = node.op("MemberDetail", ref={"phone": phone})["member"]
    return member


def joined_on(node: NodeClient, phone: str) -> str:
    items = node.op("Members", search=phone)["members"]["items"]
    assert len(items) == 1, items
    day: str = items[0]["joinedAtJalali"]
    return day


def test_a_purchase_at_one_in_the_morning_is_on_that_tehran_day(node: NodeClient) -> None:
    # Given the till's clock at 01:00 on Nowruz in Tehran (still 20 March in UTC)
    at(node, NOWRUZ_01_00)
    # When a new customer buys, and is enrolled by the purchase
    result = node.op(
        "RecordPurchase",
        input={
            "receiptId": "R-NOWRUZ",
            "totalRial": 200_000,
            "lines": [{"productGroup": "books", "amountRial": 200_000}],
            "phone": PHONE,
        },
    )["recordPurchase"]
    assert result["__typename"] == "PurchaseRecorded", result
    assert result["enrolled"] is True
    # and a refund comes at 03:29 Tehran, the last minute whose UTC date is the day before
    at(node, NOWRUZ_03_29)
    refund = node.op(
        "RefundPurchase", input={"refundId": "F-1", "receiptId": "R-NOWRUZ", "amountRial": 50_000}
    )["refundPurchase"]
    assert refund["__typename"] == "RefundRecorded", refund

    # Then the member joined on 1 Farvardin 1405, and every entry of the history is on it
    member = detail(node, PHONE)
    assert dt.datetime.fromisoformat(member["joinedAt"]) == NOWRUZ_01_00
    assert joined_on(node, PHONE) == "1405/01/01"
    history = member["history"]
    assert [h["reason"] for h in history] == ["REFUND", "PURCHASE", "WELCOME"]
    assert [dt.datetime.fromisoformat(h["at"]) for h in history] == [
        NOWRUZ_03_29,
        NOWRUZ_01_00,
        NOWRUZ_01_00,
    ]
    assert [h["atJalali"] for h in history] == ["1405/01/01"] * 3


def test_a_minute_before_tehran_midnight_is_still_the_day_before(node: NodeClient) -> None:
    # Given the clock at 23:59:59 on 29 Esfand 1404 in Tehran
    at(node, ESFAND_29_23_59)
    # When staff enrol a member
    enrolled = node.op("EnrolMember", input={"phone": NIGHT_OWL})["enrolMember"]
    assert enrolled["__typename"] == "Member", enrolled
    # Then the member joined on 29 Esfand, and the welcome gift is dated that day
    assert joined_on(node, NIGHT_OWL) == "1404/12/29"
    history = detail(node, NIGHT_OWL)["history"]
    assert [(h["reason"], h["atJalali"]) for h in history] == [("WELCOME", "1404/12/29")]
