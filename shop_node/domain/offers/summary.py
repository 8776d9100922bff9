"""An offer in one sentence, Persian and English, as the shopper's app shows it: what it
gives, on what purchase, and for how long — never who it is for or why (the audience's
conditions are the shop's own data and stay on the node)."""

from __future__ import annotations

from collections.abc import Mapping

from mallnet.digits import integer_fa, to_persian_digits
from shop_node.domain.offers.definition import (
    All,
    AnyOf,
    BasketAmount,
    BasketHasGroup,
    Condition,
    Offer,
)

MAX_LENGTH = 300


def _number(value: int, lang: str) -> str:
    return integer_fa(value) if lang == "fa" else f"{value:,}"


def _percent(bp: int, lang: str) -> str:
    whole, rest = divmod(bp, 100)
    text = str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")
    return (to_persian_digits(text).replace(".", "٫") + "٪") if lang == "fa" else f"{text}%"


def _toman(rial: int, lang: str) -> str:
    amount = _number(rial // 10, lang)
    return f"{amount} تومان" if lang == "fa" else f"{amount} toman"


def _purchase_conditions(condition: Condition | None) -> list[Condition]:
    """The basket conditions all of which the purchase must meet (top level or under all)."""
    if condition is None:
        return []
    if isinstance(condition, All):
        found: list[Condition] = []
        for child in condition.of:
            found += _purchase_conditions(child)
        return found
    if isinstance(condition, AnyOf):
        return []
    return [condition] if isinstance(condition, BasketAmount | BasketHasGroup) else []


def summarise(offer: Offer, group_names: Mapping[str, tuple[str, str]], lang: str) -> str:
    """``lang`` is fa or en; ``group_names`` maps a product group code to (fa, en)."""
    fa = lang == "fa"

    def groups(codes: list[str]) -> str:
        names = [group_names.get(c, (c, c))[0 if fa else 1] for c in codes]
        return ("، " if fa else ", ").join(names)

    reward = offer.reward
    gives: list[str] = []
    if reward.extra_credit_bp:
        p = _percent(reward.extra_credit_bp, lang)
        gives.append(f"{p} اعتبار بیشتر" if fa else f"{p} more credit")
    if reward.discount_bp:
        p = _percent(reward.discount_bp, lang)
        gives.append(f"{p} تخفیف" if fa else f"{p} off")
    if reward.bonus_points:
        n = _number(reward.bonus_points, lang)
        gives.append(f"{n} امتیاز هدیه" if fa else f"{n} bonus points")
    if reward.fixed_credit_rial:
        t = _toman(reward.fixed_credit_rial, lang)
        gives.append(f"{t} اعتبار" if fa else f"{t} of credit")
    sentence = (" و " if fa else " and ").join(gives)
    if reward.groups:
        sentence += f" روی {groups(reward.groups)}" if fa else f" on {groups(reward.groups)}"
    for condition in _purchase_conditions(offer.when):
        if isinstance(condition, BasketAmount):
            bound = condition.gt if condition.gt is not None else condition.gte
            if bound is not None:
                t = _toman(bound, lang)
                sentence += f" برای خرید بالای {t}" if fa else f" on a purchase over {t}"
        elif isinstance(condition, BasketHasGroup) and not reward.groups:
            g = groups(condition.groups)
            sentence += f" با خرید از {g}" if fa else f" when you buy {g}"
    if offer.kind == "one_time" and offer.valid_days:
        d = _number(offer.valid_days, lang)
        sentence += f"، یک بار، تا {d} روز" if fa else f", once, within {d} days"
    return sentence[:MAX_LENGTH]
