"""The club policy editor's API on SQLite and PostgreSQL: a draft priced before saving (the
same figures a recorded purchase then earns), a draft's problems at their fields with
nothing saved, managers only; and the saved versions, newest first, paged."""

from __future__ import annotations

import copy
from typing import Any

from ..node_client import TEST_POLICY, NodeClient
from .test_node_club import purchase, record
from .test_till_api import query

PREVIEW = """
query Preview($draft: JSON!, $basket: [PreviewLineInput!]!) {
  clubPolicyPreview(document: $draft, basket: $basket) {
    __typename
    ... on ClubPolicyPreview {
      totalRial
      byTier { tier { code multiplierBp } earning { points creditRial } }
      punchCardEveryVisits
      punchCardReward { points creditRial }
      welcome { points creditRial }
    }
    ... on InvalidInput { code problems { field message } }
  }
}
"""

VERSIONS = """
query Versions($first: Int! = 10, $before: Int) {
  clubPolicyVersions(first: $first, before: $before) {
    totalCount nextBefore items { version createdBy document }
  }
}
"""

# 600,000 toman of books.
BASKET = [{"productGroup": "books", "amountRial": 6_000_000}]


def _preview(
    node: NodeClient, document: Any, basket: Any = BASKET, token: str | None = None
) -> Any:
    body = query(node, PREVIEW, token, draft=document, basket=basket)
    assert "errors" not in body, body
    return body["data"]["clubPolicyPreview"]


def _versions(node: NodeClient, token: str | None = None, **variables: Any) -> Any:
    body = query(node, VERSIONS, token, **variables)
    assert "errors" not in body, body
    return body["data"]["clubPolicyVersions"]


def test_a_draft_prices_a_basket_as_the_purchase_then_earns(node: NodeClient) -> None:
    # Given a draft that gives books 8% credit and 2 points per 10,000 Rial
    draft = copy.deepcopy(TEST_POLICY)
    draft["earning_by_group"]["books"] = {"credit_bp": 800, "points": 2, "per_rial": 10_000}
    before = _versions(node)["totalCount"]
    # When the manager previews 600,000 toman of books under it
    found = _preview(node, draft)
    # Then each tier's figure, the punch card's reward and the welcome gift; nothing saved
    assert found["__typename"] == "ClubPolicyPreview", found
    assert found["totalRial"] == 6_000_000
    assert found["byTier"] == [
        {
            "tier": {"code": "bronze", "multiplierBp": 10_000},
            "earning": {"points": 1_200, "creditRial": 480_000},
        },
        {
            "tier": {"code": "silver", "multiplierBp": 15_000},
            "earning": {"points": 1_800, "creditRial": 720_000},
        },
    ]
    assert found["punchCardEveryVisits"] == 3
    assert found["punchCardReward"] == {"points": 10, "creditRial": 0}
    assert found["welcome"] == {"points": 20, "creditRial": 10_000}
    assert _versions(node)["totalCount"] == before
    # And once saved, a new shopper's purchase of that basket earns the bronze figure
    saved = node.op("UpdateClubPolicy", document=draft)["updateClubPolicy"]
    assert saved["__typename"] == "PolicyUpdated", saved
    bought = record(node, purchase("R-1", [("books", 6_000_000)]))
    assert bought["__typename"] == "PurchaseRecorded", bought
    assert bought["purchase"]["earnedPoints"] == 1_200
    assert bought["purchase"]["earnedCreditRial"] == 480_000


def test_a_closed_club_without_a_punch_card_shows_no_gift(node: NodeClient) -> None:
    draft = {**copy.deepcopy(TEST_POLICY), "open_club": False, "frequency": None}
    found = _preview(node, draft)
    assert found["welcome"] == {"points": 0, "creditRial": 0}
    assert (found["punchCardEveryVisits"], found["punchCardReward"]) == (None, None)


def test_a_draft_problem_comes_back_at_its_field_and_nothing_is_saved(node: NodeClient) -> None:
    before = _versions(node)
    draft = copy.deepcopy(TEST_POLICY)
    draft["tiers"][1]["threshold"] = 0  # not above the base tier's
    draft["welcome_points"] = -5
    found = _preview(node, draft)
    assert found["__typename"] == "InvalidInput"
    assert {p["field"] for p in found["problems"]} == {"policy.welcome_points"}
    # The cross-field rules run once the fields are valid, each at the field it concerns
    draft["welcome_points"] = 5
    draft["product_groups"].append(dict(draft["product_groups"][0], name_en="Again"))
    found = _preview(node, draft)
    assert [p["field"] for p in found["problems"]] == [
        "policy.product_groups[2].code",
        "policy.tiers[1].threshold",
    ]
    saved = node.op("UpdateClubPolicy", document=draft)["updateClubPolicy"]
    assert saved["__typename"] == "InvalidInput"
    assert [p["field"] for p in saved["problems"]] == [p["field"] for p in found["problems"]]
    assert _versions(node) == before


def test_the_basket_is_checked_against_the_draft(node: NodeClient) -> None:
    found = _preview(
        node,
        TEST_POLICY,
        [
            {"productGroup": "furniture", "amountRial": 10},
            {"productGroup": "books", "amountRial": 0},
        ],
    )
    assert [p["field"] for p in found["problems"]] == [
        "basket[0].productGroup",
        "basket[1].amountRial",
    ]
    assert [p["field"] for p in _preview(node, TEST_POLICY, [])["problems"]] == ["basket"]


def test_only_managers_preview_and_staff_read_the_versions(node: NodeClient) -> None:
    for scopes in (["shop:operate"], ["shop:read"]):
        body = query(node, PREVIEW, node.token_for(scopes), draft=TEST_POLICY, basket=BASKET)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    auditor = node.token_for(["shop:read"])
    assert _versions(node, auditor)["totalCount"] >= 1


def test_versions_come_newest_first_page_by_page(node: NodeClient) -> None:
    # Given three more versions after the test policy (version 1 the default, 2 the test's)
    for welcome in (30, 40, 50):
        document = {**TEST_POLICY, "welcome_points": welcome}
        assert node.op("UpdateClubPolicy", document=document)["updateClubPolicy"]["policy"]
    # When the history is read two at a time
    first = _versions(node, first=2)
    second = _versions(node, first=2, before=first["nextBefore"])
    third = _versions(node, first=2, before=second["nextBefore"])
    # Then every version once, newest first, each with who saved it and what it said
    assert first["totalCount"] == 5
    versions = [v["version"] for page in (first, second, third) for v in page["items"]]
    assert versions == [5, 4, 3, 2, 1]
    assert third["nextBefore"] is None
    assert first["items"][0]["document"]["welcome_points"] == 50
    assert first["items"][0]["createdBy"] == "staff:test"
    refused = query(node, VERSIONS, first=51)
    assert refused["errors"][0]["extensions"]["code"] == "PAGE_TOO_LARGE"
