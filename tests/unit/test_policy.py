"""The club policy document: validation with field paths, tiers and earning rules."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_node.domain.errors import InvalidInput, ProblemCode
from shop_node.domain.policy import DEFAULT_POLICY, ClubPolicy, EarningRule, parse_policy

Document = dict[str, Any]


def valid_document() -> Document:
    return {
        "product_groups": [
            {"code": "general", "name_fa": "عمومی", "name_en": "General"},
            {"code": "food", "name_fa": "خوراکی", "name_en": "Food", "margin_bp": 2_000},
        ],
        "earning": {"credit_bp": 500, "points": 1, "per_rial": 10_000},
        "earning_by_group": {"food": {"credit_bp": 1_000, "points": 3, "per_rial": 1_000}},
        "tiers": [
            {"code": "base", "name_fa": "پایه", "name_en": "Base", "threshold": 0},
            {
                "code": "vip",
                "name_fa": "ویژه",
                "name_en": "VIP",
                "threshold": 1_000,
                "multiplier_bp": 20_000,
            },
        ],
        "frequency": {"every_visits": 5, "reward_points": 10},
        "max_points_per_purchase": 1_000,
    }


def problems_of(document: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(document)
    assert caught.value.code is ProblemCode.INVALID_INPUT
    return [(p.field, p.message) for p in caught.value.problems]


# --- valid documents -------------------------------------------------------------------


def test_default_policy_is_valid_and_round_trips() -> None:
    assert DEFAULT_POLICY.tiers[0].threshold == 0
    assert parse_policy(DEFAULT_POLICY.model_dump(mode="json")) == DEFAULT_POLICY
    assert parse_policy(DEFAULT_POLICY.model_dump()) == DEFAULT_POLICY


def test_valid_document_parses_with_defaults() -> None:
    policy = parse_policy(valid_document())
    assert policy.group_codes == frozenset({"general", "food"})
    assert policy.product_groups[0].margin_bp == 3_000
    assert policy.tiers[0].multiplier_bp == 10_000
    assert policy.frequency is not None
    assert policy.frequency.reward_credit_rial == 0
    assert policy.max_credit_spend_bp == 10_000
    assert policy.max_credit_per_purchase_rial is None
    assert policy.tier_basis == "earned_points"


def test_rule_for_uses_the_group_override_or_the_default() -> None:
    policy = parse_policy(valid_document())
    assert policy.rule_for("food") == EarningRule(credit_bp=1_000, points=3, per_rial=1_000)
    assert policy.rule_for("general") == EarningRule(credit_bp=500, points=1, per_rial=10_000)


# --- invalid documents: one problem each, with its path --------------------------------


def _set(path: str, value: object) -> Callable[[Document], None]:
    """Mutator setting ``a.b[1].c`` style paths in a document."""

    def mutate(document: Document) -> None:
        target: Any = document
        steps = path.replace("[", ".").replace("]", "").split(".")
        for step in steps[:-1]:
            target = target[int(step)] if step.isdigit() else target[step]
        last = steps[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        # Strict ints: no floats (not even whole ones), strings or booleans.
        ("earning.credit_bp", 1.5, "policy.earning.credit_bp", "valid integer"),
        ("earning.credit_bp", 500.0, "policy.earning.credit_bp", "valid integer"),
        ("earning.points", "10", "policy.earning.points", "valid integer"),
        ("earning.per_rial", True, "policy.earning.per_rial", "valid integer"),
        ("tiers[1].threshold", 1_000.0, "policy.tiers[1].threshold", "valid integer"),
        ("tiers[1].multiplier_bp", "20000", "policy.tiers[1].multiplier_bp", "valid integer"),
        ("max_points_per_purchase", "10", "policy.max_points_per_purchase", "valid integer"),
        ("max_credit_per_purchase_rial", 1.5, "policy.max_credit_per_purchase_rial", "integer"),
        ("frequency.every_visits", 5.0, "policy.frequency.every_visits", "valid integer"),
        ("welcome_points", "50", "policy.welcome_points", "valid integer"),
        ("points_valid_days", 30.5, "policy.points_valid_days", "valid integer"),
        (
            "earning_by_group.food.points",
            2.5,
            "policy.earning_by_group.food.points",
            "valid integer",
        ),
        ("product_groups[1].margin_bp", "2000", "policy.product_groups[1].margin_bp", "integer"),
        # Negative values and out-of-range ones.
        ("welcome_points", -1, "policy.welcome_points", "greater than or equal to 0"),
        ("welcome_credit_rial", -10, "policy.welcome_credit_rial", "greater than or equal to 0"),
        ("earning.credit_bp", -1, "policy.earning.credit_bp", "greater than or equal to 0"),
        ("earning.credit_bp", 10_001, "policy.earning.credit_bp", "less than or equal to 10000"),
        ("earning.per_rial", 0, "policy.earning.per_rial", "greater than or equal to 1"),
        ("tiers[1].threshold", -5, "policy.tiers[1].threshold", "greater than or equal to 0"),
        ("tiers[1].multiplier_bp", -1, "policy.tiers[1].multiplier_bp", "greater than or equal"),
        ("max_points_per_purchase", -1, "policy.max_points_per_purchase", "greater than or"),
        ("max_credit_spend_bp", 10_001, "policy.max_credit_spend_bp", "less than or equal"),
        ("frequency.every_visits", 1, "policy.frequency.every_visits", "greater than or equal"),
        ("frequency.reward_points", -3, "policy.frequency.reward_points", "greater than or"),
        ("credit_valid_days", 0, "policy.credit_valid_days", "greater than or equal to 1"),
        (
            "earning_by_group.food.per_rial",
            0,
            "policy.earning_by_group.food.per_rial",
            "greater than or equal to 1",
        ),
        # Unknown keys are rejected, at any depth.
        ("bogus", 1, "policy.bogus", "Extra inputs are not permitted"),
        ("earning.bonus", 1, "policy.earning.bonus", "Extra inputs are not permitted"),
        ("tiers[0].colour", "red", "policy.tiers[0].colour", "Extra inputs are not permitted"),
        ("frequency.every", 3, "policy.frequency.every", "Extra inputs are not permitted"),
        # Other shapes.
        ("product_groups[0].code", "Food!", "policy.product_groups[0].code", "pattern"),
        ("product_groups[0].name_en", "", "policy.product_groups[0].name_en", "at least 1"),
        ("product_groups", [], "policy.product_groups", "at least 1"),
        ("tiers", [], "policy.tiers", "at least 1"),
        ("tier_basis", "visits", "policy.tier_basis", "earned_points"),
    ],
)
def test_invalid_field_is_reported_with_its_path(
    path: str, value: object, field: str, message: str
) -> None:
    document = valid_document()
    _set(path, value)(document)
    problems = problems_of(document)
    assert len(problems) == 1, problems
    assert problems[0][0] == field
    assert message in problems[0][1]


def test_missing_required_fields_are_reported() -> None:
    problems = problems_of({})
    assert sorted(field for field, _ in problems) == ["policy.product_groups", "policy.tiers"]
    assert all(message == "Field required" for _, message in problems)


def test_not_a_mapping() -> None:
    assert problems_of(["not", "a", "policy"]) == [
        ("policy", "Input should be a valid dictionary or instance of ClubPolicy")
    ]


def test_every_field_problem_is_reported_at_once() -> None:
    document = valid_document()
    document["earning"]["credit_bp"] = 1.5
    document["tiers"][1]["multiplier_bp"] = -1
    document["extra"] = True
    fields = {field for field, _ in problems_of(document)}
    assert fields == {
        "policy.earning.credit_bp",
        "policy.tiers[1].multiplier_bp",
        "policy.extra",
    }


def test_invalid_input_message_names_the_paths() -> None:
    document = valid_document()
    document["welcome_points"] = -1
    with pytest.raises(InvalidInput) as caught:
        parse_policy(document)
    assert caught.value.message.startswith("policy.welcome_points: ")


# --- invalid documents: consistency across fields --------------------------------------
# These checks span several fields; each is reported at the field a form shows it at.


def _unknown_group(document: Document) -> None:
    document["earning_by_group"]["drinks"] = {"credit_bp": 100}


def _base_threshold(document: Document) -> None:
    document["tiers"][0]["threshold"] = 10


def _equal_thresholds(document: Document) -> None:
    document["tiers"][1]["threshold"] = 0


def _decreasing_thresholds(document: Document) -> None:
    document["tiers"].append(dict(document["tiers"][1], code="mid", threshold=500))


def _duplicate_groups(document: Document) -> None:
    document["product_groups"].append(dict(document["product_groups"][0], name_en="Again"))


def _duplicate_tiers(document: Document) -> None:
    document["tiers"][1]["code"] = "base"


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (_unknown_group, "policy.earning_by_group.drinks", "names an unknown product group"),
        (
            _base_threshold,
            "policy.tiers[0].threshold",
            "the first tier is the base tier: its threshold must be 0",
        ),
        (_equal_thresholds, "policy.tiers[1].threshold", "tier thresholds must strictly increase"),
        (
            _decreasing_thresholds,
            "policy.tiers[2].threshold",
            "tier thresholds must strictly increase",
        ),
        (_duplicate_groups, "policy.product_groups[2].code", "product group codes must be unique"),
        (_duplicate_tiers, "policy.tiers[1].code", "tier codes must be unique"),
    ],
)
def test_inconsistent_document_is_rejected_at_the_field(
    mutate: Callable[[Document], None], field: str, message: str
) -> None:
    document = valid_document()
    mutate(document)
    assert problems_of(document) == [(field, message)]


def test_parse_policy_does_not_mutate_the_document() -> None:
    document = valid_document()
    snapshot = copy.deepcopy(document)
    parse_policy(document)
    assert document == snapshot


# --- tiers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "tier"),
    [
        (0, "bronze"),
        (499, "bronze"),
        (500, "silver"),
        (1_999, "silver"),
        (2_000, "gold"),
        (10**12, "gold"),
    ],
)
def test_tier_for_picks_the_highest_reached_tier(metric: int, tier: str) -> None:
    assert DEFAULT_POLICY.tier_for(metric).code == tier


def test_next_tier() -> None:
    bronze, silver, gold = DEFAULT_POLICY.tiers
    assert DEFAULT_POLICY.next_tier(bronze) == silver
    assert DEFAULT_POLICY.next_tier(silver) == gold
    assert DEFAULT_POLICY.next_tier(gold) is None


def test_single_tier_policy() -> None:
    document = valid_document()
    document["tiers"] = document["tiers"][:1]
    policy = parse_policy(document)
    assert policy.tier_for(10**15).code == "base"
    assert policy.next_tier(policy.tiers[0]) is None


@st.composite
def tiered_policies(draw: st.DrawFn) -> ClubPolicy:
    thresholds = sorted(draw(st.sets(st.integers(1, 10**9), max_size=6)))
    document = valid_document()
    document["tiers"] = [
        {"code": f"t{i}", "name_fa": "x", "name_en": "x", "threshold": threshold}
        for i, threshold in enumerate([0, *thresholds])
    ]
    return parse_policy(document)


@given(tiered_policies(), st.integers(0, 2 * 10**9))
def test_tier_for_property(policy: ClubPolicy, metric: int) -> None:
    tier = policy.tier_for(metric)
    assert tier in policy.tiers
    assert tier.threshold <= metric
    following = policy.next_tier(tier)
    if following is None:
        assert tier == policy.tiers[-1]
    else:
        assert following.threshold > metric
        assert policy.tiers.index(following) == policy.tiers.index(tier) + 1
