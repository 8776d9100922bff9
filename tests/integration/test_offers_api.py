"""The node's offers over GraphQL (SQLite and PostgreSQL), as the dashboard's documents
ask: a draft with problems answered at their paths in English and Persian, the check
(margins, a basket, a backtest) saving nothing, a below-margin activation refused then
done with a reason, stop; an operator reads the list but changes nothing."""

from __future__ import annotations

from typing import Any

from ..node_client import NodeClient

SALE: dict[str, Any] = {
    "kind": "permanent",
    "name_fa": "۲۰٪ تخفیف لوازم‌التحریر",
    "name_en": "20% off stationery",
    "when": {"kind": "basket_has_group", "groups": ["stationery"]},
    "reward": {"discount_bp": 2_000, "groups": ["stationery"]},
}


def test_a_manager_drafts_checks_activates_and_stops_an_offer(node: NodeClient) -> None:
    bad = node.op("CreateOffer", document={**SALE, "reward": {"discount_bp": "lots"}})
    answer = bad["createOffer"]
    assert answer["__typename"] == "InvalidOffer"
    [problem] = answer["problems"]
    assert problem["path"] == "offer.reward.discount_bp"
    assert problem["messageFa"] == "یک عدد صحیح بنویسید."
    assert node.op("Offers")["offers"]["items"] == []

    check = node.op(
        "OfferCheck",
        document=SALE,
        basket=[{"productGroup": "stationery", "amountRial": 1_000_000}],
        days=30,
    )["offerCheck"]
    assert check["__typename"] == "OfferCheck", check
    # stationery: the default 30% margin, 5% club credit ×1.5 at silver = 7.5% → 750 bp;
    # 20% off leaves 30 − 7.5 − 20 = 2.5%
    [group] = check["groupMargins"]
    assert (group["group"], group["leftBp"], group["belowMargin"]) == ("stationery", 250, False)
    # 1,000,000 Rial: 300,000 margin, 200,000 off, 5% credit on the 800,000 paid
    assert check["basketWith"]["discountRial"] == 200_000
    assert check["basketWith"]["clubCreditRial"] == 40_000
    assert check["basketWith"]["leftRial"] == 60_000
    assert check["backtest"]["purchasesSeen"] == 0
    assert node.op("Offers")["offers"]["items"] == []

    made = node.op("CreateOffer", document=SALE)["createOffer"]
    assert (made["__typename"], made["status"], made["kind"]) == ("ShopOffer", "draft", "permanent")
    live = node.op("ActivateOffer", id=made["id"])["activateOffer"]
    assert live["__typename"] == "OfferActivated", live
    assert live["offer"]["status"] == "active"
    again = node.op("UpdateOffer", id=made["id"], document=SALE)["updateOffer"]
    assert again["__typename"] == "OfferNotChangeable"
    stopped = node.op("StopOffer", id=made["id"])["stopOffer"]
    assert stopped["status"] == "stopped"
    assert [o["status"] for o in node.op("Offers")["offers"]["items"]] == ["stopped"]


def test_below_margin_is_refused_until_a_reason_is_given(node: NodeClient) -> None:
    greedy = {**SALE, "reward": {"discount_bp": 3_000}}
    made = node.op("CreateOffer", document=greedy)["createOffer"]
    refused = node.op("ActivateOffer", id=made["id"])["activateOffer"]
    assert refused["__typename"] == "BelowMargin"
    assert sorted(refused["groups"]) == ["books", "stationery"]
    short = node.op("ActivateOffer", id=made["id"], overrideReason="x")["activateOffer"]
    assert short["__typename"] == "InvalidInput"
    done = node.op("ActivateOffer", id=made["id"], overrideReason="clearance of old stock")
    assert done["activateOffer"]["offer"]["overrideReason"] == "clearance of old stock"


def test_an_operator_reads_offers_but_changes_none(node: NodeClient) -> None:
    operator = node.token_for(["shop:operate"])
    made = node.op("CreateOffer", document=SALE)["createOffer"]
    listed = node.raw("Offers", token=operator)
    assert [o["id"] for o in listed["data"]["offers"]["items"]] == [made["id"]]
    for operation, variables in (
        ("CreateOffer", {"document": SALE}),
        ("ActivateOffer", {"id": made["id"]}),
        ("StopOffer", {"id": made["id"]}),
        ("OfferCheck", {"document": SALE, "basket": []}),
    ):
        body = node.raw(operation, token=operator, **variables)
        assert body["data"] is None, body
        assert "needs one of the scopes" in body["errors"][0]["message"]
    assert node.op("OfferById", id=made["id"])["offer"]["status"] == "draft"
