"""Clearing a period between shops (settlement/clearing.py): a worked example checked by
hand, the split of a campaign's cost, and the properties every period must have under any
policy: positions sum to zero, gross = netted + payments (+ prepaid cover), the journal
balances and says the same, and recomputation in any order gives the same result."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.clearing import (
    CORRECTIONS,
    FEES,
    FUND,
    MALL,
    PAYMENTS,
    Clearing,
    Instruction,
    Line,
    PeriodResult,
    Redemption,
    clear,
    payable,
    receivable,
    settle,
    settle_amount,
    split_cost,
)
from settlement.policy import CostSharing, InvalidPolicy, SettlementPolicy, parse_policy


def test_three_shops_worked_by_hand() -> None:
    """The bookshop's value spent at the shoe shop (100,000 Rial, 2% fee) and at the café
    (50,000, then 10,000 refunded); the shoe shop's at the bookshop (30,000); the café's at
    the shoe shop (20,000); the shoe shop's own value at itself (5,000: nobody owes).

    Gross: books owes 140,000; shoes 30,000; café 20,000. Shoes receives 98,000 + 20,000
    = 118,000; café 40,000; books 30,000; the fund keeps 2,000. Net: books pays 110,000;
    shoes receives 88,000; café receives 20,000; -110,000 + 88,000 + 20,000 + 2,000 = 0."""
    result = clear(
        [
            Redemption("r1", "books", "shoes", 100_000, fee_bp=200),
            Redemption("r2", "books", "cafe", 50_000),
            Redemption("r3", "books", "cafe", -10_000),
            Redemption("r4", "shoes", "books", 30_000),
            Redemption("r5", "cafe", "shoes", 20_000),
            Redemption("r6", "shoes", "shoes", 5_000),
        ]
    )
    assert result.gross_payable == {"books": 140_000, "cafe": 20_000, "shoes": 30_000}
    assert result.gross_receivable == {"books": 30_000, "cafe": 40_000, "shoes": 118_000}
    assert result.fees_rial == 2_000
    assert result.positions == {"books": -110_000, "cafe": 20_000, "shoes": 88_000, FUND: 2_000}
    assert result.instructions == [
        Instruction("books", "to_fund", 110_000),
        Instruction("cafe", "from_fund", 20_000),
        Instruction("shoes", "from_fund", 88_000),
    ]
    # 190,000 owed in all; 110,000 moves as money; 80,000 was netted away.
    assert result.netted_rial == 80_000
    obligations = [e for e in result.entries if e.kind == "obligation"]
    assert [e.ref for e in obligations] == [
        "books>cafe",
        "books>shoes",
        "cafe>shoes",
        "shoes>books",
    ]
    books_shoes = {line.account: line.amount_rial for line in obligations[1].lines}
    assert books_shoes == {receivable("shoes"): 98_000, FEES: 2_000, payable("books"): -100_000}


def test_prepaid_funding_pays_every_redeemer_and_draws_issuers_from_their_prepayment() -> None:
    """The same period, prepaid: the bookshop paid for its value when it issued it, so the
    fund pays the shoe shop 118,000, the café 40,000 and the bookshop 30,000, and nobody pays
    in; 190,000 of the shops' prepayments cover what they owe."""
    policy = SettlementPolicy(funding="prepaid")
    result = clear(
        [
            Redemption("r1", "books", "shoes", 100_000, fee_bp=200, covered=True),
            Redemption("r2", "books", "cafe", 40_000, covered=True),
            Redemption("r4", "shoes", "books", 30_000, covered=True),
            Redemption("r5", "cafe", "shoes", 20_000, covered=True),
        ],
        policy,
    )
    assert result.instructions == [
        Instruction("books", "from_fund", 30_000),
        Instruction("cafe", "from_fund", 40_000),
        Instruction("shoes", "from_fund", 118_000),
    ]
    assert {n: p.covered_rial for n, p in result.parties.items()} == {
        "books": 140_000,
        "cafe": 20_000,
        "shoes": 30_000,
    }
    assert result.netted_rial == 0
    assert result.positions[FUND] == 2_000


def test_a_fee_splits_exactly_and_a_refund_mirrors_its_capture() -> None:
    assert settle_amount(10_001, 250) == (9_750, 251)
    assert settle_amount(-10_001, 250) == (-9_750, -251)
    assert settle_amount(7, 0) == (7, 0)
    with pytest.raises(ValueError, match="fee_bp"):
        settle_amount(100, 10_001)


def test_a_capture_refunded_in_parts_nets_to_nothing() -> None:
    """2 Rial at 1.5%: the shop receives 1, the fund keeps 1. Refunded 1 and 1: the fee
    comes back cumulatively (0, then 1), so shop and fund end at exactly nothing."""
    lines = [
        Redemption("c", "books", "cafe", 2, 150),
        Redemption("r1", "books", "cafe", -1, 150, prior_rial=2),
        Redemption("r2", "books", "cafe", -1, 150, prior_rial=1),
    ]
    assert [settle(r).fee_rial for r in lines] == [1, 0, -1]
    result = clear(lines)
    assert result.positions == {FUND: 0}  # the pair nets to nothing: nobody is owed
    assert result.instructions == []


