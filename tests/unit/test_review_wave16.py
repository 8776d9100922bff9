"""Review wave 16, the pure part: a name a manager gives a tier (or a product group) and a
tier name a node reports to the hub hold no control characters. PostgreSQL refuses a NUL
in text, so a NUL that reached the hub failed the whole batch with a database error (not
INVALID_BATCH) and the node's relay sent it again for ever. Format characters stay: the
zero-width non-joiner (U+200C) is part of Persian words such as «نقره‌ای»."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from federation.envelope import (
    BalanceChanged,
    EventType,
    InvalidEnvelope,
    parse_envelope,
)
from mallnet.values import without_control_characters
from shop_node.domain.errors import InvalidInput
from shop_node.domain.policy import DEFAULT_POLICY, STORED, ClubPolicy, Tier, parse_policy

PSEUDONYM = "a" * 64
ZWNJ = "\u200c"
# NUL, tab, line feed, carriage return, escape, DEL, and C1's next line (all category Cc)
CONTROLS = ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85"]


def _tier(**names: str) -> dict[str, Any]:
    return {
        "tier_code": "silver",
        "tier_name_fa": "نقره" + ZWNJ + "ای",
        "tier_name_en": "Silver",
        "tier_basis": "earned_points",
        "tier_metric": 10,
        **names,
    }


def _policy_with(name_fa: str) -> dict[str, Any]:
    document = DEFAULT_POLICY.model_dump(mode="json")
    document["tiers"][1]["name_fa"] = name_fa
    return document


@pytest.mark.parametrize("control", CONTROLS)
def test_a_tier_name_with_a_control_character_is_refused(control: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        Tier(code="silver", name_fa=f"نقره{control}ای", name_en="Silver", threshold=0)


def test_a_persian_name_with_a_zero_width_non_joiner_is_taken() -> None:
    tier = Tier(code="silver", name_fa="نقره" + ZWNJ + "ای", name_en="Silver", threshold=0)
    assert tier.name_fa == "نقره\u200cای"


def test_a_policy_edit_with_a_nul_in_a_name_is_invalid_input_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_policy(_policy_with("نقره\x00ای"))
    assert [p.field for p in refused.value.problems] == ["policy.tiers[1].name_fa"]
    document = DEFAULT_POLICY.model_dump(mode="json")
    document["product_groups"][0]["name_en"] = "General\n"
    with pytest.raises(InvalidInput) as group:
        parse_policy(document)
    assert [p.field for p in group.value.problems] == ["policy.product_groups[0].name_en"]


def test_a_policy_stored_before_the_rule_still_loads_each_control_character_a_space() -> None:
    # A node's saved policy is read back as stored: a tab a manager pasted once must not
    # stop every purchase, and what the node reports of it must pass the hub.
    stored = ClubPolicy.model_validate(_policy_with("نقره\tای\x00"), context=STORED)
    assert stored.tiers[1].name_fa == "نقره ای "
    BalanceChanged(pseudonym=PSEUDONYM, points=0, credit_rial=0, **_tier(tier_name_fa="نقره ای "))
    with pytest.raises(ValidationError):
        ClubPolicy.model_validate(_policy_with("نقره\tای"))


@pytest.mark.parametrize(
    "field", ["tier_name_fa", "tier_name_en", "next_tier_name_fa", "next_tier_name_en"]
)
def test_a_reported_tier_name_with_a_nul_is_an_invalid_event(field: str) -> None:
    payload = {"pseudonym": PSEUDONYM, "points": 5, "credit_rial": 0, **_tier()}
    if field.startswith("next_"):
        payload |= {"next_tier_name_fa": "طلایی", "next_tier_name_en": "Gold"}
        payload["next_tier_threshold"] = 500
    payload[field] = "Sil\x00ver"
    with pytest.raises(InvalidEnvelope, match=f"{field}.*control characters"):
        parse_envelope(
            {
                "event_id": "01JABCDEFGHJKMNPQRSTVWXYZ0",
                "type": EventType.BALANCE_CHANGED.value,
                "schema_version": 1,
                "node": "ketab-sara",
                "seq": 1,
                "occurred_at": "2026-12-05T10:00:00+00:00",
                "payload": payload,
            }
        )


def test_a_reported_tier_name_with_a_zero_width_non_joiner_is_taken() -> None:
    event = BalanceChanged(pseudonym=PSEUDONYM, points=5, credit_rial=0, **_tier())
    assert event.tier_name_fa == "نقره\u200cای"


def test_only_control_characters_are_replaced() -> None:
    assert without_control_characters("a\x00b\u200cc\u200fd\te") == "a b\u200cc\u200fd e"
