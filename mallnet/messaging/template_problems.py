"""What is wrong with a shop's own message text, worded for the shop in both languages
(``mallnet.messaging.templates.check_template`` finds the problems)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from mallnet.digits import integer_fa

__all__ = ["Problem", "ProblemCode", "problem"]

ProblemCode = Literal[
    "empty", "unbalanced_brace", "bad_placeholder", "unknown_placeholder",
    "missing_placeholder", "too_long",
]  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """What is wrong with a shop's text, for the shop: a stable code and both languages."""

    code: ProblemCode
    en: str
    fa: str


# (English, Persian) wording of each problem; the arguments are ours, never the shop's
# text as a format string.
_WORDING: Final = {
    "empty": ("The text is empty: write the message.", "متن پیام خالی است: متن را بنویسید."),
    "unbalanced_brace": (
        "The brace at character {at} has no partner: braces only enclose placeholders.",
        "آکولاد نویسهٔ {at} جفت ندارد: آکولاد فقط دور جای‌نگهدارها می‌آید.",
    ),
    "bad_placeholder": (
        "{shown} is not a placeholder: write a name from the list, like {{shop}}.",
        "{shown} جای‌نگهدار نیست: نامی از فهرست بنویسید، مثل {{shop}}.",
    ),
    "unknown_placeholder": (
        "{{{name}}} is not available in a {kind} message; available: {allowed}.",
        "{{{name}}} در این نوع پیام در دسترس نیست؛ جای‌نگهدارهای مجاز: {allowed}.",
    ),
    "missing_placeholder": (
        "The text must include {{{name}}}.",
        "متن پیام باید {{{name}}} را داشته باشد.",
    ),
    "too_many_chars": ("The text is over {most} characters.", "متن پیام بیش از {most} نویسه است."),
    "too_long": (
        "With typical values the message takes {parts} SMS parts; at most {most} are allowed.",
        "این پیام با مقدارهای معمول {parts} پیامک می‌شود؛ حداکثر {most} پیامک مجاز است.",
    ),
}


def problem(code: ProblemCode, wording: str = "", **args: str | int | tuple[str, ...]) -> Problem:
    """Numbers in Persian digits and lists with the Persian comma in the Persian text."""
    en, fa = _WORDING[wording or code]
    en_args = {k: ", ".join(v) if isinstance(v, tuple) else v for k, v in args.items()}
    fa_args = {
        k: "، ".join(v) if isinstance(v, tuple) else integer_fa(v) if isinstance(v, int) else v
        for k, v in args.items()
    }
    return Problem(code, en.format(**en_args), fa.format(**fa_args))
