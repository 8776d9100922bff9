"""Reading a member's reply as "stop sending me offers" (or "start again").

Promotional texts end with a hint naming a reply word (:data:`REPLY_WORD`, used by
``mallnet.messaging.templates``), and whatever a person actually types back must still be
understood: «لغو» with a trailing dot, «لغو ۱۱» (the style common in Iranian ads),
Arabic-keyboard letters, Persian or Arabic-Indic digits, a stray zero-width non-joiner,
"Stop!" in any case. A missed opt-out costs a member's trust, so those variations all
count; but only when the keyword is the whole reply — "don't stop" or "cancel my order
please" is a conversation, not an opt-out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final

from mallnet.digits import normalize_digits, persian_letters

__all__ = [
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "REPLY_WORD",
    "is_opt_in",
    "is_opt_out",
    "keyword_form",
]

# The word each language's opt-out hint tells people to send.
REPLY_WORD: Final[Mapping[str, str]] = {"fa": "لغو", "en": "STOP"}

# Keywords in :func:`keyword_form`: lower case, ASCII digits, Persian letters, no spaces.
# The English ones are the industry's usual set (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
# QUIT): carriers and aggregators treat them as opt-outs, so people expect them to work.
OPT_OUT_KEYWORDS: Final = frozenset(
    {
        "لغو",
        "لغو11",
        "11",
        "انصراف",
        "لغوعضویت",
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
    }
)
OPT_IN_KEYWORDS: Final = frozenset({"عضویت", "start", "unstop", "subscribe"})

_TATWEEL = "\u0640"  # stretches a word for looks; a letter to isalnum, meaningless here
# No keyword is long; a longer reply is a message someone wrote, not a keyword.
_LONGEST_REPLY = 200


def keyword_form(text: str) -> str:
    """``text`` reduced to what is compared with the keywords: compatibility forms
    unfolded (full-width letters, Arabic presentation forms), ASCII digits, Persian letters
    (ي → ی, ك → ک), case folded, and nothing but letters and digits — spaces, punctuation,
    ZWNJ, the tatweel (ـ), diacritics, bidi marks and emoji all go."""
    plain = unicodedata.normalize("NFKC", text)
    plain = persian_letters(normalize_digits(plain)).casefold()
    return "".join(char for char in plain if char.isalnum() and char != _TATWEEL)


def _matches(text: object, keywords: frozenset[str]) -> bool:
    if not isinstance(text, str) or len(text) > _LONGEST_REPLY:
        return False
    return keyword_form(text) in keywords


def is_opt_out(text: str) -> bool:
    """Whether the whole reply ``text`` asks to stop promotional messages."""
    return _matches(text, OPT_OUT_KEYWORDS)


def is_opt_in(text: str) -> bool:
    """Whether the whole reply ``text`` asks to receive them again («عضویت», START)."""
    return _matches(text, OPT_IN_KEYWORDS)
