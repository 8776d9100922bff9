"""The control group of a one-time offer: a keyed hash chooses it, so it is stable for the
offer (the same member is always in or out), random (its share is the one asked for, within
the binomial spread; a member's place in one offer tells nothing of another), and only the
holder of the offer's salt can say who is in it. Fixed salts: the test is repeatable."""

from __future__ import annotations

import math
import random

from shop_node.services.offers import in_control

MEMBERS = range(1, 20_001)
SALT_A = "00112233445566778899aabbccddeeff"
SALT_B = "ffeeddccbbaa99887766554433221100"


def _share(salt: str, control_bp: int) -> float:
    return sum(in_control(salt, m, control_bp) for m in MEMBERS) / len(MEMBERS)


def test_the_share_is_the_one_asked_for_within_four_standard_deviations() -> None:
    for control_bp in (500, 1_000, 2_500, 5_000):
        p = control_bp / 10_000
        spread = 4 * math.sqrt(p * (1 - p) / len(MEMBERS))
        assert abs(_share(SALT_A, control_bp) - p) < spread, control_bp


def test_it_is_stable_nested_and_independent_of_other_offers() -> None:
    first = {m for m in MEMBERS if in_control(SALT_A, m, 1_000)}
    assert first == {m for m in MEMBERS if in_control(SALT_A, m, 1_000)}
    # a larger share keeps everyone a smaller one held back
    assert first <= {m for m in MEMBERS if in_control(SALT_A, m, 2_000)}
    # another offer's group overlaps this one's as chance would (1% of members)
    other = {m for m in MEMBERS if in_control(SALT_B, m, 1_000)}
    overlap = len(first & other) / len(MEMBERS)
    assert abs(overlap - 0.01) < 4 * math.sqrt(0.01 * 0.99 / len(MEMBERS))


def test_nobody_is_held_back_at_zero_and_the_order_of_members_does_not_matter() -> None:
    assert _share(SALT_A, 0) == 0
    shuffled = list(MEMBERS)
    random.Random(7).shuffle(shuffled)
    assert {m for m in shuffled if in_control(SALT_A, m, 1_000)} == {
        m for m in MEMBERS if in_control(SALT_A, m, 1_000)
    }
