"""The texts mallnet sends, in Persian and English, and the one way to fill them in.

Each :class:`Kind` of message has a default text per language with ``{placeholders}``, the
values it needs (:class:`Values`) and its line (promotional only for campaigns). Shops may
write their own text; :func:`check_template` says what is wrong with one in both languages,
and :func:`render` fills any text the same way:

- Amounts are whole toman (Rial / 10, cut toward zero as ``toman_fa`` does) with their
  unit: Persian digits and separators in Persian, ASCII digits and commas in English.
  Dates are Jalali in both, as the apps show them: ``۱۴۰۵/۰۹/۱۵``, "15 Azar 1405".
- A shop's message always names the shop: a text without ``{shop}`` gets it as a prefix.
- Promotional texts end with the opt-out hint, whose reply word ``optout`` recognises,
  and then the member's opt-out link when given (``optout_link``; one tap at the hub).
- A missing name leaves no trace: no "None", no doubled space, no space before a comma.

A shop's text is data, never code: only ``{name}`` with a known name is a placeholder, so
``{name.__class__}`` or ``{0}`` are rejected, never evaluated as ``str.format`` would. A
stored text that has since become invalid renders as the default rather than failing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Final, Literal, cast

from mallnet.digits import integer_fa
from mallnet.jalali import to_jalali_str
from mallnet.messaging.channels import Line
from mallnet.messaging.optout import REPLY_WORD
from mallnet.messaging.segments import count
from mallnet.messaging.template_problems import Problem, ProblemCode, problem
from mallnet.money import toman_fa

__all__ = [
    "MAX_PARTS",
    "MAX_TEMPLATE_CHARS",
    "OPT_OUT_HINT",
    "SAMPLES",
    "SPECS",
    "InvalidValues",
    "Kind",
    "Lang",
    "Problem",
    "ProblemCode",
    "Spec",
    "Values",
    "check_template",
    "default_template",
    "render",
]

Lang = Literal["fa", "en"]

MAX_PARTS: Final = 6  # a shop's text may take this many SMS parts with typical values
MAX_TEMPLATE_CHARS: Final = 2000

OPT_OUT_HINT: Final[Mapping[Lang, str]] = {
    "fa": f"لغو: ارسال «{REPLY_WORD['fa']}»",
    "en": f"Reply {REPLY_WORD['en']} to opt out",
}
# Jalali month names as the English UI writes them (Intl's en-GB-u-ca-persian).
_MONTHS_EN: Final = ("Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
                     "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand")  # fmt: skip


class Kind(StrEnum):
    WELCOME = "welcome"  # joined the shop's club
    PURCHASE = "purchase"  # points earned, credit used, balance
    CREDIT_CHANGE = "credit_change"  # a manual adjustment or refund, and the new balance
    OFFER_GRANTED = "offer_granted"  # an offer's summary and its deadline
    TIER_CHANGE = "tier_change"
    EXPIRY_SOON = "expiry_soon"  # points or credit about to expire
    LOTTERY_WIN = "lottery_win"
    PARTNER_WELCOME = "partner_welcome"  # joined a partner's club through a purchase
    BIRTHDAY = "birthday"  # greeting and a gift of points and/or credit
    SIGN_IN_CODE = "sign_in_code"  # the hub's one-time code
    CAMPAIGN = "campaign"  # a shop's own promotional text to a list


class InvalidValues(ValueError):
    """The values do not fit the kind of message: missing, or of the wrong type."""


@dataclass(frozen=True)
class Values:
    """Everything a message may mention; each kind needs some (``Spec.required``). Names
    and texts are in the message's language; amounts are Rial or whole points, never
    negative but in ``credit_change`` (its ``points`` and ``credit_rial`` are signed)."""

    shop: str | None = None
    name: str | None = None
    via_shop: str | None = None  # partner_welcome: the shop she bought at
    points: int | None = None
    credit_rial: int | None = None
    balance_points: int | None = None
    balance_rial: int | None = None
    amount_rial: int | None = None
    date: dt.date | None = None
    tier: str | None = None
    summary: str | None = None
    campaign: str | None = None
    prize: str | None = None
    code: str | None = None
    text: str | None = None
    # Promotional kinds: her opt-out link, shown last (never a placeholder of a text).
    opt_out_url: str | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            want = dt.date if field.name == "date" else int if field.name in _INTS else str
            if value is not None and (not isinstance(value, want) or isinstance(value, bool)):
                raise InvalidValues(f"{field.name} must be a {want.__name__}, got {value!r:.40}")

    def given(self, name: str) -> bool:
        """Whether ``name`` has a value (blank text counts as none)."""
        value = getattr(self, name)
        return value is not None and not (isinstance(value, str) and not value.strip())


_INTS: Final = frozenset({"points", "credit_rial", "balance_points", "balance_rial", "amount_rial"})


@dataclass(frozen=True)
class Spec:
    """What one kind of message is: its line, values, placeholders and default texts."""

    line: Line
    required: frozenset[str]  # Values fields that must be given
    placeholders: tuple[str, ...]  # what a text of this kind may use
    texts: Mapping[Lang, str]
    one_of: frozenset[str] = frozenset()  # at least one of these Values fields
    must_use: frozenset[str] = frozenset()  # placeholders a shop's own text must keep
    names_shop: bool = True  # False only for the hub's own texts


_SIGN_IN: Final = "کد ورود مال\u200cنت: {code}\nmallnet sign-in code: {code}"

# Each kind's default texts (fa, en). What a kind needs is what they show (see _spec).
_TEXTS: Final[Mapping[Kind, tuple[str, str]]] = {
    Kind.WELCOME: (
        "سلام {name}، به باشگاه مشتریان {shop} خوش آمدید.",
        "Hi {name}, welcome to the {shop} customer club.",
    ),
    Kind.PURCHASE: (
        "خرید شما در {shop} ثبت شد: {points} گرفتید و {credit} از اعتبارتان خرج شد. "
        "موجودی: {balance_points} و {balance} اعتبار.",
        "Your purchase at {shop}: you earned {points} and used {credit} of credit. "
        "Balance: {balance_points} and {balance} of credit.",
    ),
    Kind.CREDIT_CHANGE: (
        "حساب شما در {shop} تغییر کرد: {change}. موجودی: {balance_points} و {balance} اعتبار.",
        "Your account at {shop} changed: {change}. "
        "Balance: {balance_points} and {balance} of credit.",
    ),
    Kind.OFFER_GRANTED: (
        "پیشنهاد ویژهٔ {shop} برای شما: {summary}\nمهلت استفاده: تا {date}",
        "A special offer from {shop} for you: {summary}\nValid until {date}.",
    ),
    Kind.TIER_CHANGE: (
        "سلام {name}، سطح شما در باشگاه مشتریان {shop} اکنون «{tier}» است.",
        "Hi {name}, your level in the {shop} customer club is now {tier}.",
    ),
    Kind.EXPIRY_SOON: (
        "{expiring} شما در {shop} در تاریخ {date} منقضی می\u200cشود؛ پیش از آن استفاده کنید.",
        "Your {expiring} at {shop} will expire on {date}; use it before then.",
    ),
    Kind.LOTTERY_WIN: (
        "تبریک {name}! در قرعه\u200cکشی «{campaign}» در {shop} برنده شدید: {prize}",
        "Congratulations {name}! You won in the {campaign} draw at {shop}: {prize}",
    ),
    Kind.PARTNER_WELCOME: (
        "سلام {name}، با خرید از {via_shop} عضو باشگاه مشتریان {shop} هم شدید.",
        "Hi {name}, your purchase at {via_shop} also made you a member of the {shop} "
        "customer club.",
    ),
    Kind.BIRTHDAY: (
        "تولدتان مبارک {name}! {shop} به شما {gift} هدیه داد، قابل استفاده تا {date}.",
        "Happy birthday {name}! {shop} gives you {gift} as a gift, valid until {date}.",
    ),
    # Both languages in one text, worded as the hub has always sent it: tests and people
    # read the code from the end of the message.
    Kind.SIGN_IN_CODE: (_SIGN_IN, _SIGN_IN),
    Kind.CAMPAIGN: ("«{shop}»: {text}", "{shop}: {text}"),
}
_PROMOTIONAL: Final = frozenset({Kind.CAMPAIGN})
_HUB_SENDS: Final = frozenset({Kind.SIGN_IN_CODE})  # the hub names itself, not a shop
# Placeholders a shop's own text must keep: without them the message has no point.
_MUST_USE: Final = {Kind.SIGN_IN_CODE: frozenset({"code"}), Kind.CAMPAIGN: frozenset({"text"})}
# The Values field a placeholder shows, where its name differs; {change}, {expiring} and
# {gift} show points and/or credit, so they need one of the two.
_FIELD: Final = {"credit": "credit_rial", "balance": "balance_rial", "amount": "amount_rial"}
_EITHER: Final = frozenset({"points", "credit_rial"})
_EITHER_SLOTS: Final = frozenset({"change", "expiring", "gift"})


def _points(n: int, lang: Lang, signed: bool = False) -> str:
    shown = ("+" if signed and n > 0 else "") + (integer_fa(n) if lang == "fa" else f"{n:,}")
    if lang == "fa":
        return f"{shown} امتیاز"
    return f"{shown} point" if abs(n) == 1 else f"{shown} points"


def _toman(rial: int, lang: Lang, signed: bool = False) -> str:
    plus = "+" if signed and rial >= 10 else ""  # toman_fa shows a loss's sign itself
    if lang == "fa":
        return f"{plus}{toman_fa(rial)} تومان"
    return f"{plus}{'-' if rial <= -10 else ''}{abs(rial) // 10:,} toman"


def _value(values: Values, lang: Lang, signed: bool) -> str:
    """Points and/or credit, as one phrase: «+۵۰ امتیاز و −۱۰٬۰۰۰ تومان اعتبار»."""
    shown = []
    if values.points is not None:
        shown.append(_points(values.points, lang, signed))
    if values.credit_rial is not None:
        credit = _toman(values.credit_rial, lang, signed)
        shown.append(f"{credit} اعتبار" if lang == "fa" else f"{credit} of credit")
    return (" و " if lang == "fa" else " and ").join(shown)


def _date(day: dt.date, lang: Lang) -> str:
    if lang == "fa":
        return to_jalali_str(day, persian_digits=True)
    year, month, date = (int(part) for part in to_jalali_str(day).split("/"))
    return f"{date} {_MONTHS_EN[month - 1]} {year}"


def _show(slot: str, values: Values, lang: Lang) -> str:
    """What the placeholder ``slot`` shows; nothing (never "None") for a missing value."""
    if slot in _EITHER_SLOTS:
        return _value(values, lang, signed=slot == "change")
    field = _FIELD.get(slot, slot)
    value = getattr(values, field) if values.given(field) else None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.date):
        return _date(value, lang)
    if isinstance(value, int):
        return _points(value, lang) if field.endswith("points") else _toman(value, lang)
    return ""


@dataclass(frozen=True)
class _Slot:
    name: str


_Token = str | _Slot
# A brace and what it holds, looked at only this far so a text of braces stays linear.
_BRACE = re.compile(r"[{}]")
_BRACED = re.compile(r"\{([^{}]{0,40})\}")
_NAME = re.compile(r"[a-z][a-z_]*")
_MAX_PROBLEMS = 10


def _parse(text: str) -> tuple[list[_Token], list[Problem]]:
    """Literal text and ``{name}`` slots. Any other brace is a problem: there is no escape
    for a literal brace (SMS texts do not need one, and it keeps the rules short)."""
    tokens: list[_Token] = []
    problems: list[Problem] = []
    done = 0
    while (brace := _BRACE.search(text, done)) is not None:
        tokens.append(text[done : brace.start()])
        braced = _BRACED.match(text, brace.start())
        if braced is None:
            problems.append(problem("unbalanced_brace", at=brace.start() + 1))
            done = brace.end()
            continue
        inner = braced.group(1)
        if _NAME.fullmatch(inner):
            tokens.append(_Slot(inner))
        else:
            shown = "{" + (inner if len(inner) <= 30 else inner[:30] + "…") + "}"
            problems.append(problem("bad_placeholder", shown=shown))
        done = braced.end()
    tokens.append(text[done:])
    return [t for t in tokens if t != ""], problems[:_MAX_PROBLEMS]


def _spec(kind: Kind) -> Spec:
    """A kind's spec from its default texts: it needs the values they show (a name is
    always optional), and a shop's own text may show the same, plus {name} and {shop}
    unless the hub sends it."""
    fa, en = _TEXTS[kind]
    shown = [t.name for text in (fa, en) for t in _parse(text)[0] if isinstance(t, _Slot)]
    derived = {"name", *_EITHER_SLOTS}
    own = () if kind in _HUB_SENDS else ("name", "shop")
    return Spec(
        line="promotional" if kind in _PROMOTIONAL else "service",
        required=frozenset(_FIELD.get(p, p) for p in shown if p not in derived),
        placeholders=tuple(dict.fromkeys((*own, *shown))),
        texts={"fa": fa, "en": en},
        one_of=_EITHER if _EITHER_SLOTS & set(shown) else frozenset(),
        must_use=_MUST_USE.get(kind, frozenset()),
        names_shop=kind not in _HUB_SENDS,
    )


SPECS: Final[Mapping[Kind, Spec]] = {kind: _spec(kind) for kind in Kind}


def _structure(kind: Kind, text: str) -> tuple[list[_Token], list[Problem]]:
    """The text's tokens and every problem that makes it unusable for ``kind``."""
    spec = SPECS[kind]
    if not text.strip():
        return [], [problem("empty")]
    if len(text) > MAX_TEMPLATE_CHARS:
        return [], [problem("too_long", "too_many_chars", most=MAX_TEMPLATE_CHARS)]
    tokens, problems = _parse(text)
    allowed = tuple("{" + p + "}" for p in spec.placeholders)
    used = {t.name for t in tokens if isinstance(t, _Slot)}
    for name in sorted(used - set(spec.placeholders))[:_MAX_PROBLEMS]:
        problems.append(problem("unknown_placeholder", name=name, kind=kind, allowed=allowed))
    for name in sorted(spec.must_use - used):
        problems.append(problem("missing_placeholder", name=name))
    return tokens, problems


