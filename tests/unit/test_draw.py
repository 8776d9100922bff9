"""The lottery draw: reproducible, committed, verifiable, and fair in distribution."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.draw import (
    ALGORITHM,
    Draw,
    InvalidTickets,
    TicketList,
    commit,
    draw,
    list_digest,
    new_entrant_id,
    new_seed,
    published_record,
    verify,
)

SEED = bytes(range(32))
entrant_ids = st.binary(min_size=32, max_size=32).map(bytes.hex)
entrant_maps = st.dictionaries(entrant_ids, st.integers(1, 1_000), min_size=1, max_size=20)
seeds = st.binary(min_size=16, max_size=48)
public_values = st.text(max_size=40)
quick = settings(deadline=None, max_examples=60)


def pid(n: int) -> str:
    """A readable entrant id; sorts in the order of ``n``."""
    return f"{n:064x}"


def tickets_of(counts: list[int]) -> TicketList:
    return TicketList.from_pairs((pid(i), c) for i, c in enumerate(counts))


def reference_draw(
    seed: bytes, public_value: str, pairs: dict[str, int], winners: int
) -> tuple[str, list[tuple[str, int]]]:
    """The module docstring's algorithm, written the slow, obvious way."""
    entrants = sorted(pairs.items())
    encoded = b"".join(bytes.fromhex(p) + n.to_bytes(8, "big") for p, n in entrants)
    digest = hashlib.sha256(encoded).hexdigest()
    message = b"mallnet-lottery-v1|" + digest.encode("ascii") + b"|" + public_value.encode()
    root = hmac.new(seed, message, hashlib.sha256).digest()
    counter = 0

    def below(limit: int) -> int:
        nonlocal counter
        bits = (limit - 1).bit_length()
        while True:
            block = hashlib.sha256(root + counter.to_bytes(8, "big")).digest()
            counter += 1
            value = int.from_bytes(block[:8], "big") >> (64 - bits)
            if value < limit:
                return value

    remaining = list(entrants)
    won: list[tuple[str, int]] = []
    while len(won) < winners and remaining:
        ticket = below(sum(n for _, n in remaining))
        for index, (entrant, count) in enumerate(remaining):
            if ticket < count:
                won.append((entrant, count))
                del remaining[index]
                break
            ticket -= count
    return digest, won


def record_of(result: Draw, tickets: TicketList) -> dict[str, Any]:
    """What a verifier holds: the published JSON (round-tripped) and the ticket list."""
    return json.loads(json.dumps(published_record(result))) | {"tickets": tickets}


# --- the algorithm as documented ------------------------------------------------------


@quick
@given(entrant_maps, seeds, public_values, st.integers(0, 25))
def test_draw_matches_the_documented_algorithm(
    pairs: dict[str, int], seed: bytes, public_value: str, winners: int
) -> None:
    tickets = TicketList.from_pairs(pairs.items())

    result = draw(seed, public_value, tickets, winners)

    digest, expected = reference_draw(seed, public_value, pairs, winners)
    assert result.list_digest == digest
    assert [(w.entrant_id, w.tickets) for w in result.winners] == expected
    order = sorted(pairs)
    assert [w.position for w in result.winners] == [order.index(p) for p, _ in expected]
    assert result.total_tickets == sum(pairs.values())
    assert result.entrants == len(pairs)
    assert result.commitment == hashlib.sha256(seed).hexdigest() == commit(seed)
    assert result.algorithm == ALGORITHM


def test_known_answer_for_reimplementers() -> None:
    """A fixed example; an outside implementation must print these same winners."""
    tickets = tickets_of([1, 2, 3, 4, 10])

    result = draw(SEED, "example public value", tickets, 3)

    assert result.commitment == ("630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd")
    assert result.list_digest == (
        "3970e1bad6293a0ae6c4e865eb4a1f0647d6ed6acc5a86679b00d16bff25675c"
    )
    assert [w.position for w in result.winners] == [3, 4, 2]


