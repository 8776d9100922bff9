"""Clearing a period between shops (settlement/clearing.py): a worked example checked by
hand, and the properties every period must have."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settlement.clearing import (
    FEES,
    Instruction,
    Redemption,
    clear,
    payable,
    receivable,
    settle_amount,
)


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
    assert result.positions == {"books": -110_000, "cafe": 20_000, "shoes": 88_000}
    assert result.instructions == [
        Instruction("books", "to_fund", 110_000),
        Instruction("cafe", "from_fund", 20_000),
        Instruction("shoes", "from_fund", 88_000),
    ]
    # 190,000 owed in all; 110,000 moves as money; 80,000 was netted away.
    assert result.netted_rial == 80_000
    assert [e.ref for e in result.entries] == ["r1", "r2", "r3", "r4", "r5"]
    first = {line.account: line.amount_rial for line in result.entries[0].lines}
    assert first == {receivable("shoes"): 98_000, FEES: 2_000, payable("books"): -100_000}


def test_a_fee_splits_exactly_and_a_refund_mirrors_its_capture() -> None:
    assert settle_amount(10_001, 250) == (9_750, 251)
    assert settle_amount(-10_001, 250) == (-9_750, -251)
    assert settle_amount(7, 0) == (7, 0)
    with pytest.raises(ValueError, match="fee_bp"):
        settle_amount(100, 10_001)


shops = st.sampled_from(["books", "shoes", "cafe", "gold", "toys"])
redemptions = st.lists(
    st.builds(
        Redemption,
        ref=st.uuids().map(str),
        issuer=shops,
        redeemer=shops,
        amount_rial=st.integers(-(10**9), 10**12),
        fee_bp=st.sampled_from([0, 0, 150, 300, 10_000]),
    ),
    max_size=60,
)


@given(items=redemptions)
def test_every_period_nets_to_zero_and_each_redemption_settles_once(
    items: list[Redemption],
) -> None:
    result = clear(items)
    # Net positions and the fund's fees sum to zero.
    assert sum(result.positions.values()) + result.fees_rial == 0
    # Each redemption between two shops is in the journal once, balanced.
    between = [r for r in items if r.issuer != r.redeemer and r.amount_rial != 0]
    assert [e.ref for e in result.entries] == [r.ref for r in between]
    assert all(e.balanced() for e in result.entries)
    # Gross = netted + payments.
    paid_in = sum(i.amount_rial for i in result.instructions if i.direction == "to_fund")
    assert sum(result.gross_payable.values()) == result.netted_rial + paid_in
    # The instructions pay exactly the positions, each shop once.
    moved = {
        i.shop: i.amount_rial if i.direction == "from_fund" else -i.amount_rial
        for i in result.instructions
    }
    assert moved == {shop: p for shop, p in result.positions.items() if p}
    assert len(moved) == len(result.instructions)
    # The journal says the same as the positions.
    balances: dict[str, int] = {}
    for entry in result.entries:
        for line in entry.lines:
            balances[line.account] = balances.get(line.account, 0) + line.amount_rial
    for shop, position in result.positions.items():
        journal_position = balances.get(receivable(shop), 0) + balances.get(payable(shop), 0)
        assert journal_position == position
    assert balances.get(FEES, 0) == result.fees_rial


@given(items=redemptions, seed=st.integers(0, 2**32))
def test_recomputing_a_period_gives_the_same_result_in_any_order(
    items: list[Redemption], seed: int
) -> None:
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    first, again = clear(items), clear(shuffled)
    assert (first.positions, first.fees_rial, first.instructions) == (
        again.positions,
        again.fees_rial,
        again.instructions,
    )
    assert (first.gross_payable, first.gross_receivable) == (
        again.gross_payable,
        again.gross_receivable,
    )