def check_template(kind: Kind | str, lang: Lang, text: str) -> list[Problem]:
    """Everything wrong with a shop's own ``text`` for ``kind`` in ``lang``; empty when it
    may be saved. Its length is judged as sent, with typical values (:data:`SAMPLES`), the
    shop prefix and the opt-out hint."""
    kind, lang = Kind(kind), _lang(lang)
    if not isinstance(text, str):
        raise TypeError(f"a template is text, got a {type(text).__name__}")
    _tokens, problems = _structure(kind, text)
    if problems:
        return problems
    parts = count(render(kind, lang, SAMPLES[lang], template=text)).parts
    return [problem("too_long", parts=parts, most=MAX_PARTS)] if parts > MAX_PARTS else []


# A space before these is dropped when what stood before them rendered empty.
_CLOSERS: Final = frozenset(",.!?;:،؛؟)»")


def _fill(tokens: list[_Token], values: Values, lang: Lang) -> str:
    out = ""
    after_empty = False
    for token in tokens:
        if isinstance(token, _Slot):
            shown = _show(token.name, values, lang)
            out += shown
            after_empty = not shown
            continue
        if after_empty:
            if token[:1] in _CLOSERS and out.endswith(" "):
                out = out[:-1]  # "Hi {name}, …" → "Hi, …"
            elif (not out or out.endswith((" ", "\n"))) and token.startswith(" "):
                token = token[1:]  # "{name} عزیز" → "عزیز", "a {name} b" → "a b"
        out += token
        after_empty = False
    return out.strip()


