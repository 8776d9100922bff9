"""A shop's club through its GraphQL API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from mallnet.secrets_store import pseudonym
from shop_node.db.models import LedgerTransaction, Member, OutboxEvent, Purchase, Refund
from shop_node.services.adjustments import expire_due
from shop_node.services.ledger import verify_balances
from shop_node.services.members import luhn_digit

from ..node_client import NodeClient

PHONE = "۰۹۱۲ ۱۲۳ ۴۵۶۷"  # as a cashier might type it, Persian digits and spaces
E164 = "+989121234567"


def purchase(receipt: str, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {
        "receiptId": receipt,
        "totalRial": sum(amount for _, amount in lines),
        "lines": [{"productGroup": g, "amountRial": a} for g, a in lines],
        **({"phone": PHONE} if "cardCode" not in extra else {}),
        **extra,
    }


def counts(node: NodeClient) -> dict[str, int]:
    async def read(session: Any) -> dict[str, int]:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Member, Purchase, Refund, LedgerTransaction, OutboxEvent)
        }

    return node.call(node.runtime.read, read)


def ledger_problems(node: NodeClient) -> list[str]:
    return node.call(node.runtime.read, verify_balances)


def record(node: NodeClient, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = node.op("RecordPurchase", input=data)["recordPurchase"]
    return result


def test_first_purchase_enrols_welcomes_and_earns(node: NodeClient) -> None:
    result = record(node, purchase("R-1", [("books", 1_000_000), ("stationery", 500_000)]))
    assert result["__typename"] == "PurchaseRecorded"
    assert result["enrolled"] is True
    assert result["member"]["phone"] == E164
    # books: 10% credit, stationery 5%; one point per 10,000 Rial; plus the welcome gift.
    assert result["purchase"]["earnedCreditRial"] == 100_000 + 25_000
    assert result["purchase"]["earnedPoints"] == 150
    assert result["purchase"]["tierCode"] == "bronze"
    assert result["balances"] == {"points": 150 + 20, "creditRial": 125_000 + 10_000}
    assert ledger_problems(node) == []


def test_same_receipt_twice_has_one_effect_and_other_content_conflicts(node: NodeClient) -> None:
    first = record(node, purchase("R-1", [("books", 300_000)]))
    before = counts(node)
    again = record(node, purchase("R-1", [("books", 300_000)]))
    assert again["replayed"] is True
    assert again["balances"] == first["balances"]
    assert again["purchase"]["id"] == first["purchase"]["id"]
    conflict = record(node, purchase("R-1", [("books", 300_001)]))
    assert conflict["__typename"] == "IdempotencyConflict"
    assert conflict["code"] == "IDEMPOTENCY_CONFLICT"
    assert counts(node) == before


def test_spending_credit_and_tier_multiplier(node: NodeClient) -> None:
    first = record(node, purchase("R-1", [("books", 1_500_000)]))  # 150 points: silver next
    card = first["member"]["cardCode"]
    quote = node.op("CreditQuote", ref={"cardCode": card}, totalRial=200_000)["creditQuote"]
    assert quote["availableCreditRial"] == 160_000
    assert quote["spendableRial"] == 160_000
    assert quote["tier"]["code"] == "silver"
    second = record(
        node, purchase("R-2", [("books", 200_000)], cardCode=card, creditToSpendRial=100_000)
    )
    assert second["__typename"] == "PurchaseRecorded", second
    # Paid 100,000 in money: 10% = 10,000 credit and 10 points, x1.5 at silver.
    assert second["purchase"]["earnedCreditRial"] == 15_000
    assert second["purchase"]["earnedPoints"] == 15
    assert second["purchase"]["tierCode"] == "silver"
    assert second["balances"] == {"points": 170 + 15, "creditRial": 160_000 - 100_000 + 15_000}
    assert ledger_problems(node) == []


def test_spending_more_credit_than_available_writes_nothing(node: NodeClient) -> None:
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    before = counts(node)
    result = record(
        node, purchase("R-2", [("books", 500_000)], cardCode=card, creditToSpendRial=400_000)
    )
    assert result["__typename"] == "InsufficientBalance"
    assert result["code"] == "INSUFFICIENT_BALANCE"
    assert (result["available"], result["requested"]) == (20_000, 400_000)
    assert counts(node) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (purchase("R-9", [("books", -5)]), "lines[0].amountRial"),
        (purchase("R-9", [("books", 0)]), "lines[0].amountRial"),
        ({**purchase("R-9", [("books", 100)]), "totalRial": 101}, "lines"),
        (purchase("R-9", [("perfume", 100)]), "lines"),
        ({**purchase("R-9", [("books", 100)]), "phone": "02188776655"}, "phone"),
        ({**purchase("R-9", [("books", 100)]), "phone": "0912-abc"}, "phone"),
        (purchase("R" * 65, [("books", 100)]), "receiptId"),
        (purchase("", [("books", 100)]), "receiptId"),
        (purchase("R-9", []), "lines"),
        ({**purchase("R-9", [("books", 100)]), "creditToSpendRial": 101}, "creditToSpendRial"),
        ({**purchase("R-9", [("books", 100)]), "cardCode": "1234567890"}, "member"),
    ],
)
def test_bad_purchases_get_a_typed_error_and_write_nothing(
    node: NodeClient, data: dict[str, Any], field: str
) -> None:
    before = counts(node)
    result = record(node, data)
    assert result["__typename"] == "InvalidInput", result
    assert result["code"] == "INVALID_INPUT"
    assert field in [p["field"] for p in result["problems"]], result["problems"]
    assert counts(node) == before


def test_unknown_card_is_not_found(node: NodeClient) -> None:
    valid_but_unknown = "100000000" + str(luhn_digit("100000000"))
    result = record(
        node, {**purchase("R-1", [("books", 100)]), "phone": None, "cardCode": valid_but_unknown}
    )
    assert result["__typename"] == "NotFound"
    assert result["code"] == "MEMBER_NOT_FOUND"


def test_partial_refunds_reverse_exactly_what_the_purchase_created(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 50_000)]))  # 5 points, 5,000 credit + welcome
    card_ref = {"phone": PHONE}
    base = node.op("LookupMember", ref=card_ref)["member"]["balances"]
    bought = record(node, purchase("R-2", [("books", 333_333)], creditToSpendRial=10_000))
    assert bought["purchase"]["earnedCreditRial"] == 32_333  # 10% of 323,333 paid
    assert bought["purchase"]["earnedPoints"] == 32
    refunds = []
    for key, amount in (("F-1", 100_000), ("F-2", 100_000), ("F-3", None)):
        data: dict[str, Any] = {"refundId": key, "receiptId": "R-2"}
        if amount is not None:
            data["amountRial"] = amount
        refunds.append(node.op("RefundPurchase", input=data)["refundPurchase"])
    assert [r["__typename"] for r in refunds] == ["RefundRecorded"] * 3
    assert sum(r["refund"]["reversedCreditRial"] for r in refunds) == 32_333
    assert sum(r["refund"]["reversedPoints"] for r in refunds) == 32
    assert sum(r["refund"]["returnedCreditRial"] for r in refunds) == 10_000
    assert refunds[-1]["refund"]["amountRial"] == 133_333
    assert refunds[-1]["balances"] == base
    again = node.op("RefundPurchase", input={"refundId": "F-3", "receiptId": "R-2"})
    assert again["refundPurchase"]["replayed"] is True
    over = node.op("RefundPurchase", input={"refundId": "F-4", "receiptId": "R-2", "amountRial": 1})
    assert over["refundPurchase"]["__typename"] == "RefundExceedsPurchase"
    assert over["refundPurchase"]["refundableRial"] == 0
    missing = node.op("RefundPurchase", input={"refundId": "F-5", "receiptId": "nope"})
    assert missing["refundPurchase"]["code"] == "PURCHASE_NOT_FOUND"
    assert ledger_problems(node) == []


def test_refund_after_spending_the_earned_credit_writes_off_the_shortfall(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 1_000_000)]))  # 100,000 credit + 10,000 welcome
    spent = record(node, purchase("R-2", [("books", 110_000)], creditToSpendRial=110_000))
    assert spent["balances"]["creditRial"] == 0
    result = node.op("RefundPurchase", input={"refundId": "F-1", "receiptId": "R-1"})[
        "refundPurchase"
    ]
    assert result["refund"]["reversedCreditRial"] == 100_000
    assert result["refund"]["shortfallCreditRial"] == 100_000
    assert result["balances"]["creditRial"] == 0  # never negative
    assert ledger_problems(node) == []


def test_punch_card_rewards_every_third_visit(node: NodeClient) -> None:
    rewards = [
        record(node, purchase(f"R-{i}", [("stationery", 10_000)]))["purchase"]["frequencyPoints"]
        for i in range(1, 7)
    ]
    assert rewards == [0, 0, 10, 0, 0, 10]


def test_history_explains_every_change(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 200_000)]))
    node.op("RefundPurchase", input={"refundId": "F-1", "receiptId": "R-1", "amountRial": 50_000})
    node.op(
        "AdjustBalance",
        input={
            "member": {"phone": PHONE},
            "asset": "POINTS",
            "amount": 7,
            "reason": "apology for a late order",
            "idempotencyKey": "A-1",
        },
    )
    detail = node.op("MemberDetail", ref={"phone": PHONE})["member"]
    history = detail["history"]
    assert [h["reason"] for h in history] == ["ADJUSTMENT", "REFUND", "PURCHASE", "WELCOME"]
    assert "apology for a late order" in history[0]["memo"]
    assert history[0]["actor"] == "staff:test"
    assert history[2]["reference"] == "receipt:R-1"
    assert sum(h["pointsDelta"] for h in history) == detail["balances"]["points"]
    assert sum(h["creditDeltaRial"] for h in history) == detail["balances"]["creditRial"]


def test_credit_expires_soonest_first_and_is_recorded(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))  # 10,000 credit (30 days) + welcome
    runtime = node.runtime
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    runtime.clock = lambda: later
    expired = node.call(expire_due, runtime)
    assert expired == 2  # welcome credit and purchase credit; points last a year
    assert node.call(expire_due, runtime) == 0  # a rerun finds nothing left
    detail = node.op("MemberDetail", ref={"phone": PHONE})["member"]
    assert detail["balances"] == {"points": 30, "creditRial": 0}
    assert [h["reason"] for h in detail["history"][:2]] == ["EXPIRY", "EXPIRY"]
    assert ledger_problems(node) == []


def test_staff_enrol_with_jalali_birthday_company_and_employee(node: NodeClient) -> None:
    company = node.op(
        "EnrolMember",
        input={"phone": "09351112233", "name": "شرکت نمونه", "membershipType": "COMPANY"},
    )["enrolMember"]
    assert company["__typename"] == "Member"
    employee = node.op(
        "EnrolMember",
        input={
            "phone": "+98 912 000 1111",
            "name": "  Sara   Ahmadi ",
            "birthday": "۱۳۷۰/۰۵/۱۲",
            "membershipType": "EMPLOYEE",
            "companyCardCode": company["cardCode"],
            "tags": ["vip", "vip", " staff "],
        },
    )["enrolMember"]
    assert employee["name"] == "Sara Ahmadi"
    assert employee["balances"] == {"points": 20, "creditRial": 10_000}
    detail = node.op("MemberDetail", ref={"cardCode": employee["cardCode"]})["member"]
    assert detail["birthday"] == "1991-08-03"
    assert detail["birthdayJalali"] == "1370/05/12"
    assert detail["company"]["name"] == "شرکت نمونه"
    assert detail["tags"] == ["staff", "vip"]
    dup = node.op("EnrolMember", input={"phone": "09120001111"})["enrolMember"]
    assert dup["__typename"] == "MemberExists"
    bad = node.op(
        "EnrolMember",
        input={"phone": "0912", "birthday": "1370/13/01", "membershipType": "EMPLOYEE"},
    )["enrolMember"]
    assert sorted(p["field"] for p in bad["problems"]) == ["birthday", "companyCardCode", "phone"]


def test_members_list_search_and_paging(node: NodeClient) -> None:
    for i in range(5):
        node.op("EnrolMember", input={"phone": f"0912000000{i}", "name": f"Member {i}"})
    page = node.op("Members", first=2)["members"]
    assert page["totalCount"] == 5
    assert [m["name"] for m in page["items"]] == ["Member 4", "Member 3"]
    assert page["hasNextPage"] is True
    rest = node.op("Members", first=10, after=page["endCursor"])["members"]
    assert [m["name"] for m in rest["items"]] == ["Member 2", "Member 1", "Member 0"]
    assert rest["hasNextPage"] is False
    found = node.op("Members", search="09120000003")["members"]
    assert [m["name"] for m in found["items"]] == ["Member 3"]


def test_adjustments_need_a_reason_and_never_overdraw(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))
    base: dict[str, Any] = {"member": {"phone": PHONE}, "asset": "CREDIT", "idempotencyKey": "A-1"}
    no_reason = node.op("AdjustBalance", input={**base, "amount": 5, "reason": " "})[
        "adjustBalance"
    ]
    assert no_reason["code"] == "INVALID_INPUT"
    overdraw = node.op("AdjustBalance", input={**base, "amount": -20_001, "reason": "fraud"})[
        "adjustBalance"
    ]
    assert overdraw["__typename"] == "InsufficientBalance"
    taken = node.op("AdjustBalance", input={**base, "amount": -20_000, "reason": "fraud"})[
        "adjustBalance"
    ]
    assert taken["balances"]["creditRial"] == 0
    replay = node.op("AdjustBalance", input={**base, "amount": -20_000, "reason": "fraud"})[
        "adjustBalance"
    ]
    assert replay["replayed"] is True
    other = node.op("AdjustBalance", input={**base, "amount": 5, "reason": "other"})[
        "adjustBalance"
    ]
    assert other["code"] == "IDEMPOTENCY_CONFLICT"
    assert ledger_problems(node) == []


def test_policy_edits_are_validated_and_versioned(node: NodeClient) -> None:
    current = node.op("ClubPolicy")["clubPolicy"]
    broken = {
        **current["document"],
        "tiers": [{"code": "x", "name_fa": "x", "name_en": "x", "threshold": 5}],
    }
    result = node.op("UpdateClubPolicy", document=broken)["updateClubPolicy"]
    assert result["__typename"] == "InvalidInput"
    assert "threshold must be 0" in result["message"]
    closed = {**current["document"], "open_club": False}
    updated = node.op("UpdateClubPolicy", document=closed)["updateClubPolicy"]
    assert updated["policy"] == {"version": current["version"] + 1, "openClub": False}
    # A closed club gives no welcome reward.
    first = record(node, purchase("R-1", [("books", 10_000)]))
    assert first["balances"] == {"points": 1, "creditRial": 1_000}


def test_scopes_are_checked_on_every_operation(node: NodeClient) -> None:
    data = purchase("R-1", [("books", 10_000)])
    anonymous = node.raw("RecordPurchase", token="", input=data)
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    auditor = node.token_for(["shop:read"])
    assert (
        node.raw("RecordPurchase", token=auditor, input=data)["errors"][0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    operator = node.token_for(["shop:operate"])
    recorded = node.raw("RecordPurchase", token=operator, input=data)
    assert recorded["data"]["recordPurchase"]["__typename"] == "PurchaseRecorded"
    looked_up = node.raw("LookupMember", token=auditor, ref={"phone": PHONE})
    assert looked_up["data"]["member"]["balances"]["points"] == 21
    adjust = {
        "member": {"phone": PHONE},
        "asset": "POINTS",
        "amount": 1,
        "reason": "test",
        "idempotencyKey": "A",
    }
    assert (
        node.raw("AdjustBalance", token=operator, input=adjust)["errors"][0]["extensions"]["code"]
        == "FORBIDDEN"
    )
    other_shop = node.token_for(["shop:manage"], shop="kafsh-arya")
    assert node.raw("LookupMember", token=other_shop, ref={"phone": PHONE})["status"] == 401
    assert node.raw("LookupMember", token="not-a-jwt", ref={"phone": PHONE})["status"] == 401


def test_a_reused_receipt_with_another_new_phone_is_a_conflict(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))
    before = counts(node)
    result = record(node, {**purchase("R-1", [("books", 100_000)]), "phone": "09351112233"})
    assert result["__typename"] == "IdempotencyConflict", result
    assert counts(node) == before


def test_refund_after_the_credit_expired_does_not_take_it_twice(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))  # 10,000 credit + 10,000 welcome
    runtime = node.runtime
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    runtime.clock = lambda: later
    assert node.call(expire_due, runtime) == 2
    second = record(node, purchase("R-2", [("books", 200_000)]))
    assert second["balances"]["creditRial"] == 20_000
    refund = node.op("RefundPurchase", input={"refundId": "F-1", "receiptId": "R-1"})
    result = refund["refundPurchase"]
    assert result["refund"]["reversedCreditRial"] == 10_000
    assert result["refund"]["lapsedCreditRial"] == 10_000
    assert result["refund"]["shortfallCreditRial"] == 0
    assert result["balances"]["creditRial"] == 20_000  # R-2's credit is untouched
    assert result["balances"]["points"] == second["balances"]["points"] - 10
    assert ledger_problems(node) == []


def test_amounts_beyond_32_bits_come_back_as_typed_results(node: NodeClient) -> None:
    big = 3_000_000_000
    card = record(node, purchase("R-1", [("books", 100_000)]))["member"]["cardCode"]
    short = record(node, purchase("R-2", [("books", big)], cardCode=card, creditToSpendRial=big))
    assert short["__typename"] == "InsufficientBalance"
    assert short["requested"] == big
    document = node.op("ClubPolicy")["clubPolicy"]["document"]
    spend_tiers = {
        **document,
        "tier_basis": "spend_12m",
        "tiers": [
            {"code": "base", "name_fa": "پایه", "name_en": "Base", "threshold": 0},
            {"code": "vip", "name_fa": "ویژه", "name_en": "VIP", "threshold": 50_000_000_000},
        ],
    }
    assert node.op("UpdateClubPolicy", document=spend_tiers)["updateClubPolicy"]["policy"]
    tiers = node.op("ClubPolicy")["clubPolicy"]["tiers"]
    assert tiers[1]["threshold"] == 50_000_000_000
    record(node, purchase("R-3", [("books", big)], cardCode=card))
    member = node.op("LookupMember", ref={"cardCode": card})["member"]
    assert member["tier"]["metric"] == big + 100_000
    assert member["tier"]["toNext"] == 50_000_000_000 - big - 100_000


def test_an_identical_adjustment_with_a_long_reason_replays(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))
    data = {
        "member": {"phone": PHONE},
        "asset": "POINTS",
        "amount": 100,
        "reason": "x" * 500,
        "idempotencyKey": "A-long",
    }
    first = node.op("AdjustBalance", input=data)["adjustBalance"]
    again = node.op("AdjustBalance", input=data)["adjustBalance"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["balances"] == first["balances"]
    other = node.op("AdjustBalance", input={**data, "reason": "x" * 499 + "y"})["adjustBalance"]
    assert other["code"] == "IDEMPOTENCY_CONFLICT"


def test_a_purchase_that_earned_nothing_is_still_in_the_history(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))
    tiny = record(node, purchase("R-2", [("stationery", 10)]))
    assert tiny["purchase"]["earnedPoints"] == 0
    assert tiny["purchase"]["earnedCreditRial"] == 0
    history = node.op("MemberDetail", ref={"phone": PHONE})["member"]["history"]
    assert [h["reference"] for h in history[:2]] == ["receipt:R-2", "receipt:R-1"]
    assert (history[0]["pointsDelta"], history[0]["creditDeltaRial"]) == (0, 0)


def test_a_bad_history_cursor_is_an_input_error(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 100_000)]))
    query = (
        '{ member(ref: {phone: "09121234567"}) '
        '{ ... on Member { history(before: "abc") { id } } } }'
    )
    body = node.http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {node.token}"}
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_changes_leave_events_for_the_hub_in_the_same_transaction(node: NodeClient) -> None:
    record(node, purchase("R-1", [("books", 200_000)]))
    node.op(
        "UpdateMember",
        input={"member": {"phone": PHONE}, "consentPartnerSharing": True},
    )
    node.op("RefundPurchase", input={"refundId": "F-1", "receiptId": "R-1", "amountRial": 50_000})

    async def read(session: Any) -> list[OutboxEvent]:
        rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
        return list(rows.all())

    events = node.call(node.runtime.read, read)
    assert [e.type for e in events] == [
        "member.enrolled",
        "purchase.recorded",
        "balance.changed",
        "member.consent_changed",
        "purchase.refunded",
        "balance.changed",
    ]
    shopper = pseudonym(node.runtime.network_key, E164)
    assert {e.payload["pseudonym"] for e in events} == {shopper}
    assert events[0].payload["phone"] is None  # no consent to share yet
    assert events[3].payload["phone"] == E164  # now there is
    assert events[1].payload["lines"] == [{"group": "books", "amount_rial": 200_000}]
    assert events[-1].payload == {
        "pseudonym": shopper,
        "points": 35,
        "credit_rial": 25_000,
        # Where she stands in the club's tiers, counting the refund.
        "tier_code": events[-1].payload["tier_code"],
        "tier_name_fa": events[-1].payload["tier_name_fa"],
        "tier_name_en": events[-1].payload["tier_name_en"],
        "tier_basis": "earned_points",
        "tier_metric": 15,  # earned, less what the refund reversed (not the balance)
        "next_tier_name_fa": "نقره‌ای",
        "next_tier_name_en": "Silver",
        "next_tier_threshold": 100,
    }
    assert events[-1].payload["tier_code"] == "bronze"
    assert all(e.seq is None and e.delivered_at is None for e in events)