def test_list_digest_is_the_documented_encoding_in_canonical_order() -> None:
    pairs = [(pid(3), 7), (pid(1), 2**40), ("ab" * 31 + "00", 1)]
    expected = hashlib.sha256(
        b"".join(bytes.fromhex(p) + n.to_bytes(8, "big") for p, n in sorted(pairs))
    ).hexdigest()

    assert list_digest(TicketList.from_pairs(pairs)) == expected
    assert list_digest(TicketList.from_pairs(reversed(pairs))) == expected


def test_commitment_and_seed() -> None:
    seed = new_seed()

    assert len(seed) == 32
    assert new_seed() != seed
    assert commit(seed) == hashlib.sha256(seed).hexdigest()


# --- reproducibility and sensitivity --------------------------------------------------


@quick
@given(entrant_maps, seeds, public_values, st.integers(1, 5))
def test_same_inputs_give_the_same_draw(
    pairs: dict[str, int], seed: bytes, public_value: str, winners: int
) -> None:
    forwards = TicketList.from_pairs(pairs.items())
    backwards = TicketList.from_pairs(reversed(list(pairs.items())))

    assert draw(seed, public_value, forwards, winners) == draw(
        seed, public_value, backwards, winners
    )


@quick
@given(entrant_maps, st.data())
def test_any_change_to_the_list_changes_its_digest(
    pairs: dict[str, int], data: st.DataObject
) -> None:
    digest = list_digest(TicketList.from_pairs(pairs.items()))
    chosen = data.draw(st.sampled_from(sorted(pairs)))
    newcomer = data.draw(entrant_ids.filter(lambda p: p not in pairs))

    recounted = pairs | {chosen: pairs[chosen] + data.draw(st.integers(1, 10**6))}
    without = {p: n for p, n in pairs.items() if p != chosen}
    with_newcomer = pairs | {newcomer: data.draw(st.integers(1, 1_000))}

    for changed in (recounted, without, with_newcomer):
        assert list_digest(TicketList.from_pairs(changed.items())) != digest


@quick
@given(seeds, seeds)
def test_a_different_seed_has_a_different_commitment(first: bytes, second: bytes) -> None:
    assert (commit(first) == commit(second)) == (first == second)


def test_seed_or_public_value_changes_the_winners() -> None:
    tickets = tickets_of(list(range(1, 21)))
    base = draw(SEED, "block 100", tickets, 5).winners

    for other_seed in (bytes(32), b"\x01" * 32, SEED[::-1]):
        assert draw(other_seed, "block 100", tickets, 5).winners != base
    for other_value in ("block 101", "block 100 ", "Block 100"):
        assert draw(SEED, other_value, tickets, 5).winners != base


# --- verification ---------------------------------------------------------------------


def test_verify_accepts_an_honest_record_with_either_list_form() -> None:
    tickets = tickets_of([5, 1, 9, 2, 7, 3])
    result = draw(SEED, "block 7", tickets, 3)
    record = record_of(result, tickets)

    assert verify(record) == []
    assert verify(record | {"tickets": [list(pair) for pair in tickets.pairs()]}) == []


def test_verify_reports_each_kind_of_tampering() -> None:
    tickets = tickets_of([5, 1, 9, 2, 7, 3])
    record = record_of(draw(SEED, "block 7", tickets, 3), tickets)
    loser = next(i for i in range(6) if i not in {w["position"] for w in record["winners"]})

    swapped = [
        {"entrant_id": pid(loser), "tickets": tickets.counts[loser].item(), "position": loser},
        *record["winners"][1:],
    ]
    problems = verify(record | {"winners": swapped})
    assert len(problems) == 1
    assert problems[0].startswith("winner 1:")

    problems = verify(record | {"seed_hex": bytes(32).hex()})
    assert any(p.startswith("commitment:") for p in problems)

    problems = verify(record | {"public_value": "block 8"})
    assert problems
    assert all(p.startswith("winner") for p in problems)

    recounted = [(p, n + 1 if i == 2 else n) for i, (p, n) in enumerate(tickets.pairs())]
    problems = verify(record | {"tickets": recounted})
    assert any(p.startswith("list_digest:") for p in problems)
    assert any(p.startswith("total_tickets:") for p in problems)

    assert verify({k: v for k, v in record.items() if k != "seed_hex"}) == [
        "record lacks seed_hex; cannot re-run the draw"
    ]
    assert verify(record | {"tickets": [("nope", 1)]})[0].startswith("the published ticket list")


