"""Reading an offer document: every problem at once, each at the part of the document it is
about (``offer.audience.of[1].gt``: the path a form maps to its field), in English and in
Persian."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shop_node.domain.errors import FieldProblem, InvalidInput
from shop_node.domain.offers.definition import Offer

# Persian for what pydantic and the offer's own rules say; {…} are filled from the error's
# context. An error of a type not listed reads «این مقدار درست نیست».
FA = {
    "missing": "این بخش لازم است.",
    "extra_forbidden": "این بخش در تعریف آفر شناخته نیست.",
    "int_type": "یک عدد صحیح بنویسید.",
    "int_parsing": "یک عدد صحیح بنویسید.",
    "int_from_float": "یک عدد صحیح بنویسید.",
    "bool_type": "بله یا خیر (true یا false).",
    "string_type": "یک متن بنویسید.",
    "list_type": "یک فهرست بنویسید.",
    "model_type": "یک شیء JSON بنویسید.",
    "model_attributes_type": "یک شیء JSON بنویسید.",
    "greater_than_equal": "دست‌کم {ge} باشد.",
    "less_than_equal": "بیشتر از {le} نباشد.",
    "greater_than": "بیشتر از {gt} باشد.",
    "string_too_short": "خالی نباشد.",
    "string_too_long": "حداکثر {max_length} نویسه.",
    "too_short": "دست‌کم {min_length} مورد لازم است.",
    "too_long": "حداکثر {max_length} مورد.",
    "string_pattern_mismatch": "شکلش درست نیست (کد: حروف کوچک لاتین، رقم، - و _؛ ساعت: ۱۴:۳۰).",
    "literal_error": "یکی از این‌ها باشد: {expected}.",
    "union_tag_invalid": "نوع شرط شناخته نیست: {tag}.",
    "union_tag_not_found": "نوع شرط (kind) را بنویسید.",
    "date_parsing": "تاریخ را به شکل 2026-12-06 بنویسید.",
    "date_from_datetime_parsing": "تاریخ را به شکل 2026-12-06 بنویسید.",
    "date_type": "تاریخ را به شکل 2026-12-06 بنویسید.",
    "value_error": "این مقدار درست نیست.",
    "no_bound": "دست‌کم یکی از کران‌ها را بدهید (بیشتر از، دست‌کم، کمتر از، حداکثر).",
    "empty_reward": "آفر باید چیزی بدهد: اعتبار بیشتر، تخفیف، امتیاز یا اعتبار ثابت.",
    "required": "این بخش برای آفر یک‌بارمصرف لازم است.",
    "purchase_condition_in_audience": (
        "مخاطبان آفر یک‌بارمصرف هنگام راه‌اندازی انتخاب می‌شوند و آن موقع خریدی نیست: "
        "شرط خرید را در «هنگام خرید» بگذارید."
    ),
    "not_for_permanent": "مدت اعتبار فقط برای آفر یک‌بارمصرف است.",
    "too_deep": "شرط‌ها حداکثر شش لایه تو در تو باشند.",
    "unknown_group": "این گروه کالا در سیاست باشگاه نیست.",
}
FALLBACK_FA = "این مقدار درست نیست."


@dataclass(frozen=True)
class OfferProblem:
    path: str
    code: str
    message_en: str
    message_fa: str


class InvalidOffer(InvalidInput):
    """An offer document with problems: as ``InvalidInput`` (English, by path) and each also
    in Persian (``located``)."""

    def __init__(self, located: list[OfferProblem]) -> None:
        super().__init__([FieldProblem(p.path, p.message_en) for p in located])
        self.located = located


def parse_offer(document: object, group_codes: Iterable[str]) -> Offer:
    """The offer ``document`` defines, checked against the shop's product groups; every
    problem found is reported together (``InvalidOffer``) and nothing else happens."""
    try:
        offer = Offer.model_validate(document)
    except ValidationError as exc:
        raise InvalidOffer([_problem(document, e) for e in exc.errors()]) from None
    known = frozenset(group_codes)
    fa = FA["unknown_group"]
    unknown = [
        OfferProblem(path, "unknown_group", f"{code!r} is not a product group of the club", fa)
        for path, code in _group_references(document)
        if code not in known
    ]
    if unknown:
        raise InvalidOffer(unknown)
    return offer


def _problem(document: object, error: Any) -> OfferProblem:
    code = str(error["type"])
    context = {k: _show(v) for k, v in (error.get("ctx") or {}).items()}
    template = FA.get(code, FALLBACK_FA)
    try:
        fa = template.format(**context)
    except (KeyError, IndexError):
        fa = FALLBACK_FA
    return OfferProblem(_path(document, error["loc"]), code, str(error["msg"]), fa)


def _show(value: object) -> str:
    return str(value)


def _path(document: object, loc: tuple[Any, ...]) -> str:
    """The document path of a pydantic location: a discriminated union puts the member's
    tag (``visits``) into the location after the condition; the document has no such
    step, so it is dropped where the node walked to holds that ``kind``."""
    parts: list[str | int] = []
    node: object = document
    for step in loc:
        tag = isinstance(node, Mapping) and isinstance(step, str) and node.get("kind") == step
        if tag and step not in node:  # type: ignore[operator]
            continue
        parts.append(step)
        if isinstance(node, Mapping):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            node = None
    return "offer" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _group_references(document: object) -> list[tuple[str, str]]:
    """Where the (already valid) document names a product group, and the code it names."""
    found: list[tuple[str, str]] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, Mapping):
            kind = node.get("kind")
            if kind in ("bought_group", "never_bought_group") and isinstance(
                node.get("group"), str
            ):
                found.append((f"{path}.group", node["group"]))
            if kind == "basket_has_group":
                for i, code in enumerate(node.get("groups") or []):
                    found.append((f"{path}.groups[{i}]", code))
            for i, child in enumerate(node.get("of") or []):
                walk(child, f"{path}.of[{i}]")
            if "condition" in node:
                walk(node["condition"], f"{path}.condition")

    assert isinstance(document, Mapping)
    for part in ("audience", "when"):
        if document.get(part) is not None:
            walk(document[part], f"offer.{part}")
    reward = document.get("reward")
    if isinstance(reward, Mapping):
        for i, code in enumerate(reward.get("groups") or []):
            found.append((f"offer.reward.groups[{i}]", code))
    return found
