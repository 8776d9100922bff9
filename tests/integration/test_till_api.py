"""What the till asks besides recording: a basket's earnings before it is recorded
(``purchasePreview``, the same arithmetic as ``recordPurchase``, writing nothing) and a
member's purchases with what was refunded of each (``Member.purchases``)."""

from __future__ import annotations

from typing import Any

import pytest

from ..node_client import NodeClient
from .test_node_club import counts, purchase, record

PREVIEW = """
query Preview($ref: MemberRefInput!, $total: Rial!, $lines: [PurchaseLineInput!]!,
              $credit: Rial! = 0) {
  purchasePreview(ref: $ref, totalRial: $total, lines: $lines, creditToSpendRial: $credit) {
    __typename
    ... on PurchasePreview {
      tier { code } visitNumber earnedPoints earnedCreditRial frequencyPoints
      frequencyCreditRial totalPoints totalCreditRial availableCreditRial spendableRial
    }
    ... on Problem { code }
  }
}
"""

PURCHASES = """
query Purchases($card: String!, $first: Int!, $before: ID) {
  member(ref: {cardCode: $card}) {
    ... on Member {
      purchases(first: $first, before: $before) {
        id receiptId totalRial refundedRial lines { productGroup amountRial }
      }
    }
  }
}
"""


def query(node: NodeClient, document: str, token: str | None = None, **variables: Any) -> Any:
    response = node.http.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token or node.token}"},
    )
    body = response.json()
    assert response.status_code == 200, body
    return body


def preview(
    node: NodeClient, card: str | None, lines: list[tuple[str, int]], credit: int = 0
) -> Any:
    body = query(
        node,
        PREVIEW,
        ref={"cardCode": card} if card else {"phone": "09351112299"},
        total=sum(a for _, a in lines),
        lines=[{"productGroup": g, "amountRial": a} for g, a in lines],
        credit=credit,
    )
    assert "errors" not in body, body
    return body["data"]["purchasePreview"]


EARNED = ("earnedPoints", "earnedCreditRial", "frequencyPoints", "frequencyCreditRial")


def test_preview_matches_what_record_purchase_then_records(node: NodeClient) -> None:
    # Given a member at bronze with 150 points (silver next) and some credit
    card = record(node, purchase("R-1", [("books", 1_500_000)]))["member"]["cardCode"]
    record(node, purchase("R-2", [("stationery", 100_000)], cardCode=card))
    basket = [("books", 200_000), ("stationery", 300_000)]
    # When the till previews the third visit's basket, paying part with credit
    before = counts(node)
    shown = preview(node, card, basket, credit=50_000)
    # Then nothing was written, and the preview is what the purchase records
    assert counts(node) == before
    assert shown["__typename"] == "PurchasePreview", shown
    assert shown["tier"]["code"] == "silver"
    assert shown["visitNumber"] == 3
    assert shown["frequencyPoints"] == 10  # every third visit
    recorded = record(node, purchase("R-3", basket, cardCode=card, creditToSpendRial=50_000))[
        "purchase"
    ]
    assert {k: shown[k] for k in EARNED} == {k: recorded[k] for k in EARNED}
    assert shown["totalPoints"] == recorded["earnedPoints"] + recorded["frequencyPoints"]
    assert shown["spendableRial"] <= shown["availableCreditRial"]


@pytest.mark.parametrize(
    ("lines", "credit", "code"),
    [
        ([("toys", 100_000)], 0, "INVALID_INPUT"),  # no such product group
        ([("books", 0)], 0, "INVALID_INPUT"),
        ([("books", 100_000)], 900_000, "INVALID_INPUT"),  # more than the basket
        ([("books", 100_000)], 50_000, "INSUFFICIENT_BALANCE"),  # 20,000 + 10,000 credit
    ],
)
def test_preview_refuses_what_record_purchase_refuses(
    node: NodeClient, lines: list[tuple[str, int]], credit: int, code: str
) -> None:
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    before = counts(node)
    assert preview(node, card, lines, credit)["code"] == code
    assert counts(node) == before


def test_preview_for_a_phone_not_enrolled_is_not_found(node: NodeClient) -> None:
    assert preview(node, None, [("books", 100_000)])["code"] == "MEMBER_NOT_FOUND"


def test_preview_needs_the_operate_scope(node: NodeClient) -> None:
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    reader = node.token_for(["shop:read"])
    body = query(
        node,
        PREVIEW,
        token=reader,
        ref={"cardCode": card},
        total=1000,
        lines=[{"productGroup": "books", "amountRial": 1000}],
    )
    assert body["data"] is None
    assert body["errors"], body


def test_member_purchases_newest_first_paged_with_refunds(node: NodeClient) -> None:
    # Given three purchases of a member, one partly refunded, and another member's
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    record(node, purchase("R-2", [("books", 200_000), ("stationery", 50_000)], cardCode=card))
    record(node, purchase("R-3", [("stationery", 300_000)], cardCode=card))
    record(node, {**purchase("R-X", [("books", 400_000)]), "phone": "09351112233"})
    refund = {"refundId": "F-1", "receiptId": "R-2", "amountRial": 70_000}
    assert node.op("RefundPurchase", input=refund)["refundPurchase"]["__typename"] == (
        "RefundRecorded"
    )
    # When the till lists them two at a time
    first = query(node, PURCHASES, card=card, first=2)["data"]["member"]["purchases"]
    rest = query(node, PURCHASES, card=card, first=2, before=first[-1]["id"])["data"]["member"][
        "purchases"
    ]
    # Then they come newest first, only this member's, with what was refunded of each
    assert [p["receiptId"] for p in first + rest] == ["R-3", "R-2", "R-1"]
    assert [p["refundedRial"] for p in first + rest] == [0, 70_000, 0]
    assert first[1]["lines"] == [
        {"productGroup": "books", "amountRial": 200_000},
        {"productGroup": "stationery", "amountRial": 50_000},
    ]


def test_member_purchases_refuses_a_bad_cursor(node: NodeClient) -> None:
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    body = query(node, PURCHASES, card=card, first=2, before="abc")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