def _lang(lang: str) -> Lang:
    if lang in ("fa", "en"):
        return cast(Lang, lang)
    raise ValueError(f"a message language is fa or en, got {lang!r}")


def _check_values(kind: Kind, values: Values) -> None:
    if not isinstance(values, Values):
        raise InvalidValues(f"expected Values, got a {type(values).__name__}")
    spec = SPECS[kind]
    missing = sorted(name for name in spec.required if not values.given(name))
    if missing:
        raise InvalidValues(f"a {kind.value} message needs {', '.join(missing)}")
    if spec.one_of and not any(values.given(name) for name in spec.one_of):
        raise InvalidValues(f"a {kind.value} message needs one of {', '.join(sorted(spec.one_of))}")
    signed = _EITHER if kind is Kind.CREDIT_CHANGE else frozenset()  # only changes go down
    if any((getattr(values, name) or 0) < 0 for name in _INTS - signed):
        raise InvalidValues(f"amounts in a {kind.value} message must not be negative")


def default_template(kind: Kind | str, lang: Lang) -> str:
    """The text mallnet sends for ``kind`` when the shop has not written its own."""
    return SPECS[Kind(kind)].texts[_lang(lang)]


def render(kind: Kind | str, lang: Lang, values: Values, *, template: str | None = None) -> str:
    """The message to send: ``template`` (a shop's own text, else the default) filled with
    ``values``, naming the shop, with the opt-out hint (and ``values.opt_out_url``, the
    member's link) on promotional texts.

    A ``template`` with any problem :func:`check_template` finds in its structure renders
    as the default instead: a text saved before a rule changed must not stop the send.
    Values missing for the kind raise :class:`InvalidValues` (the caller's mistake).
    """
    kind, lang = Kind(kind), _lang(lang)
    spec = SPECS[kind]
    _check_values(kind, values)
    tokens = _parse(spec.texts[lang])[0]
    if template is not None:
        if not isinstance(template, str):
            raise TypeError(f"a template is text, got a {type(template).__name__}")
        custom, problems = _structure(kind, template)
        if not problems:
            tokens = custom
    text = _fill(tokens, values, lang)
    if spec.names_shop and _Slot("shop") not in tokens:
        shop = _show("shop", values, lang)
        text = (f"«{shop}»: " if lang == "fa" else f"{shop}: ") + text
    if spec.line == "promotional" and not text.endswith(OPT_OUT_HINT[lang]):
        text += "\n" + OPT_OUT_HINT[lang]
    if spec.line == "promotional" and values.given("opt_out_url"):
        text += "\n" + _show("opt_out_url", values, lang)
    return text


