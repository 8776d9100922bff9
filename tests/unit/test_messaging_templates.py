"""Message texts in Persian and English: every kind renders, names the shop, shows money
and dates as people read them, and a shop's own text is data that can never run code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.digits import PERSIAN_DIGITS
from mallnet.messaging.optout import is_opt_out
from mallnet.messaging.segments import count
from mallnet.messaging.templates import (
    MAX_PARTS,
    OPT_OUT_HINT,
    SAMPLES,
    SPECS,
    InvalidValues,
    Kind,
    Lang,
    Values,
    check_template,
    default_template,
    render,
)

LANGS: tuple[Lang, ...] = ("fa", "en")
SHOP_KINDS = [kind for kind in Kind if kind is not Kind.SIGN_IN_CODE]
MALICIOUS = [
    "{name.__class__}",
    "{0}",
    "{",
    "}",
    "}}{{",
    "{{shop}}",
    "{}",
    "{name!r}",
    "{name:>10}",
    "{ name }",
    "{shop.__init__.__globals__}",
    "{shop[0]}",
    "Hi {name",
    "{__import__}",
    "{" * 500,
]


def sample(lang: Lang, **changes: object) -> Values:
    return dataclasses.replace(SAMPLES[lang], **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_renders_cleanly_in_both_languages(kind: Kind, lang: Lang) -> None:
    text = render(kind, lang, SAMPLES[lang])
    assert text == text.strip()
    assert "None" not in text
    assert "  " not in text
    assert not set("{}") & set(text)
    # A campaign's opt-out link (about 60 characters, UCS-2 beside Persian) costs a part.
    assert 0 < count(text).parts <= (3 if kind is Kind.CAMPAIGN else 2), text
    if kind is not Kind.SIGN_IN_CODE:
        assert SAMPLES[lang].shop in text  # type: ignore[operator]
    assert check_template(kind, lang, default_template(kind, lang)) == []


@pytest.mark.parametrize("kind", SHOP_KINDS)
def test_persian_texts_use_persian_digits_and_english_ones_ascii(kind: Kind) -> None:
    fa, en = render(kind, "fa", SAMPLES["fa"]), render(kind, "en", SAMPLES["en"])
    assert not re.search("[0-9]", fa), fa
    assert not set(PERSIAN_DIGITS) & set(en), en


def test_money_is_whole_toman_in_each_language() -> None:
    values = {"credit_rial": 12_345_675, "balance_rial": 9, "points": 1_500}
    fa = render(Kind.PURCHASE, "fa", sample("fa", **values))
    en = render(Kind.PURCHASE, "en", sample("en", **values))
    assert "۱٬۲۳۴٬۵۶۷ تومان" in fa
    assert "۰ تومان اعتبار" in fa
    assert "۱٬۵۰۰ امتیاز" in fa
    assert "used 1,234,567 toman of credit" in en
    assert "and 0 toman of credit" in en
    assert "earned 1,500 points" in en
    assert "earned 1 point " in render(Kind.PURCHASE, "en", sample("en", points=1))


def test_dates_are_jalali_by_tehran_day() -> None:
    assert "۱۴۰۵/۰۹/۱۵" in render(Kind.BIRTHDAY, "fa", SAMPLES["fa"])
    assert "15 Azar 1405" in render(Kind.BIRTHDAY, "en", SAMPLES["en"])
    # 21:00 UTC on 5 December is 00:30 on 6 December in Tehran: the 15th of Azar.
    late = dt.datetime(2026, 12, 5, 21, 0, tzinfo=dt.UTC)
    assert "15 Azar 1405" in render(Kind.OFFER_GRANTED, "en", sample("en", date=late))
    assert "1 Farvardin 1405" in render(
        Kind.BIRTHDAY, "en", sample("en", date=dt.date(2026, 3, 21))
    )


def test_a_signed_change_shows_its_sign() -> None:
    fa = render(Kind.CREDIT_CHANGE, "fa", sample("fa", points=50, credit_rial=-100_000))
    en = render(Kind.CREDIT_CHANGE, "en", sample("en", points=50, credit_rial=-100_000))
    assert "+۵۰ امتیاز و −۱۰٬۰۰۰ تومان اعتبار" in fa
    assert "+50 points and -10,000 toman of credit" in en
    only_points = render(Kind.CREDIT_CHANGE, "en", sample("en", points=-3, credit_rial=None))
    assert "changed: -3 points." in only_points
    expiring = render(Kind.EXPIRY_SOON, "en", sample("en", points=None, credit_rial=20_000))
    assert expiring.startswith("Your 2,000 toman of credit at Sample Book Cafe will expire")


def test_a_birthday_gift_shows_points_or_credit_or_both() -> None:
    both = render(Kind.BIRTHDAY, "fa", sample("fa", points=50, credit_rial=200_000))
    assert "به شما ۵۰ امتیاز و ۲۰٬۰۰۰ تومان اعتبار هدیه داد" in both
    en = render(Kind.BIRTHDAY, "en", sample("en", points=50, credit_rial=200_000))
    assert "gives you 50 points and 20,000 toman of credit as a gift" in en
    points = render(Kind.BIRTHDAY, "en", sample("en", points=1, credit_rial=None))
    assert "gives you 1 point as a gift, valid until 15 Azar 1405." in points
    credit = render(Kind.BIRTHDAY, "fa", sample("fa", points=None, credit_rial=500_000))
    assert "به شما ۵۰٬۰۰۰ تومان اعتبار هدیه داد" in credit
    with pytest.raises(InvalidValues, match="one of credit_rial, points"):
        render(Kind.BIRTHDAY, "fa", sample("fa", points=None, credit_rial=None))
    with pytest.raises(InvalidValues, match="negative"):
        render(Kind.BIRTHDAY, "en", sample("en", points=-5))
    assert check_template(Kind.BIRTHDAY, "fa", "{shop}: تولدت مبارک! {gift}") == []
    (old,) = check_template(Kind.BIRTHDAY, "en", "{shop} gives you {amount}")
    assert old.code == "unknown_placeholder"


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_missing_name_leaves_no_trace(name: str | None) -> None:
    assert render(Kind.WELCOME, "en", sample("en", name=name)).startswith("Hi, welcome")
    assert render(Kind.WELCOME, "fa", sample("fa", name=name)).startswith("سلام، به باشگاه")
    assert render(Kind.LOTTERY_WIN, "fa", sample("fa", name=name)).startswith("تبریک! در")
    assert render(Kind.BIRTHDAY, "en", sample("en", name=name)).startswith("Happy birthday! ")
    custom = render(Kind.WELCOME, "fa", sample("fa", name=name), template="{name} عزیز، {shop}")
    assert custom == "عزیز، کافه\u200cکتاب نمونه"
    middle = render(Kind.WELCOME, "en", sample("en", name=name), template="At {shop} {name} hi")
    assert middle == "At Sample Book Cafe hi"
    for kind in SHOP_KINDS:
        for lang in LANGS:
            text = render(kind, lang, sample(lang, name=name))
            assert "None" not in text
            assert "  " not in text
            assert " ،" not in text
            assert " ," not in text


def test_a_shop_text_without_the_shop_gets_it_as_a_prefix() -> None:
    fa = render(Kind.WELCOME, "fa", SAMPLES["fa"], template="خوش آمدید {name}!")
    en = render(Kind.WELCOME, "en", SAMPLES["en"], template="Welcome, {name}!")
    assert fa == "«کافه\u200cکتاب نمونه»: خوش آمدید مریم!"
    assert en == "Sample Book Cafe: Welcome, Maryam!"
    named = render(Kind.WELCOME, "en", SAMPLES["en"], template="{shop} says hi")
    assert named == "Sample Book Cafe says hi"


def test_the_hub_sign_in_code_keeps_its_wording() -> None:
    expected = "کد ورود مال\u200cنت: 123456\nmallnet sign-in code: 123456"
    for lang in LANGS:
        text = render(Kind.SIGN_IN_CODE, lang, Values(code="123456"))
        assert text == expected
        found = re.search(r"(\d{6})$", text)  # how tests/oauth_flow.py reads the outbox
        assert found is not None
        assert found.group(1) == "123456"
    assert SPECS[Kind.SIGN_IN_CODE].names_shop is False
    custom = render(Kind.SIGN_IN_CODE, "en", Values(code="123456"), template="Code: {code}")
    assert custom == "Code: 123456"


def test_only_campaigns_are_promotional_and_carry_the_opt_out_hint() -> None:
    for kind, spec in SPECS.items():
        assert spec.line == ("promotional" if kind is Kind.CAMPAIGN else "service")
    for lang in LANGS:
        text = render(Kind.CAMPAIGN, lang, SAMPLES[lang])
        # The hint for a reply, then her link for a tap.
        link = SAMPLES[lang].opt_out_url
        assert text.endswith(f"\n{OPT_OUT_HINT[lang]}\n{link}")
        assert text.count(OPT_OUT_HINT[lang]) == 1
        without = render(Kind.CAMPAIGN, lang, dataclasses.replace(SAMPLES[lang], opt_out_url=None))
        assert without.endswith("\n" + OPT_OUT_HINT[lang])
        for kind in SHOP_KINDS:
            if kind is not Kind.CAMPAIGN:
                assert OPT_OUT_HINT[lang] not in render(kind, lang, SAMPLES[lang])
    assert OPT_OUT_HINT == {"fa": "لغو: ارسال «لغو»", "en": "Reply STOP to opt out"}
    assert is_opt_out("لغو")
    assert is_opt_out("STOP")
    already = render(Kind.CAMPAIGN, "en", SAMPLES["en"], template="{text}\nReply STOP to opt out")
    assert already.count("STOP") == 1
    assert already.endswith("Reply STOP to opt out\n" + str(SAMPLES["en"].opt_out_url))
    # The link is never a placeholder a shop's text may move or drop.
    assert [p.code for p in check_template(Kind.CAMPAIGN, "en", "{text} {opt_out_url}")] == [
        "unknown_placeholder"
    ]


def test_values_are_shown_literally_never_parsed() -> None:
    text = render(Kind.CAMPAIGN, "en", sample("en", text="{shop} {name.__class__} {0}"))
    assert "{shop} {name.__class__} {0}" in text


@pytest.mark.parametrize("template", MALICIOUS)
@pytest.mark.parametrize("kind", list(Kind))
def test_malicious_templates_are_rejected_and_render_the_default(kind: Kind, template: str) -> None:
    for lang in LANGS:
        problems = check_template(kind, lang, template)
        assert problems, template
        assert all(p.en and p.fa for p in problems)
        assert render(kind, lang, SAMPLES[lang], template=template) == render(
            kind, lang, SAMPLES[lang]
        )


def test_problems_say_what_is_wrong_in_both_languages() -> None:
    (bad,) = check_template(Kind.WELCOME, "fa", "{name.__class__}")
    assert bad.code == "bad_placeholder"
    assert "{name.__class__}" in bad.en
    assert "{name.__class__}" in bad.fa
    (unknown,) = check_template(Kind.WELCOME, "en", "Hi {points}")
    assert unknown.code == "unknown_placeholder"
    assert "{name}, {shop}" in unknown.en
    assert "{name}، {shop}" in unknown.fa
    braces = check_template(Kind.WELCOME, "en", "}}{{")
    assert [p.code for p in braces] == ["unbalanced_brace"] * 4
    assert "character 1 " in braces[0].en
    assert "۱" in braces[0].fa
    (empty,) = check_template(Kind.WELCOME, "en", " \n ")
    assert empty.code == "empty"
    (missing,) = check_template(Kind.SIGN_IN_CODE, "en", "Your code")
    assert (missing.code, missing.en) == ("missing_placeholder", "The text must include {code}.")
    (no_text,) = check_template(Kind.CAMPAIGN, "fa", "«{shop}» تخفیف دارد")
    assert no_text.code == "missing_placeholder"


def test_texts_longer_than_six_parts_are_refused() -> None:
    fits = "س" * (MAX_PARTS * 67 - 40)
    assert check_template(Kind.WELCOME, "fa", "{shop}" + fits[:200]) == []
    (too_long,) = check_template(Kind.WELCOME, "fa", "{shop} " + "س" * (MAX_PARTS * 67))
    assert too_long.code == "too_long"
    assert "7 SMS parts" in too_long.en
    assert "۷" in too_long.fa
    (huge,) = check_template(Kind.WELCOME, "en", "a" * 100_000)
    assert huge.code == "too_long"


def test_values_must_fit_the_kind() -> None:
    with pytest.raises(InvalidValues, match="points"):
        render(Kind.PURCHASE, "en", sample("en", points=None))
    with pytest.raises(InvalidValues, match="shop"):
        render(Kind.WELCOME, "en", sample("en", shop="  "))
    with pytest.raises(InvalidValues, match="one of credit_rial, points"):
        render(Kind.CREDIT_CHANGE, "en", sample("en", points=None, credit_rial=None))
    with pytest.raises(InvalidValues, match="negative"):
        render(Kind.PURCHASE, "en", sample("en", credit_rial=-1))
    with pytest.raises(InvalidValues, match="points must be a int"):
        Values(points="5")  # type: ignore[arg-type]
    with pytest.raises(InvalidValues):
        Values(points=True)
    with pytest.raises(InvalidValues):
        Values(date="1405/09/15")  # type: ignore[arg-type]
    with pytest.raises(InvalidValues):
        render(Kind.WELCOME, "en", {"shop": "x"})  # type: ignore[arg-type]


def test_kinds_and_languages_are_checked() -> None:
    assert render("welcome", "en", SAMPLES["en"]) == render(Kind.WELCOME, "en", SAMPLES["en"])
    with pytest.raises(ValueError, match="fa or en"):
        render(Kind.WELCOME, "de", SAMPLES["en"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nope"):
        render("nope", "en", SAMPLES["en"])
    with pytest.raises(TypeError):
        render(Kind.WELCOME, "en", SAMPLES["en"], template=b"{shop}")  # type: ignore[arg-type]


def test_specs_are_what_the_default_texts_show() -> None:
    purchase = SPECS[Kind.PURCHASE]
    assert purchase.required == {"shop", "points", "credit_rial", "balance_points", "balance_rial"}
    assert purchase.placeholders[:2] == ("name", "shop")
    assert SPECS[Kind.CREDIT_CHANGE].one_of == {"points", "credit_rial"}
    birthday = SPECS[Kind.BIRTHDAY]
    assert birthday.required == {"shop", "date"}
    assert birthday.one_of == {"points", "credit_rial"}
    assert birthday.placeholders == ("name", "shop", "gift", "date")
    assert SPECS[Kind.SIGN_IN_CODE].placeholders == ("code",)
    assert SPECS[Kind.PARTNER_WELCOME].required == {"shop", "via_shop"}


_TEMPLATE_ALPHABET = st.sampled_from([*"{}ab. _0:!", "{name}", "{shop}", "{code}", "س"])


@given(st.lists(_TEMPLATE_ALPHABET, max_size=40).map("".join), st.sampled_from(list(Kind)))
def test_any_template_renders_without_raising(template: str, kind: Kind) -> None:
    for lang in LANGS:
        problems = check_template(kind, lang, template)
        text = render(kind, lang, SAMPLES[lang], template=template)
        if kind is not Kind.SIGN_IN_CODE:
            assert SAMPLES[lang].shop in text  # type: ignore[operator]
        if problems:
            assert text == render(kind, lang, SAMPLES[lang])
        else:
            assert not set("{}") & set(text)
