"""Every offer seed 001 gives as an example, written as an offer document exactly as the
seed says it, and who among fixture members qualifies and what each gets.

The salon (seed 001's offers are a beauty salon's) has product groups nails, colour and
hair; the member fixtures are built so that each example has members on both sides of
each bound."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from mallnet.jalali import TEHRAN
from shop_node.domain.offers.conditions import MemberFacts, Purchase, Visit, holds
from shop_node.domain.offers.definition import Offer
from shop_node.domain.offers.parsing import parse_offer
from shop_node.domain.offers.rewards import Candidate, give
from shop_node.domain.offers.summary import summarise

GROUPS = ("nails", "colour", "hair", "general")
NOW = dt.datetime(2026, 12, 6, 11, 0, tzinfo=TEHRAN)  # a Sunday morning in Tehran
TOMAN = 10  # Rial


def _visits(
    n: int, toman: int, *, last_days_ago: int = 1, every: int = 7, groups: Sequence[str] = ("hair",)
) -> tuple[Visit, ...]:
    """``n`` visits of ``toman`` each, ``every`` days apart, the last ``last_days_ago``."""
    last = NOW - dt.timedelta(days=last_days_ago)
    return tuple(
        Visit(last - dt.timedelta(days=every * (n - 1 - i)), toman * TOMAN, frozenset(groups))
        for i in range(n)
    )


def _member(
    visits: Sequence[Visit] = (), tier: str = "bronze", kind: str = "individual"
) -> MemberFacts:
    return MemberFacts(
        tier=tier, membership_type=kind, joined_at=NOW - dt.timedelta(days=400), visits=visits
    )


def _offer(document: dict[str, Any]) -> Offer:
    return parse_offer({"name_fa": "آفر", "name_en": "Offer", **document}, GROUPS)


def _given(offer: Offer, purchase: Purchase) -> tuple[int, int]:
    """(discount, credit) in Rial that ``offer`` alone gives at ``purchase``."""
    found = give([Candidate("o", offer)], list(purchase.lines))
    return (found[0].discount_rial, found[0].credit_rial) if found else (0, 0)


def _basket(toman: int, group: str = "hair") -> Purchase:
    return Purchase(NOW, ((group, toman * TOMAN),))


def test_more_than_ten_visits_earns_ten_percent_more_credit() -> None:
    offer = _offer(
        {
            "kind": "permanent",
            "audience": {"kind": "visits", "gt": 10},
            "reward": {"extra_credit_bp": 1_000},
        }
    )
    eleven, ten = _member(_visits(11, 100_000)), _member(_visits(10, 100_000))
    assert holds(offer.audience, eleven, NOW)
    assert not holds(offer.audience, ten, NOW)
    assert _given(offer, _basket(400_000)) == (0, 40_000 * TOMAN)


def test_over_five_million_toman_spent_gets_five_percent_off_and_five_percent_credit() -> None:
    offer = _offer(
        {
            "kind": "permanent",
            "audience": {"kind": "total_spend_rial", "gt": 5_000_000 * TOMAN},
            "reward": {"discount_bp": 500, "extra_credit_bp": 500},
        }
    )
    big = _member(_visits(6, 1_000_000))  # 6,000,000 toman
    exact = _member(_visits(5, 1_000_000))  # 5,000,000: not more than
    assert holds(offer.audience, big, NOW)
    assert not holds(offer.audience, exact, NOW)
    # 5% off 1,000,000 toman = 50,000; 5% credit on the 950,000 paid = 47,500
    assert _given(offer, _basket(1_000_000)) == (50_000 * TOMAN, 47_500 * TOMAN)


def test_silver_members_earn_fifteen_percent_more_credit() -> None:
    offer = _offer(
        {
            "kind": "permanent",
            "audience": {"kind": "tier", "codes": ["silver"]},
            "reward": {"extra_credit_bp": 1_500},
        }
    )
    assert holds(offer.audience, _member(tier="silver"), NOW)
    assert not holds(offer.audience, _member(tier="gold"), NOW)
    assert _given(offer, _basket(200_000)) == (0, 30_000 * TOMAN)


def test_many_small_visits_earn_more_credit_on_a_next_purchase_over_300_000_toman() -> None:
    """More than 5 visits averaging under 200,000 toman: 10% more credit if the next
    purchase is over 300,000 toman (one-time)."""
    offer = _offer(
        {
            "kind": "one_time",
            "audience": {
                "kind": "all",
                "of": [
                    {"kind": "visits", "gt": 5},
                    {"kind": "average_basket_rial", "lt": 200_000 * TOMAN},
                ],
            },
            "when": {"kind": "basket_rial", "gt": 300_000 * TOMAN},
            "reward": {"extra_credit_bp": 1_000},
            "valid_days": 30,
        }
    )
    small = _member(_visits(6, 150_000))
    few = _member(_visits(5, 150_000))
    large = _member(_visits(6, 250_000))
    assert [holds(offer.audience, m, NOW) for m in (small, few, large)] == [True, False, False]
    assert holds(offer.when, small, NOW, _basket(350_000))
    assert not holds(offer.when, small, NOW, _basket(300_000))
    assert _given(offer, _basket(350_000)) == (0, 35_000 * TOMAN)


def test_nails_but_never_colour_gets_twenty_percent_off_colour_within_thirty_days() -> None:
    offer = _offer(
        {
            "kind": "one_time",
            "audience": {
                "kind": "all",
                "of": [
                    {"kind": "bought_group", "group": "nails"},
                    {"kind": "never_bought_group", "group": "colour"},
                ],
            },
            "when": {"kind": "basket_has_group", "groups": ["colour"]},
            "reward": {"discount_bp": 2_000, "groups": ["colour"]},
            "valid_days": 30,
        }
    )
    nails = _member(_visits(3, 300_000, groups=("nails",)))
    both = _member(_visits(3, 300_000, groups=("nails", "colour")))
    hair = _member(_visits(3, 300_000, groups=("hair",)))
    assert [holds(offer.audience, m, NOW) for m in (nails, both, hair)] == [True, False, False]
    assert offer.valid_days == 30
    # 20% off the colour line only: 800,000 toman of colour, 200,000 of nails
    basket = Purchase(NOW, (("colour", 800_000 * TOMAN), ("nails", 200_000 * TOMAN)))
    assert holds(offer.when, nails, NOW, basket)
    assert _given(offer, basket) == (160_000 * TOMAN, 0)
    assert not holds(offer.when, nails, NOW, _basket(500_000, "nails"))


def test_lapsed_regulars_get_thirty_five_percent_more_credit_if_they_come_within_a_week() -> None:
    """More than 4 purchases and no visit for 3 months: 35% more credit within 7 days."""
    offer = _offer(
        {
            "kind": "one_time",
            "audience": {
                "kind": "all",
                "of": [
                    {"kind": "visits", "gt": 4},
                    {"kind": "days_since_last_visit", "gt": 90},
                ],
            },
            "reward": {"extra_credit_bp": 3_500},
            "valid_days": 7,
        }
    )
    lapsed = _member(_visits(5, 200_000, last_days_ago=100))
    recent = _member(_visits(5, 200_000, last_days_ago=30))
    rare = _member(_visits(4, 200_000, last_days_ago=100))
    assert [holds(offer.audience, m, NOW) for m in (lapsed, recent, rare)] == [True, False, False]
    assert offer.valid_days == 7
    assert _given(offer, _basket(400_000)) == (0, 140_000 * TOMAN)


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"kind": "weekday", "days": [1]}, True),  # Sunday is the Iranian week's day 1
        ({"kind": "weekday", "days": [0, 6]}, False),
        ({"kind": "hours", "start": "10:00", "end": "12:00"}, True),
        ({"kind": "hours", "start": "22:00", "end": "02:00"}, False),
        ({"kind": "visit_gap_days", "lte": 7}, True),
        ({"kind": "visit_gap_days", "lt": 7}, False),
        ({"kind": "joined", "before": "2026-01-01"}, True),
        ({"kind": "not", "condition": {"kind": "tag", "any_of": ["vip"]}}, True),
        ({"kind": "membership_type", "types": ["company"]}, False),
        ({"kind": "bought_group", "group": "hair", "within_days": 3}, True),
        ({"kind": "bought_group", "group": "nails", "within_days": 30}, False),
    ],
)
def test_other_conditions_of_the_seed(condition: dict[str, Any], matches: bool) -> None:
    """The seed's other kinds: time windows and hours, gap between visits, joined, tags,
    membership type, a group bought recently."""
    member = _member(_visits(3, 100_000, last_days_ago=1, every=7))
    offer = _offer({"kind": "permanent", "when": condition, "reward": {"bonus_points": 10}})
    assert holds(offer.when, member, NOW, _basket(100_000)) is matches


def test_a_birthday_window_crosses_the_new_year() -> None:
    offer = _offer(
        {
            "kind": "permanent",
            "audience": {"kind": "birthday_within", "days_before": 3, "days_after": 7},
            "reward": {"bonus_points": 100},
        }
    )
    new_year = dt.datetime(2026, 12, 29, 12, 0, tzinfo=TEHRAN)
    born = MemberFacts("bronze", "individual", NOW, birthday=dt.date(1990, 1, 3))
    unknown = MemberFacts("bronze", "individual", NOW)
    assert holds(offer.audience, born, new_year)
    assert not holds(offer.audience, born, NOW)
    assert not holds(offer.audience, unknown, new_year)


def test_the_app_reads_each_offer_in_one_sentence_without_its_audience() -> None:
    names = {"colour": ("رنگ و مش", "colour and highlights"), "nails": ("ناخن", "nails")}
    small_visits = _offer(
        {
            "kind": "one_time",
            "audience": {"kind": "visits", "gt": 5},
            "when": {"kind": "basket_rial", "gt": 300_000 * TOMAN},
            "reward": {"extra_credit_bp": 1_000},
            "valid_days": 30,
        }
    )
    assert summarise(small_visits, names, "fa") == (
        "۱۰٪ اعتبار بیشتر برای خرید بالای ۳۰۰٬۰۰۰ تومان، یک بار، تا ۳۰ روز"
    )
    assert summarise(small_visits, names, "en") == (
        "10% more credit on a purchase over 300,000 toman, once, within 30 days"
    )
    colour = _offer(
        {
            "kind": "one_time",
            "audience": {"kind": "bought_group", "group": "nails"},
            "reward": {"discount_bp": 2_000, "groups": ["colour"]},
            "valid_days": 30,
        }
    )
    assert summarise(colour, names, "fa") == "۲۰٪ تخفیف روی رنگ و مش، یک بار، تا ۳۰ روز"
    assert "nails" not in summarise(colour, names, "en")  # who it is for stays on the node
