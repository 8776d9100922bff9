"""Iranian mobile numbers: one canonical form for storage, lookups and display.

Members identify themselves at shop counters by mobile number, typed by cashiers in many
shapes (``0912 123 4567``, ``+98 912-123-4567``, Persian or Arabic-Indic digits from a
Persian keyboard). Everything that stores or compares a number goes through
:func:`normalize_mobile`, so one member is always one E.164 string (``+989121234567``).
Staff screens show :func:`mask` instead of the full number.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from mallnet.digits import normalize_digits

__all__ = [
    "MAX_INPUT_LENGTH",
    "InvalidPhone",
    "local_format",
    "mask",
    "normalize_mobile",
]

MAX_INPUT_LENGTH = 32
"""Longer input is rejected before parsing: no real phone number needs more."""

_EXPECTED_SHAPE = "an Iranian mobile number such as 09121234567 or +989121234567"

# Separators people type inside numbers: spaces (also no-break), dashes, parentheses.
_SEPARATORS = re.compile(r"[ \t\u00a0\-()]")
# What must remain after removing separators: an optional "+" and ASCII digits only.
# Letters (vanity numbers), extensions and other scripts' digits are refused here, before
# phonenumbers would interpret them.
_DIGITS_ONLY = re.compile(r"\+?[0-9]+")
_E164_MOBILE = re.compile(r"\+989[0-9]{9}")

_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


class InvalidPhone(ValueError):
    """The text is not a valid Iranian mobile number (or not a normalised one)."""


def describe_input(raw: object, limit: int = MAX_INPUT_LENGTH) -> str:
    """What the user sent, for an error message: never echo an unbounded string."""
    if not isinstance(raw, str):
        return f"a {type(raw).__name__}"
    if len(raw) > limit:
        return f"{len(raw)} characters starting {raw[:limit]!r}"
    return repr(raw)


def _invalid(raw: object, reason: str) -> InvalidPhone:
    return InvalidPhone(f"{reason}: got {describe_input(raw)}, expected {_EXPECTED_SHAPE}")


def normalize_mobile(raw: str) -> str:
    """Return the E.164 form (``+989xxxxxxxxx``) of an Iranian mobile number.

    Accepts national (``09121234567``), bare (``9121234567``) and international
    (``+989121234567``, ``00989121234567``, ``989121234567``) forms, with spaces, dashes
    and parentheses, in ASCII, Persian or Arabic-Indic digits. Raises :class:`InvalidPhone`
    for landlines, numbers of other countries and anything that is not a phone number.
    """
    if not isinstance(raw, str):
        raise _invalid(raw, "phone number must be text")
    if len(raw) > MAX_INPUT_LENGTH:
        raise _invalid(raw, f"phone number is longer than {MAX_INPUT_LENGTH} characters")
    compact = _SEPARATORS.sub("", normalize_digits(raw.strip()))
    if not compact:
        raise _invalid(raw, "phone number is empty")
    if not _DIGITS_ONLY.fullmatch(compact):
        raise _invalid(raw, "phone number may only contain digits, spaces, dashes, parentheses")
    problem, e164 = _parse_compact(compact)
    if problem:
        raise _invalid(raw, problem)
    return e164


@lru_cache(maxsize=50_000)
def _parse_compact(compact: str) -> tuple[str, str]:
    """``("", e164)`` or ``(problem, "")``. Cached: a till sees the same shoppers again
    and again, and parsing with full metadata costs more than the rest of the request's
    validation together."""
    try:
        number = phonenumbers.parse(compact, "IR")
    except phonenumbers.NumberParseException:
        return "not a phone number", ""
    if number.country_code != 98 or not phonenumbers.is_valid_number_for_region(number, "IR"):
        return "not a valid Iranian phone number", ""
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return "not a mobile number (landlines cannot be used)", ""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _E164_MOBILE.fullmatch(e164):  # defensive: metadata updates must not widen this
        return "not a valid Iranian mobile number", ""
    return "", e164


def _check_e164(e164: str) -> str:
    if not isinstance(e164, str) or not _E164_MOBILE.fullmatch(e164):
        raise InvalidPhone(
            f"expected a normalised mobile number like +989121234567, got {describe_input(e164)}"
        )
    return e164


def local_format(e164: str) -> str:
    """``+989121234567`` -> ``09121234567``, the form Iranians write and read."""
    return "0" + _check_e164(e164)[3:]


def mask(e164: str) -> str:
    """``+989121234567`` -> ``0912***4567``, for staff who must not see full numbers."""
    local = local_format(e164)
    return f"{local[:4]}***{local[-4:]}"
