"""Persian digits (and letters typed in their Arabic forms): shown to people, read back
from what they type.

The Persian UI shows numbers in Persian digits (``۱۲۳``) grouped with the Arabic thousands
separator (``۱٬۲۳۴``). People type Persian digits, and on some keyboards Arabic-Indic ones
(``٠١٢``); everything that parses their input first turns both into ASCII digits with
:func:`normalize_digits`. This module is the one table of those digits, and of the
Arabic forms of Persian letters (``ي``, ``ك``…) that Arabic keyboards type, which
:func:`persian_letters` reads as the Persian ones (search, sorting).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ARABIC_INDIC_DIGITS",
    "MINUS_SIGN",
    "PERSIAN_DIGITS",
    "THOUSANDS_SEPARATOR",
    "integer_fa",
    "normalize_digits",
    "persian_letters",
    "to_persian_digits",
]

PERSIAN_DIGITS: Final = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9, what a Persian keyboard types
ARABIC_INDIC_DIGITS: Final = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669, typed on Arabic keyboards
THOUSANDS_SEPARATOR: Final = "٬"  # U+066C ARABIC THOUSANDS SEPARATOR
# U+2212: an ASCII hyphen-minus next to Persian digits reads as a dash.
MINUS_SIGN: Final = "−"

_ASCII_DIGITS = "0123456789"
_TO_PERSIAN = str.maketrans(_ASCII_DIGITS, PERSIAN_DIGITS)
_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, _ASCII_DIGITS * 2)
_AS_PERSIAN_LETTERS = str.maketrans(
    {"ك": "ک", "ي": "ی", "ى": "ی", "ئ": "ی", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا", "ؤ": "و"}
)


def persian_letters(text: str) -> str:
    """Arabic forms of Persian letters as the Persian ones: ``كتاب`` → ``کتاب``,
    ``علي`` → ``علی`` (and hamza-carrying forms as their base letters)."""
    return text.translate(_AS_PERSIAN_LETTERS)


def to_persian_digits(text: str) -> str:
    """Replace ASCII digits with Persian digits; keep everything else."""
    return text.translate(_TO_PERSIAN)


def normalize_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII digits; keep everything else."""
    return text.translate(_TO_ASCII)


def integer_fa(n: int) -> str:
    """An integer as Persian readers write it, e.g. ``−۱٬۲۳۴٬۵۶۷``: Persian digits, the
    Arabic thousands separator, the minus sign on the left."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"expected an int, got a {type(n).__name__}")
    grouped = f"{abs(n):,}".replace(",", THOUSANDS_SEPARATOR)
    return (MINUS_SIGN if n < 0 else "") + to_persian_digits(grouped)
