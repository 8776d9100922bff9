"""Replies that stop promotional texts are understood however they are typed, and only
when the keyword is the whole reply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mallnet.messaging.optout import (
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    REPLY_WORD,
    is_opt_in,
    is_opt_out,
    keyword_form,
)

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    "reply",
    [
        "لغو",
        "«لغو»",
        " لغو. ",
        "لغو ۱۱",
        "لغو۱۱",
        "لغو11",
        "لغو ١١",  # Arabic-Indic digits
        "11",
        "۱۱",
        "STOP",
        "stop",
        "Stop",
        "Stop!",
        "  stop\n",
        "ＳＴＯＰ",  # full-width, as some keyboards type it
        "UNSUBSCRIBE",
        "unsubscribe",
        "انصراف",
        "انصراف!",
        f"{ZWNJ}لغو{ZWNJ}",
        "لـغو",  # stretched with a tatweel
        "\u200fلغو",  # a right-to-left mark
        "لغو عضويت",  # Arabic yeh
        "لغو عضویت",
        "STOP ALL",
        "cancel",
        "End",
        "quit",
    ],
)
def test_opt_out_replies(reply: str) -> None:
    assert is_opt_out(reply)
    assert not is_opt_in(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   ",
        "don't stop",
        "stop it",
        "please stop sending",
        "stopp",
        "nonstop",
        "1",
        "111",
        "لغوو",
        "لغو کنید",
        "خرید لغو شد",
        "سفارش را لغو کنید",
        "cancel my order",
        "the end",
        "عضویت",
        "START",
        "لغو؟ چرا؟",
    ],
)
def test_near_misses_are_not_opt_outs(reply: str) -> None:
    assert not is_opt_out(reply)


@pytest.mark.parametrize("reply", ["عضویت", "عضويت", " START ", "start", "Unstop", "subscribe"])
def test_opt_in_replies(reply: str) -> None:
    assert is_opt_in(reply)
    assert not is_opt_out(reply)


def test_the_reply_words_the_hints_name_are_opt_outs() -> None:
    for word in REPLY_WORD.values():
        assert is_opt_out(word)
        assert is_opt_out(f"«{word}»")


def test_keyword_sets_are_disjoint_and_in_keyword_form() -> None:
    assert not OPT_OUT_KEYWORDS & OPT_IN_KEYWORDS
    for keyword in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS:
        assert keyword_form(keyword) == keyword


def test_keyword_form() -> None:
    assert keyword_form(" لغو ۱۱! ") == "لغو11"
    assert keyword_form("Stop.") == "stop"
    assert keyword_form("كيك") == "کیک"


def test_non_text_is_never_a_keyword() -> None:
    assert not is_opt_out(None)  # type: ignore[arg-type]
    assert not is_opt_in(11)  # type: ignore[arg-type]


_NOISE = st.text(alphabet=st.sampled_from(" \t\n.!؟?،,«»\"'" + ZWNJ + "\u200f"), max_size=6)


@given(
    keyword=st.sampled_from(["لغو", "لغو ۱۱", "۱۱", "STOP", "stop", "Unsubscribe", "انصراف"]),
    before=_NOISE,
    after=_NOISE,
)
def test_surrounding_spaces_and_punctuation_do_not_matter(
    keyword: str, before: str, after: str
) -> None:
    assert is_opt_out(before + keyword + after)


@given(st.text(max_size=60))
def test_stop_among_other_words_is_not_an_opt_out(words: str) -> None:
    sentence = f"{words} stop {words}"
    assert is_opt_out(sentence) == (keyword_form(words) == "")
