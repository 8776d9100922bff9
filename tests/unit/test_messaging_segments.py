"""SMS parts as the network counts them: a text never costs more parts than we say."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.messaging.segments import (
    GSM_BASIC,
    GSM_EXTENSION,
    Segments,
    count,
    price_rial,
    split,
)
from mallnet.money import InvalidAmount

PERSIAN = "س"
EMOJI = "😀"  # U+1F600: a surrogate pair in UTF-16


def _units(part: str, encoding: str = "UCS-2") -> int:
    """Units of ``part`` in ``encoding``, counted independently of the module under test."""
    if encoding == "GSM-7":
        return sum(2 if c in GSM_EXTENSION else 1 for c in part)
    return len(part.encode("utf-16-le")) // 2


def test_the_gsm_tables_are_the_standard_ones() -> None:
    assert len(GSM_BASIC) == 127  # 128 codes less the escape
    assert "\x1b" not in GSM_BASIC
    assert set("^{}\\[~]|€\f") == GSM_EXTENSION
    assert not GSM_BASIC & GSM_EXTENSION


@pytest.mark.parametrize(
    ("length", "parts", "per_part"),
    [(70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67)],
)
def test_persian_boundaries(length: int, parts: int, per_part: int) -> None:
    assert count(PERSIAN * length) == Segments("UCS-2", length, parts, per_part)


@pytest.mark.parametrize(
    ("length", "parts", "per_part"),
    [(160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153)],
)
def test_latin_boundaries(length: int, parts: int, per_part: int) -> None:
    assert count("a" * length) == Segments("GSM-7", length, parts, per_part)


def test_empty_text_has_no_parts() -> None:
    assert count("") == Segments("GSM-7", 0, 0, 160)
    assert split("") == []


def test_extension_characters_count_two_septets() -> None:
    assert count("€" * 80) == Segments("GSM-7", 160, 1, 160)
    assert count("{}[]^~|\\\f€").units == 20
    assert count("€" * 80 + "a").parts == 2


def test_an_extension_character_is_never_split_across_parts() -> None:
    # 306 septets would be two parts by division; the euro at septets 153-154 cannot
    # straddle the boundary, so it opens the second part, and the last "a" needs a third.
    text = "a" * 152 + "€" + "a" * 152
    assert count(text) == Segments("GSM-7", 306, 3, 153)
    assert [len(p) for p in split(text)] == [152, 152, 1]
    assert count("a" * 158 + "€") == Segments("GSM-7", 160, 1, 160)  # fits one part whole
    assert [len(p) for p in split("a" * 152 + "€" + "a" * 7)] == [152, 8]


def test_one_character_outside_gsm_makes_the_whole_text_ucs2() -> None:
    assert count("a" * 100).encoding == "GSM-7"
    for odd in ("’", "ç", PERSIAN, "\u200c"):
        assert count("a" * 100 + odd) == Segments("UCS-2", 101, 2, 67)


def test_emoji_count_two_units_and_stay_whole() -> None:
    assert count(EMOJI * 35) == Segments("UCS-2", 70, 1, 70)
    assert count(EMOJI * 36) == Segments("UCS-2", 72, 2, 67)
    assert split(EMOJI * 36) == [EMOJI * 33, EMOJI * 3]
    text = PERSIAN * 66 + EMOJI + PERSIAN * 10
    assert [_units(p) for p in split(text)] == [66, 12]


def test_price_is_per_part_at_the_encodings_price() -> None:
    persian = count(PERSIAN * 71)
    latin = count("a" * 307)
    assert price_rial(persian, per_part_rial_ucs2=1_200, per_part_rial_gsm=500) == 2_400
    assert price_rial(latin, per_part_rial_ucs2=1_200, per_part_rial_gsm=500) == 1_500
    assert price_rial(count(""), per_part_rial_ucs2=1_200, per_part_rial_gsm=500) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
def test_price_refuses_a_bad_rate(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        price_rial(count("a"), per_part_rial_ucs2=bad, per_part_rial_gsm=1)  # type: ignore[arg-type]


def test_count_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        count(b"abc")  # type: ignore[arg-type]


_ALPHABET = st.sampled_from(
    sorted(GSM_BASIC) + sorted(GSM_EXTENSION) + [PERSIAN, "ی", "\u200c", EMOJI, "🇮🇷"[0]]
)


@given(st.text(alphabet=_ALPHABET, max_size=700))
def test_parts_never_under_count(text: str) -> None:
    counted = count(text)
    gsm = all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)
    assert counted.encoding == ("GSM-7" if gsm else "UCS-2")
    parts = split(text)
    assert "".join(parts) == text
    assert len(parts) == counted.parts
    assert counted.units == sum(_units(p, counted.encoding) for p in parts)
    assert all(0 < _units(p, counted.encoding) <= counted.per_part for p in parts)
    assert counted.parts >= math.ceil(counted.units / counted.per_part)
    if counted.parts > 1:
        # Each part but the last is as full as it can be: the next character did not fit.
        for part, following in itertools.pairwise(parts):
            fill = _units(part, counted.encoding) + _units(following[0], counted.encoding)
            assert fill > counted.per_part


@given(st.text(alphabet=st.sampled_from(sorted(GSM_BASIC)), max_size=400))
def test_plain_gsm_text_is_counted_by_division(text: str) -> None:
    counted = count(text)
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert (counted.encoding, counted.units, counted.parts) == ("GSM-7", len(text), expected)
