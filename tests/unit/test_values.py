"""The shared bounds and the idempotency-key rule, and that every app uses this one copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from mallnet.values import (
    KEY_HELP,
    MAX_POINTS,
    MAX_RIAL,
    IdempotencyKey,
    Points,
    Rial,
    is_idempotency_key,
)

ROOT = Path(__file__).resolve().parents[2]


class Amounts(BaseModel):
    rial: Rial = 0
    points: Points = 0
    key: IdempotencyKey = "k"


def test_the_bounds() -> None:
    assert MAX_RIAL == MAX_POINTS == 10**15
    assert KEY_HELP == "1-64 visible ASCII characters"


@pytest.mark.parametrize("value", [0, 1, MAX_RIAL])
def test_rial_and_points_accept_whole_numbers_in_range(value: int) -> None:
    assert Amounts(rial=value, points=value).rial == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "greater than or equal to 0"),
        (MAX_RIAL + 1, "less than or equal to 1000000000000000"),
        (1.0, "Input should be a valid integer"),  # strict: no floats
        (True, "Input should be a valid integer"),  # nor bools
        ("5", "Input should be a valid integer"),
    ],
)
@pytest.mark.parametrize("field", ["rial", "points"])
def test_rial_and_points_refuse(value: object, reason: str, field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field}\n  .*{reason}"):
        Amounts.model_validate({field: value})


@pytest.mark.parametrize(
    "key",
    ["R-1", "a", "x" * 64, "receipt 17/3", "!~", "01J9Z3K6Q2W8X4Y5Z6A7B8C9D0"],
)
def test_keys_that_pass(key: str) -> None:
    assert is_idempotency_key(key)
    assert Amounts(key=key).key == key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "x" * 65,
        " R-1",  # prints the same as "R-1" on a receipt
        "R-1 ",
        " ",
        "R-\t1",
        "R-1\n",
        "رسید-۱",
        "R-é",
        "R-\x7f",
    ],
)
def test_keys_that_fail(key: str) -> None:
    assert not is_idempotency_key(key)
    with pytest.raises(ValidationError, match="an idempotency key is 1-64 visible ASCII"):
        Amounts(key=key)


@pytest.mark.parametrize("value", [None, 17, b"R-1"])
def test_a_key_is_text(value: object) -> None:
    assert not is_idempotency_key(value)
    with pytest.raises(ValidationError, match="Input should be a valid string"):
        Amounts.model_validate({"key": value})


# Where each rule is written: the Rial bound and the key rule in mallnet/values.py, the
# digit tables in mallnet/digits.py.
HOMES = {
    "10**15": {"mallnet/values.py"},
    "isprintable()": set(),
    "maketrans(": {"mallnet/digits.py"},
}


def test_the_apps_keep_no_copy_of_the_rules() -> None:
    copies = []
    for package in ("mallnet", "federation", "settlement", "hub", "shop_node"):
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8").replace("10 ** 15", "10**15")
            copies += [
                f"{name}: {rule}"
                for rule, homes in HOMES.items()
                if rule in text and name not in homes
            ]
    assert copies == []