def test_the_most_specific_agreement_sets_the_fee() -> None:
    policy = parse_policy(
        {
            "fee_bp": 100,
            "agreements": [
                {"issuer": "books", "fee_bp": 200},
                {"redeemer": "cafe", "fee_bp": 300},
                {"issuer": "books", "redeemer": "cafe", "fee_bp": 0},
            ],
        }
    )
    assert policy.fee_for("books", "cafe") == 0
    assert policy.fee_for("shoes", "cafe") == 300
    assert policy.fee_for("books", "shoes") == 200
    assert policy.fee_for("shoes", "books") == 100


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"funding": "later"}, "funding: Input should be 'postpaid' or 'prepaid'"),
        (
            {"agreements": [{"fee_bp": 1}]},
            "agreements.0: Value error, an agreement names an issuer, a redeeming shop, or both",
        ),
        (
            {"agreements": [{"issuer": "books", "fee_bp": 1}, {"issuer": "books", "fee_bp": 2}]},
            "two agreements for the same issuer and redeeming shop",
        ),
        (
            {"cost_sharing": [{"issuer": "yalda", "rule": "equal", "shops": ["books"]}]},
            "cost_sharing.0.issuer: String should match pattern",
        ),
        (
            {
                "cost_sharing": [
                    {"issuer": "campaign:y", "rule": "equal", "shops": ["books", "books"]}
                ]
            },
            "cost_sharing.0: Value error, a shop is named twice",
        ),
        ({"period": "hourly"}, "period: Input should be 'daily', 'weekly' or 'monthly'"),
        ({"fee_bp": 1.5}, "fee_bp: Input should be a valid integer"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_a_bad_policy_is_refused(document: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidPolicy, match=re.escape(reason)):
        parse_policy(document)


def test_a_correction_is_booked_in_the_period_that_follows_it() -> None:
    """Finance found the café was underpaid 5,000 and the bookshop charged 2,000 too much
    last period: both are corrected this period, on top of a new redemption."""
    clearing = Clearing(SettlementPolicy())
    clearing.add(Redemption("r1", "books", "cafe", 10_000))
    clearing.add_correction("correction:1", "cafe", 5_000)
    clearing.add_correction("correction:2", "books", 2_000)
    result = clearing.result()
    assert result.positions == {"books": -8_000, "cafe": 15_000, FUND: -7_000}
    booked = [e for e in result.entries if e.kind == "correction"]
    assert {e.ref: e.lines for e in booked} == {
        "correction:1": (Line(receivable("cafe"), 5_000), Line(CORRECTIONS, -5_000)),
        "correction:2": (Line(receivable("books"), 2_000), Line(CORRECTIONS, -2_000)),
    }


def test_a_campaign_cost_splits_exactly_by_rule() -> None:
    shops = ["cafe", "books", "shoes"]
    equal = CostSharing(issuer="campaign:y", rule="equal", shops=shops)
    assert split_cost(100, equal, {}) == {"books": 34, "cafe": 33, "shoes": 33}
    assert split_cost(-100, equal, {}) == {"books": -34, "cafe": -33, "shoes": -33}
    by_sales = CostSharing(issuer="campaign:y", rule="sales_share", shops=shops)
    assert split_cost(1_000, by_sales, {"books": 600, "cafe": 300, "shoes": 100}) == {
        "books": 600,
        "cafe": 300,
        "shoes": 100,
    }
    # Nobody sold anything: equal shares rather than a division by zero.
    assert split_cost(3, by_sales, {}) == {"books": 1, "cafe": 1, "shoes": 1}
    mall = CostSharing(issuer="campaign:y", rule="mall")
    assert split_cost(500, mall, {}) == {MALL: 500}


SHOPS = ["books", "shoes", "cafe", "gold", "toys"]
shops = st.sampled_from(SHOPS)
issuers = st.sampled_from([*SHOPS, "campaign:yalda", "campaign:nowruz"])
redemptions = st.lists(
    st.builds(
        Redemption,
        ref=st.uuids().map(str),
        issuer=issuers,
        redeemer=shops,
        amount_rial=st.integers(-(10**9), 10**12),
        fee_bp=st.sampled_from([0, 0, 150, 300, 10_000]),
        covered=st.booleans(),
    ),
    max_size=60,
)
policies = st.builds(
    SettlementPolicy,
    funding=st.sampled_from(["postpaid", "prepaid"]),
    breakage=st.sampled_from(["issuer", "fund"]),
    cost_sharing=st.just(
        [
            CostSharing(issuer="campaign:yalda", rule="sales_share", shops=["books", "cafe"]),
            CostSharing(issuer="campaign:nowruz", rule="mall"),
        ]
    ),
)
breakages = st.lists(st.tuples(issuers, st.integers(0, 10**9), st.booleans()), max_size=5)
corrections = st.lists(
    st.tuples(st.sampled_from([*SHOPS, "mall"]), st.integers(-(10**9), 10**9).filter(bool)),
    max_size=4,
)
sales = st.dictionaries(shops, st.integers(0, 10**12), max_size=5)


def _clear(
    items: list[Redemption],
    policy: SettlementPolicy,
    expired: list[tuple[str, int, bool]],
    sold: dict[str, int],
    corrected: list[tuple[str, int]] = (),  # type: ignore[assignment]
) -> PeriodResult:
    clearing = Clearing(policy)
    for r in items:
        clearing.add(r)
    for issuer, amount, covered in expired:
        clearing.add_breakage(issuer, amount, covered)
    for index, (party, amount) in enumerate(corrected):
        clearing.add_correction(f"correction:{index}", party, amount)
    return clearing.result(sold)


@given(items=redemptions, policy=policies, expired=breakages, sold=sales, corrected=corrections)
def test_every_period_nets_to_zero_and_gross_is_netted_plus_payments(
    items: list[Redemption],
    policy: SettlementPolicy,
    expired: list[tuple[str, int, bool]],
    sold: dict[str, int],
    corrected: list[tuple[str, int]],
) -> None:
    result = _clear(items, policy, expired, sold, corrected)
    # Net positions, the fund's included, sum to zero.
    assert sum(result.positions.values()) == 0
    # Gross = netted + payments (+ what prepayments covered), for everyone and in total.
    paid_in = sum(i.amount_rial for i in result.instructions if i.direction == "to_fund")
    paid_out = sum(i.amount_rial for i in result.instructions if i.direction == "from_fund")
    covered = sum(p.covered_rial for p in result.parties.values())
    assert sum(result.gross_payable.values()) == result.netted_rial + paid_in + covered
    assert sum(result.gross_receivable.values()) == result.netted_rial + paid_out
    # Each participant gets at most one instruction, and postpaid moves exactly its position.
    assert len({i.shop for i in result.instructions}) == len(result.instructions)
    # A participant whose value was not paid for in advance moves exactly its position.
    moved = {
        i.shop: i.amount_rial if i.direction == "from_fund" else -i.amount_rial
        for i in result.instructions
    }
    for name, party in result.parties.items():
        if not party.covered_rial:
            assert moved.get(name, 0) == party.position_rial
    # The journal balances, clears every receivable and payable, and says the same.
    assert all(e.balanced() for e in result.entries)
    balances: dict[str, int] = {}
    earned: dict[str, int] = {}
    for entry in result.entries:
        for line in entry.lines:
            balances[line.account] = balances.get(line.account, 0) + line.amount_rial
            if entry.kind != "settlement":
                earned[line.account] = earned.get(line.account, 0) + line.amount_rial
    assert all(
        amount == 0
        for account, amount in balances.items()
        if account.endswith((":receivable", ":payable"))
    )
    for name, position in result.positions.items():
        if name != FUND:
            assert earned.get(receivable(name), 0) + earned.get(payable(name), 0) == position
    assert balances.get(FEES, 0) == result.fees_rial
    assert balances.get(PAYMENTS, 0) == paid_out - paid_in
    assert balances.get(CORRECTIONS, 0) == -sum(amount for _party, amount in corrected)
    # Campaign value is paid by its participants (or the mall), never by the campaign.
    assert not any(n.startswith("campaign:") for n in result.parties)
    # What it issued and was spent, and (breakage to the fund) what of it expired.
    yalda = sum(
        r.amount_rial for r in items if r.issuer == "campaign:yalda" and r.redeemer != r.issuer
    )
    if policy.breakage == "fund":
        yalda += sum(a for i, a, paid in expired if i == "campaign:yalda" and not paid)
    assert sum(result.campaign_shares.get("campaign:yalda", {}).values()) == yalda
    # Prepayments: drawn for exactly the covered value spent at other shops.
    covered = sum(
        r.amount_rial
        for r in items
        if r.covered and r.issuer != r.redeemer and not r.issuer.startswith("campaign:")
    )
    assert sum(p.covered_rial for p in result.parties.values()) == covered


@given(
    items=redemptions, policy=policies, expired=breakages, sold=sales, seed=st.integers(0, 2**32)
)
def test_recomputing_a_period_gives_the_same_result_in_any_order(
    items: list[Redemption],
    policy: SettlementPolicy,
    expired: list[tuple[str, int, bool]],
    sold: dict[str, int],
    seed: int,
) -> None:
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    first, again = _clear(items, policy, expired, sold), _clear(shuffled, policy, expired, sold)
    assert (first.positions, first.fees_rial, first.instructions, first.pairs) == (
        again.positions,
        again.fees_rial,
        again.instructions,
        again.pairs,
    )
    assert [(e.ref, e.lines) for e in first.entries] == [(e.ref, e.lines) for e in again.entries]


def test_a_campaign_with_no_declared_rule_is_paid_by_the_mall() -> None:
    result = clear([Redemption("r1", "campaign:surprise", "cafe", 10_000)])
    assert result.positions == {MALL: -10_000, "cafe": 10_000, FUND: 0}
    assert Instruction(MALL, "to_fund", 10_000, "sponsorship") in result.instructions