# --- fairness -------------------------------------------------------------------------

# Critical values of the chi-square distribution at the 0.999 quantile (scipy is not a
# dependency): a fair draw fails these one time in a thousand, and the public values are
# fixed, so the outcome never flakes between runs.
CHI2_999 = {2: 13.816, 4: 18.467, 5: 20.515}


def chi_square(observed: Counter[Any], expected: dict[Any, float]) -> float:
    assert set(observed) <= set(expected)
    return sum((observed[k] - e) ** 2 / e for k, e in expected.items())


def test_first_winner_frequencies_follow_the_tickets() -> None:
    counts = [1, 2, 3, 4, 10]
    tickets = tickets_of(counts)
    runs = 20_000

    firsts = Counter(draw(SEED, f"round {i}", tickets, 1).winners[0].position for i in range(runs))

    expected = {i: runs * c / sum(counts) for i, c in enumerate(counts)}
    assert chi_square(firsts, expected) < CHI2_999[len(counts) - 1]


def test_second_place_follows_sampling_without_replacement() -> None:
    counts = [1, 2, 3]
    total = sum(counts)
    p = [c / total for c in counts]
    tickets = tickets_of(counts)
    runs = 20_000

    pairs = Counter(
        tuple(w.position for w in draw(SEED, f"round {i}", tickets, 2).winners) for i in range(runs)
    )

    # P(first = i, second = j) = p_i * p_j / (1 - p_i): j is drawn among those left.
    joint = {(i, j): p[i] * p[j] / (1 - p[i]) for i in range(3) for j in range(3) if i != j}
    second = {j: runs * sum(q for (_, b), q in joint.items() if b == j) for j in range(3)}
    seconds = Counter({j: sum(n for (_, b), n in pairs.items() if b == j) for j in range(3)})
    assert all(a != b for a, b in pairs)
    assert chi_square(seconds, second) < CHI2_999[2]
    assert chi_square(pairs, {k: runs * q for k, q in joint.items()}) < CHI2_999[5]


# --- edges ----------------------------------------------------------------------------


def test_no_entrants_no_winners() -> None:
    empty = TicketList.from_pairs([])

    result = draw(SEED, "block 1", empty, 3)

    assert result.winners == ()
    assert (result.total_tickets, result.entrants) == (0, 0)
    assert result.list_digest == hashlib.sha256(b"").hexdigest()
    assert verify(record_of(result, empty)) == []


def test_more_winners_than_entrants_draws_everyone_once() -> None:
    tickets = tickets_of([3, 1, 4])

    result = draw(SEED, "block 1", tickets, 10)

    assert sorted(w.position for w in result.winners) == [0, 1, 2]
    assert result.winners == draw(SEED, "block 1", tickets, 3).winners
    assert result.winners[:2] == draw(SEED, "block 1", tickets, 2).winners
    assert result.winners_requested == 10
    assert draw(SEED, "block 1", tickets, 0).winners == ()


def test_huge_ticket_counts_stay_exact() -> None:
    alone = TicketList.from_pairs([(pid(1), 2**62)])
    assert [w.tickets for w in draw(SEED, "x", alone, 2).winners] == [2**62]

    # The largest total int64 running sums hold.
    lopsided = TicketList.from_pairs([(pid(1), 2**62), (pid(2), 1), (pid(3), 2**62 - 2)])
    result = draw(SEED, "x", lopsided, 3)
    assert result.total_tickets == 2**63 - 1
    assert {w.position for w in result.winners} == {0, 1, 2}

    with pytest.raises(InvalidTickets, match="2\\*\\*63"):
        TicketList.from_pairs([(pid(1), 2**62), (pid(2), 2**62)])


