"""The bounds every app puts on amounts, and the rule for idempotency keys: one home each.

Hub, node and the federation protocol all check the same things about what crosses their
edges: a Rial amount or a number of points is a whole number within :data:`MAX_RIAL` (or
:data:`MAX_POINTS`), and a client-made idempotency key (a POS receipt, a refund id, a
hold's key) is :data:`KEY_HELP`. Each app reports a broken rule in its own typed error;
the rule itself lives only here. Pydantic models use the annotated types (:data:`Rial`,
:data:`Points`, :data:`IdempotencyKey`), plain code the constants and
:func:`is_idempotency_key`. A name one app gives and another shows (a club's tier) holds
no control characters: :data:`NoControlCharacters`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Annotated, Final

from pydantic import AfterValidator, Field, StringConstraints

__all__ = [
    "KEY_HELP",
    "KEY_MAX_LENGTH",
    "MAX_POINTS",
    "MAX_RIAL",
    "NO_CONTROL_HELP",
    "IdempotencyKey",
    "NoControlCharacters",
    "Points",
    "Rial",
    "is_idempotency_key",
    "without_control_characters",
]

MAX_RIAL: Final = 10**15
"""A trillion toman: far above any purchase, deposit or budget, and far below BIGINT
(9.2 × 10^18), so sums of many amounts never overflow a column."""

MAX_POINTS: Final = MAX_RIAL
"""Points sit in the same BIGINT columns as Rial, under the same bound."""

KEY_MAX_LENGTH: Final = 64
KEY_HELP: Final = f"1-{KEY_MAX_LENGTH} visible ASCII characters"
# Visible ASCII (spaces allowed inside), never a space at either end: two keys that print
# the same on a receipt ("R-1" and "R-1 ") must not be two different keys.
_KEY_PATTERN: Final = rf"[!-~](?:[ -~]{{0,{KEY_MAX_LENGTH - 2}}}[!-~])?"
_KEY = re.compile(_KEY_PATTERN)

Rial = Annotated[int, Field(ge=0, le=MAX_RIAL, strict=True)]
"""A non-negative whole number of Rial, at most :data:`MAX_RIAL` (no bool, no float)."""

Points = Annotated[int, Field(ge=0, le=MAX_POINTS, strict=True)]
"""A non-negative whole number of points, at most :data:`MAX_POINTS`."""


def is_idempotency_key(value: object) -> bool:
    """True when ``value`` is a valid idempotency key: :data:`KEY_HELP`, with no space at
    either end."""
    return isinstance(value, str) and _KEY.fullmatch(value) is not None


def _key(value: str) -> str:
    if not is_idempotency_key(value):
        raise ValueError(f"an idempotency key is {KEY_HELP}, with no space at either end")
    return value


IdempotencyKey = Annotated[str, StringConstraints(strict=True), AfterValidator(_key)]
"""A client-made idempotency key in a pydantic model: :data:`KEY_HELP`."""


NO_CONTROL_HELP: Final = "no control characters (NUL, tab, line breaks)"


def without_control_characters(value: str) -> str:
    """``value`` with each control character (Unicode category Cc: NUL, tab, line breaks
    and the like) replaced by a space. Format characters (Cf) stay: Persian words need the
    zero-width non-joiner (U+200C)."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)


def _no_control(value: str) -> str:
    if without_control_characters(value) != value:
        raise ValueError(f"a name has {NO_CONTROL_HELP}")
    return value


NoControlCharacters = AfterValidator(_no_control)
"""For a text that is shown to people and stored by another app (PostgreSQL refuses NUL in
text): annotate ``Annotated[str, ..., NoControlCharacters]``."""


def pseudonym(key: bytes, phone_e164: str) -> str:
    """A shopper's network identity: HMAC-SHA256(network key, E.164 phone). The hub and
    every node compute the same value. It keeps phones from shops that have no consent and
    from anyone without the key — not from a holder of the key: Iranian mobiles are few
    enough (about 10^9) to hash them all. The hub holds the key (it signs shoppers in by
    phone), so the hub's operator is trusted with it, as DESIGN.md's identity scheme
    implies."""
    return hmac.new(key, phone_e164.encode(), hashlib.sha256).hexdigest()
