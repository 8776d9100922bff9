"""The profit check before an offer goes live, on seed 001's shoe shop: a 30% margin, the
club's 10% credit, and an offer of 20% credit instead above 600,000 toman."""

from __future__ import annotations

from shop_node.domain.offers.parsing import parse_offer
from shop_node.domain.offers.profit import basket_economics, group_margins
from shop_node.domain.policy import ClubPolicy, EarningRule, ProductGroup, Tier

TOMAN = 10
SHOES = ClubPolicy(
    product_groups=[ProductGroup(code="shoes", name_fa="کفش", name_en="Shoes", margin_bp=3_000)],
    earning=EarningRule(credit_bp=1_000, points=1, per_rial=100_000),
    tiers=[Tier(code="base", name_fa="پایه", name_en="Base", threshold=0)],
)
TWENTY_ABOVE_600 = parse_offer(
    {
        "kind": "permanent",
        "name_fa": "۲۰٪ اعتبار بالای ۶۰۰ هزار تومان",
        "name_en": "20% credit above 600,000 toman",
        "when": {"kind": "basket_rial", "gte": 600_000 * TOMAN},
        "reward": {"extra_credit_bp": 1_000},
    },
    ["shoes"],
)


def test_a_200_000_toman_pair_leaves_40_000_even_once_the_credit_is_spent() -> None:
    check = basket_economics(SHOES, TWENTY_ABOVE_600, [("shoes", 200_000 * TOMAN)])
    plain = check.without
    assert plain.margin_rial == 60_000 * TOMAN
    assert plain.club_credit_rial == 20_000 * TOMAN
    assert plain.left_rial == 40_000 * TOMAN


def test_a_600_000_toman_basket_with_the_offer_leaves_60_000_more_than_the_small_one() -> None:
    check = basket_economics(SHOES, TWENTY_ABOVE_600, [("shoes", 600_000 * TOMAN)])
    assert check.with_offer.margin_rial == 180_000 * TOMAN
    # 20% instead of 10%: the club's 60,000 and the offer's 60,000
    assert check.with_offer.club_credit_rial + check.with_offer.offer_credit_rial == (
        120_000 * TOMAN
    )
    assert check.with_offer.left_rial == 60_000 * TOMAN
    assert check.cost_rial == 60_000 * TOMAN  # what the offer costs on this basket
    assert not check.below_margin
    [shoes] = group_margins(SHOES, TWENTY_ABOVE_600)
    assert (shoes.margin_bp, shoes.club_credit_bp, shoes.offer_bp, shoes.left_bp) == (
        3_000,
        1_000,
        1_000,
        1_000,
    )


def test_an_offer_giving_more_than_the_margin_sells_below_it() -> None:
    greedy = parse_offer(
        {
            "kind": "permanent",
            "name_fa": "حراج",
            "name_en": "Sale",
            "reward": {"discount_bp": 2_500},
        },
        ["shoes"],
    )
    check = basket_economics(SHOES, greedy, [("shoes", 200_000 * TOMAN)])
    # 60,000 margin − 50,000 off − 15,000 credit on the 150,000 paid
    assert check.with_offer.left_rial == -5_000 * TOMAN
    assert check.below_margin
    assert [g.below_margin for g in group_margins(SHOES, greedy)] == [True]