def test_entrant_ids_ending_in_zero_bytes_keep_them() -> None:
    # numpy hands out S32 items without trailing NULs; the hex must still be 64 characters.
    entrant = "ab" * 30 + "0000"
    tickets = TicketList.from_pairs([(entrant, 2)])

    assert list(tickets.pairs()) == [(entrant, 2)]
    assert draw(SEED, "x", tickets, 1).winners[0].entrant_id == entrant


def test_entrant_ids_are_random_and_fit_the_list() -> None:
    made = [new_entrant_id() for _ in range(1_000)]

    assert len(set(made)) == 1_000
    tickets = TicketList.from_pairs((entrant, 1) for entrant in made)  # the format it takes
    assert sorted(entrant for entrant, _ in tickets.pairs()) == sorted(made)


def test_from_arrays_sorts_and_adopts() -> None:
    raw = np.array([bytes.fromhex(pid(n)) for n in (3, 1, 2)], dtype="S32")
    unsorted = TicketList.from_arrays(raw, np.array([30, 10, 20]))
    assert list(unsorted.pairs()) == [(pid(1), 10), (pid(2), 20), (pid(3), 30)]

    ordered = np.sort(raw)
    counts = np.array([10, 20, 30], dtype=np.int64)
    adopted = TicketList.from_arrays(ordered, counts)
    assert list_digest(adopted) == list_digest(unsorted)
    assert adopted.counts is counts
    assert not counts.flags.writeable

    rows = np.frombuffer(ordered.tobytes(), dtype=np.uint8).reshape(3, 32)
    assert list_digest(TicketList.from_arrays(rows, [10, 20, 30])) == list_digest(unsorted)


@pytest.mark.parametrize(
    ("pairs", "complaint"),
    [
        ([("AB" * 32, 1)], "64 lowercase hex"),
        ([("ab" * 31, 1)], "64 lowercase hex"),
        ([("zz" * 32, 1)], "64 lowercase hex"),
        ([(pid(1), 0)], "at least 1"),
        ([(pid(1), -3)], "at least 1"),
        ([(pid(1), True)], "at least 1"),
        ([(pid(1), 2.0)], "at least 1"),
        ([(pid(1), 1), (pid(1), 2)], "more than once"),
    ],
)
def test_invalid_pairs_are_refused(pairs: list[tuple[Any, Any]], complaint: str) -> None:
    with pytest.raises(InvalidTickets, match=complaint) as raised:
        TicketList.from_pairs(pairs)
    assert raised.value.code == "invalid_tickets"


def test_invalid_arrays_are_refused() -> None:
    raw = np.array([bytes.fromhex(pid(n)) for n in (2, 1, 2)], dtype="S32")
    with pytest.raises(InvalidTickets, match="more than once"):
        TicketList.from_arrays(raw, [1, 1, 1])
    with pytest.raises(InvalidTickets, match="one count per entrant"):
        TicketList.from_arrays(raw, [1, 1])
    with pytest.raises(InvalidTickets, match="at least 1"):
        TicketList.from_arrays(raw[:2], [1, 0])
    with pytest.raises(InvalidTickets, match="S32"):
        TicketList.from_arrays(np.array([b"short"]), [1])
    with pytest.raises(InvalidTickets, match="integer"):
        TicketList.from_arrays(raw[:1], [1.5])


def test_a_weak_seed_or_negative_winners_is_refused() -> None:
    tickets = tickets_of([1])
    with pytest.raises(ValueError, match="at least 16"):
        draw(b"short", "x", tickets, 1)
    with pytest.raises(ValueError, match="0 or more"):
        draw(SEED, "x", tickets, -1)
