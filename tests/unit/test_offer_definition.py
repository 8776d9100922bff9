"""Offer documents: a malformed one names each bad part by its path, in English and in
Persian, and nothing is accepted; the published JSON Schema is the one the code checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from shop_node.domain.offers.definition import offer_schema
from shop_node.domain.offers.parsing import InvalidOffer, parse_offer

GROUPS = ("nails", "colour")
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "offer.schema.json"


def _problems(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    with pytest.raises(InvalidOffer) as refused:
        parse_offer({"name_fa": "آ", "name_en": "A", **document}, GROUPS)
    return {p.path: (p.code, p.message_fa) for p in refused.value.located}


def test_a_bad_bound_deep_in_the_conditions_is_named_by_its_path() -> None:
    found = _problems(
        {
            "kind": "permanent",
            "audience": {
                "kind": "all",
                "of": [{"kind": "visits", "gt": 5}, {"kind": "visits", "gt": "ten"}],
            },
            "reward": {"extra_credit_bp": 1_000},
        }
    )
    assert list(found) == ["offer.audience.of[1].gt"]
    code, fa = found["offer.audience.of[1].gt"]
    assert code == "int_parsing"
    assert fa == "یک عدد صحیح بنویسید."


def test_an_unknown_condition_and_an_empty_reward_are_both_reported() -> None:
    found = _problems(
        {"kind": "permanent", "when": {"kind": "moon_phase"}, "reward": {}},
    )
    assert found["offer.when"][0] == "union_tag_invalid"
    assert "moon_phase" in found["offer.when"][1]
    assert found["offer.reward"][0] == "empty_reward"


def test_a_one_time_offer_needs_its_deadline_and_no_purchase_condition_in_its_audience() -> None:
    found = _problems(
        {
            "kind": "one_time",
            "audience": {
                "kind": "any",
                "of": [{"kind": "visits", "gt": 5}, {"kind": "basket_rial", "gt": 100}],
            },
            "reward": {"bonus_points": 10},
        }
    )
    assert found["offer.valid_days"][0] == "required"
    assert found["offer.audience.of[1]"][0] == "purchase_condition_in_audience"
    assert "هنگام خرید" in found["offer.audience.of[1]"][1]


def test_a_product_group_the_club_does_not_have_is_refused_where_it_is_named() -> None:
    found = _problems(
        {
            "kind": "permanent",
            "when": {"kind": "not", "condition": {"kind": "basket_has_group", "groups": ["shoes"]}},
            "reward": {"discount_bp": 500, "groups": ["nails", "hats"]},
        }
    )
    assert set(found) == {"offer.when.condition.groups[0]", "offer.reward.groups[1]"}
    assert {code for code, _fa in found.values()} == {"unknown_group"}


@pytest.mark.parametrize(
    ("part", "value", "path", "code"),
    [
        ("reward", {"discount_bp": 12_000}, "offer.reward.discount_bp", "less_than_equal"),
        ("reward", {"bonus_points": 5, "spin": 1}, "offer.reward.spin", "extra_forbidden"),
        (
            "when",
            {"kind": "hours", "start": "25:00", "end": "10:00"},
            "offer.when.start",
            "string_pattern_mismatch",
        ),
        ("when", {"kind": "visits"}, "offer.when", "no_bound"),
        ("when", {"kind": "weekday", "days": [7]}, "offer.when.days[0]", "less_than_equal"),
        ("when", {"no": "kind"}, "offer.when", "union_tag_not_found"),
    ],
)
def test_each_kind_of_mistake_has_its_place_and_persian_words(
    part: str, value: Any, path: str, code: str
) -> None:
    document: dict[str, Any] = {"kind": "permanent", "reward": {"bonus_points": 1}}
    document[part] = value
    found = _problems(document)
    assert found[path][0] == code
    assert found[path][1]
    assert found[path][1] != "این مقدار درست نیست."


def test_too_deep_a_nesting_is_refused() -> None:
    condition: dict[str, Any] = {"kind": "visits", "gt": 1}
    for _ in range(6):
        condition = {"kind": "not", "condition": condition}
    found = _problems({"kind": "permanent", "when": condition, "reward": {"bonus_points": 1}})
    assert found["offer.when"][0] == "too_deep"


def test_the_published_schema_is_the_one_the_code_checks() -> None:
    published = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(offer_schema())), (
        "docs/offer.schema.json is stale: write json.dumps(offer_schema(), "
        "ensure_ascii=False, indent=2) to it"
    )
    assert published["$schema"].endswith("2020-12/schema")


def test_a_tool_reading_the_published_schema_agrees_with_the_code() -> None:
    """An editor or another program validating against docs/offer.schema.json accepts what
    the node accepts and refuses an unknown condition."""
    validator = Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    good = {
        "kind": "one_time",
        "name_fa": "بازگشت",
        "name_en": "Come back",
        "audience": {
            "kind": "all",
            "of": [{"kind": "visits", "gt": 4}, {"kind": "days_since_last_visit", "gt": 90}],
        },
        "reward": {"extra_credit_bp": 3_500},
        "valid_days": 7,
    }
    assert list(validator.iter_errors(good)) == []
    parse_offer(good, GROUPS)
    bad = {**good, "when": {"kind": "moon_phase"}}
    assert list(validator.iter_errors(bad))
