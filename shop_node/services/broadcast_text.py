"""A broadcast's text: what is wrong with it, and how a member receives it (with the
shop's name, the opt-out line and her opt-out link), judged as it is sent. Before the send
the link is a sample of the same length (``optout_link.sample_url``): the parts and the
cost a preview shows are what the send costs."""

from __future__ import annotations

from dataclasses import dataclass

from mallnet.digits import integer_fa
from mallnet.messaging import segments
from mallnet.messaging.templates import MAX_PARTS, Kind, Lang, Values, check_template, render


@dataclass(frozen=True)
class TextProblem:
    """What is wrong with a broadcast's text: a stable code and both languages."""

    code: str
    en: str
    fa: str


_BRACES = TextProblem(
    "braces",
    "The text has a brace: it is sent as written, and placeholders are not filled in a "
    "message to a list (the shop's name and the opt-out line are added for you).",
    "متن آکولاد دارد: متن همان‌طور که نوشته شده فرستاده می‌شود و جای‌نگهدارها در پیام به "
    "فهرست پر نمی‌شوند (نام فروشگاه و راه لغو خودکار افزوده می‌شود).",
)
_CONTROL = TextProblem(
    "control_characters",
    "The text has an invisible control character: type it again or paste it as plain text.",
    "متن نویسهٔ کنترلی نامرئی دارد: آن را دوباره تایپ کنید یا به‌صورت متن ساده بچسبانید.",
)


def text_problems(text: str, lang: Lang, shop: str, opt_out_url: str) -> list[TextProblem]:
    """Everything wrong with a broadcast's text, judged as sent: with the shop's name, the
    opt-out hint and a link as long as ``opt_out_url``. It is the value of a campaign
    message (``Values.text``), never its template, so ``check_template`` is asked only what
    holds for any text (empty, too many characters); its demand for a ``{text}``
    placeholder is a template's, not ours."""
    problems = [
        TextProblem(p.code, p.en, p.fa)
        for p in check_template(Kind.CAMPAIGN, lang, text)
        if p.code in ("empty", "too_long")
    ]
    if "{" in text or "}" in text:
        problems.append(_BRACES)
    if any((ord(c) < 0x20 and c not in "\n\r\t") or c == "\x7f" for c in text):
        problems.append(_CONTROL)
    if problems:
        return problems
    parts = segments.count(render_text(text, lang, shop, None, opt_out_url)).parts
    if parts > MAX_PARTS:
        problems.append(
            TextProblem(
                "too_long",
                f"As sent, with the shop's name and the opt-out line, the message takes "
                f"{parts} SMS parts; at most {MAX_PARTS} are allowed.",
                f"این پیام با نام فروشگاه و راه لغو {integer_fa(parts)} پیامک می‌شود؛ "
                f"حداکثر {integer_fa(MAX_PARTS)} پیامک مجاز است.",
            )
        )
    return problems


def render_text(text: str, lang: Lang, shop: str, name: str | None, opt_out_url: str) -> str:
    """What a member receives: as ``notify.tell`` renders it."""
    values = Values(text=text, shop=shop, name=name, opt_out_url=opt_out_url)
    return render(Kind.CAMPAIGN, lang, values)
