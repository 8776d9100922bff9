"""Choosing lots for a spend, and slicing spent lots back out for partial refunds."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_node.domain.errors import InsufficientBalance, ProblemCode
from shop_node.domain.lots import OpenLot, allocate, spending_order
from shop_node.domain.refunds import window

T0 = dt.datetime(2025, 3, 21, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


LOTS = [
    OpenLot(lot_id=1, remaining=100, expires_at=None),
    OpenLot(lot_id=2, remaining=50, expires_at=day(30)),
    OpenLot(lot_id=3, remaining=70, expires_at=day(10)),
    OpenLot(lot_id=4, remaining=0, expires_at=day(1)),
    OpenLot(lot_id=5, remaining=20, expires_at=day(30)),
]


def test_spending_order_soonest_first_never_expiring_last_ties_by_id() -> None:
    assert [lot.lot_id for lot in spending_order(LOTS)] == [4, 3, 2, 5, 1]
    assert [lot.lot_id for lot in spending_order(list(reversed(LOTS)))] == [4, 3, 2, 5, 1]


def test_never_expiring_lots_tie_by_id() -> None:
    lots = [OpenLot(9, 5, None), OpenLot(2, 5, None), OpenLot(7, 5, day(1000))]
    assert [lot.lot_id for lot in spending_order(lots)] == [7, 2, 9]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1, [(3, 1)]),
        (70, [(3, 70)]),
        (71, [(3, 70), (2, 1)]),
        (120, [(3, 70), (2, 50)]),
        (135, [(3, 70), (2, 50), (5, 15)]),
        (140, [(3, 70), (2, 50), (5, 20)]),
        (141, [(3, 70), (2, 50), (5, 20), (1, 1)]),
        (240, [(3, 70), (2, 50), (5, 20), (1, 100)]),
    ],
)
def test_allocate_soonest_expiring_first(amount: int, expected: list[tuple[int, int]]) -> None:
    assert allocate(LOTS, amount, "credit") == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (80, [(1, 80)]),
        (100, [(1, 100)]),
        (160, [(1, 100), (2, 50), (3, 10)]),
        (240, [(1, 100), (2, 50), (3, 70), (5, 20)]),
    ],
)
def test_allocate_keep_order_respects_the_given_order(
    amount: int, expected: list[tuple[int, int]]
) -> None:
    assert allocate(LOTS, amount, "points", keep_order=True) == expected


@pytest.mark.parametrize("keep_order", [False, True])
def test_allocate_raises_when_short(keep_order: bool) -> None:
    with pytest.raises(InsufficientBalance) as caught:
        allocate(LOTS, 241, "credit", keep_order=keep_order)
    error = caught.value
    assert (error.asset, error.available, error.requested) == ("credit", 240, 241)
    assert error.code is ProblemCode.INSUFFICIENT_BALANCE
    assert "241" in error.message
    assert "240" in error.message


def test_allocate_from_no_lots_raises() -> None:
    with pytest.raises(
        InsufficientBalance, match=r"^not enough points: 1 requested, 0 available$"
    ) as caught:
        allocate([], 1, "points")
    assert (caught.value.available, caught.value.requested) == (0, 1)


@pytest.mark.parametrize("amount", [0, -1])
def test_allocate_rejects_non_positive_amounts(amount: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        allocate(LOTS, amount, "credit")


def test_allocate_does_not_reorder_the_callers_lots() -> None:
    lots = list(LOTS)
    allocate(lots, 200, "credit")
    assert lots == LOTS


lot_lists = st.lists(
    st.builds(
        OpenLot,
        lot_id=st.integers(1, 10**6),
        remaining=st.integers(0, 1_000),
        expires_at=st.none() | st.integers(0, 20).map(day),
    ),
    max_size=12,
    unique_by=lambda lot: lot.lot_id,
)


def _sort_key(lot: OpenLot) -> tuple[bool, dt.datetime, int]:
    return (lot.expires_at is None, lot.expires_at or T0, lot.lot_id)


@given(lot_lists, st.data())
def test_allocate_property(lots: list[OpenLot], data: st.DataObject) -> None:
    available = sum(lot.remaining for lot in lots)
    if available == 0:
        with pytest.raises(
            InsufficientBalance, match=r"^not enough credit: 1 requested, 0 available$"
        ):
            allocate(lots, 1, "credit")
        return
    amount = data.draw(st.integers(1, available), label="amount")
    taken = allocate(lots, amount, "credit")
    by_id = {lot.lot_id: lot for lot in lots}

    assert sum(take for _, take in taken) == amount
    assert len({lot_id for lot_id, _ in taken}) == len(taken)
    for lot_id, take in taken:
        assert 0 < take <= by_id[lot_id].remaining

    # A lot is touched only once every lot that comes before it is used up.
    got = dict(taken)
    ordered = sorted(lots, key=_sort_key)
    for index, lot in enumerate(ordered):
        if lot.lot_id in got:
            for earlier in ordered[:index]:
                assert got.get(earlier.lot_id, 0) == earlier.remaining
    # And only the last lot touched may be left with value.
    for lot_id, take in taken[:-1]:
        assert take == by_id[lot_id].remaining


@given(lot_lists, st.data())
def test_allocate_keep_order_property(lots: list[OpenLot], data: st.DataObject) -> None:
    available = sum(lot.remaining for lot in lots)
    if available == 0:
        return
    amount = data.draw(st.integers(1, available), label="amount")
    taken = allocate(lots, amount, "points", keep_order=True)
    assert sum(take for _, take in taken) == amount
    # The lots used are a prefix of the given order (skipping empty ones), each but the
    # last emptied.
    used = [lot for lot in lots if lot.remaining > 0][: len(taken)]
    assert [lot.lot_id for lot in used] == [lot_id for lot_id, _ in taken]
    for lot, (_, take) in zip(used[:-1], taken[:-1], strict=True):
        assert take == lot.remaining
    assert 0 < taken[-1][1] <= used[-1].remaining


@given(lot_lists, st.integers(1, 10**6))
def test_allocate_more_than_available_raises(lots: list[OpenLot], extra: int) -> None:
    available = sum(lot.remaining for lot in lots)
    with pytest.raises(InsufficientBalance) as caught:
        allocate(lots, available + extra, "credit")
    assert (caught.value.available, caught.value.requested) == (available, available + extra)


# --- window ----------------------------------------------------------------------------

PARTS = [(7, 30), (3, 0), (9, 50), (4, 20)]


@pytest.mark.parametrize(
    ("start", "length", "expected"),
    [
        (0, 100, [(7, 30), (9, 50), (4, 20)]),
        (0, 10, [(7, 10)]),
        (10, 20, [(7, 20)]),
        (25, 10, [(7, 5), (9, 5)]),
        (30, 50, [(9, 50)]),
        (20, 70, [(7, 10), (9, 50), (4, 10)]),
        (95, 5, [(4, 5)]),
        (95, 50, [(4, 5)]),
        (100, 10, []),
        (40, 0, []),
    ],
)
def test_window_examples(start: int, length: int, expected: list[tuple[int, int]]) -> None:
    assert window(PARTS, start, length) == expected


parts_lists = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 10**6)),
    max_size=10,
)


@st.composite
def cuts(draw: st.DrawFn) -> tuple[list[tuple[int, int]], list[int]]:
    """Parts, and lengths of consecutive windows covering them exactly."""
    parts = draw(parts_lists)
    total = sum(amount for _, amount in parts)
    points = sorted(draw(st.lists(st.integers(0, total), max_size=8)))
    bounds = [0, *points, total]
    return parts, [hi - lo for lo, hi in pairwise(bounds)]


@given(cuts())
def test_consecutive_windows_partition_the_parts(
    case: tuple[list[tuple[int, int]], list[int]],
) -> None:
    parts, lengths = case
    summed: dict[int, int] = {}
    start = 0
    for length in lengths:
        piece = window(parts, start, length)
        assert sum(amount for _, amount in piece) == length
        assert all(amount > 0 for _, amount in piece)
        for part_id, amount in piece:
            summed[part_id] = summed.get(part_id, 0) + amount
        start += length
    expected: dict[int, int] = {}
    for part_id, amount in parts:
        if amount:
            expected[part_id] = expected.get(part_id, 0) + amount
    assert summed == expected


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 10**6)), max_size=10, unique_by=lambda p: p[0]
    ),
    st.integers(0, 10**7),
    st.integers(0, 10**7),
)
def test_window_takes_a_contiguous_run_of_the_parts(
    parts: list[tuple[int, int]], start: int, length: int
) -> None:
    piece = window(parts, start, length)
    total = sum(amount for _, amount in parts)
    assert sum(amount for _, amount in piece) == max(0, min(start + length, total) - start)
    amounts = dict(parts)
    order = [part_id for part_id, amount in parts if amount > 0]
    ids = [part_id for part_id, _ in piece]
    if ids:
        # Consecutive non-empty parts, in their order...
        first = order.index(ids[0])
        assert ids == order[first : first + len(ids)]
    for part_id, amount in piece:
        assert 0 < amount <= amounts[part_id]
    # ... of which only the first and the last may be cut.
    for part_id, amount in piece[1:-1]:
        assert amount == amounts[part_id]