# Typical values: what check_template measures a text with, and what previews show.
_SAMPLE_AMOUNTS: Final = {
    "points": 120,
    "credit_rial": 150_000,
    "balance_points": 860,
    "balance_rial": 1_250_000,
    "amount_rial": 500_000,
}
# An opt-out link of a typical length (a short public hub address, a slug of 14).
_SAMPLE_LINK: Final = "https://club.mall.ir/o/sample-bookcafe/" + "x" * 20
SAMPLES: Final[Mapping[Lang, Values]] = {
    "fa": Values(
        shop="کافه‌کتاب نمونه",
        name="مریم",
        via_shop="کتاب‌فروشی نمونه",
        date=dt.date(2026, 12, 6),
        tier="طلایی",
        summary="۱۰٪ اعتبار بیشتر برای خرید بالای ۳۰۰ هزار تومان",
        campaign="جشنوارهٔ یلدا",
        prize="کارت هدیهٔ یک میلیون تومانی",
        code="482913",
        text="تا پایان هفته ۲۰٪ تخفیف روی همهٔ نوشیدنی‌ها؛ منتظر دیدارتان هستیم.",
        opt_out_url=_SAMPLE_LINK,
        **_SAMPLE_AMOUNTS,
    ),
    "en": Values(
        shop="Sample Book Cafe",
        name="Maryam",
        via_shop="Sample Bookshop",
        date=dt.date(2026, 12, 6),
        tier="Gold",
        summary="10% more credit on purchases over 300,000 toman",
        campaign="Yalda festival",
        prize="a one-million-toman gift card",
        code="482913",
        text="20% off all drinks until the end of the week; we look forward to seeing you.",
        opt_out_url=_SAMPLE_LINK,
        **_SAMPLE_AMOUNTS,
    ),
}
