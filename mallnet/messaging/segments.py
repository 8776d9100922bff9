"""How many SMS parts a text costs, counted the way the network counts them.

Providers bill per part, and a text that silently grows from one part to two doubles its
price; a campaign to ten thousand members makes that real money. So the count here errs
only upward: a text is GSM-7 (the 7-bit alphabet of 3GPP TS 23.038) when every character
is in the GSM basic or extension table, else UCS-2, which is nearly every Persian text.

A single part holds 160 GSM-7 septets or 70 UCS-2 units. A longer text is split into
concatenated parts, each carrying a 6-byte header, so each holds 153 septets or 67 units.
Phones never split a character: a GSM extension character (an escape plus its code, 2
septets) or a UTF-16 surrogate pair (an emoji) stays whole in one part, which can leave a
part one unit short. Parts are therefore counted by walking the text, never by dividing its
length, which would under-count exactly at those boundaries.

Ç is counted as GSM-7 (the standard's 0x09) but ç is not: some tables map 0x09 to ç, and
treating it as UCS-2 can only over-count.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final, Literal

from mallnet.money import check_rial

__all__ = [
    "GSM_BASIC",
    "GSM_EXTENSION",
    "LIMITS",
    "Encoding",
    "Segments",
    "count",
    "price_rial",
    "split",
]

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet, in code order, without 0x1B (the escape to the extension
# table, which is never a character of its own).
GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each is sent as escape + code, so it costs 2 septets.
GSM_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

# (one part alone, each part of a split message), in the encoding's units.
LIMITS: Final[dict[Encoding, tuple[int, int]]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class Segments:
    """What a text costs: its encoding, its length in that encoding's units, and parts.

    ``per_part`` is the limit that applied: 160/70 for a single part (or none), 153/67
    once split. ``parts`` is 0 for the empty text, which is never sent.
    """

    encoding: Encoding
    units: int
    parts: int
    per_part: int


def _encoding(text: str) -> Encoding:
    for char in text:
        if char not in GSM_BASIC and char not in GSM_EXTENSION:
            return "UCS-2"
    return "GSM-7"


def _width(char: str, encoding: Encoding) -> int:
    """Units one character takes: an extension character is 2 septets, a character beyond
    the Basic Multilingual Plane (most emoji) is 2 UTF-16 units."""
    if encoding == "GSM-7":
        return 2 if char in GSM_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _walk(text: str, encoding: Encoding) -> tuple[int, list[int]]:
    """Total units, and the index where each part after the first starts when the text
    is split (empty when it fits one part)."""
    single, each = LIMITS[encoding]
    widths = [_width(char, encoding) for char in text]
    total = sum(widths)
    starts: list[int] = []
    if total <= single:
        return total, starts
    filled = 0
    for index, width in enumerate(widths):
        if filled + width > each:
            # This character would straddle two parts: it opens the next one whole.
            starts.append(index)
            filled = 0
        filled += width
    return total, starts


def count(text: str) -> Segments:
    """How the network counts ``text``: encoding, units and parts (0 parts for "")."""
    if not isinstance(text, str):
        raise TypeError(f"expected the message text as str, got a {type(text).__name__}")
    encoding = _encoding(text)
    total, starts = _walk(text, encoding)
    single, each = LIMITS[encoding]
    if not text:
        return Segments(encoding, 0, 0, single)
    if not starts:
        return Segments(encoding, total, 1, single)
    return Segments(encoding, total, len(starts) + 1, each)


def split(text: str) -> list[str]:
    """The parts a phone receives, in order: joined they give ``text`` back, and each fits
    its limit (``count(text).per_part``). The empty text has no parts."""
    if not text:
        return []
    _total, starts = _walk(text, _encoding(text))
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def price_rial(segments: Segments, per_part_rial_ucs2: int, per_part_rial_gsm: int) -> int:
    """What the parts cost, in Rial, at the provider's per-part prices for each encoding
    (Persian parts usually cost more: a UCS-2 part carries fewer characters)."""
    ucs2 = check_rial(per_part_rial_ucs2, field="per_part_rial_ucs2", allow_zero=True)
    gsm = check_rial(per_part_rial_gsm, field="per_part_rial_gsm", allow_zero=True)
    return segments.parts * (ucs2 if segments.encoding == "UCS-2" else gsm)
