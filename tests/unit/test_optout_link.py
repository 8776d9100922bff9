"""The opt-out link's token: made by a node, checked by the hub, naming no one."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from mallnet.messaging import optout_link
from mallnet.values import pseudonym

KEY = b"k" * 48
SARA = pseudonym(KEY, "+989121234567")
ALI = pseudonym(KEY, "+989351112233")


def test_a_token_is_short_url_safe_stable_and_names_no_one() -> None:
    made = optout_link.token(KEY, "ketab-sara", SARA)
    assert len(made) == optout_link.TOKEN_CHARS == 20
    assert made == optout_link.token(KEY, "ketab-sara", SARA)  # old links keep working
    assert made.replace("-", "").replace("_", "").isalnum()
    assert SARA[:8] not in made
    assert "9121234567" not in made
    url = optout_link.url("https://club.mall.ir/", KEY, "ketab-sara", SARA)
    assert url == f"https://club.mall.ir/o/ketab-sara/{made}"
    # Its seal is the design's HMAC, so another implementation can check it.
    digest = hmac.digest(KEY, f"mallnet opt-out v1|ketab-sara|{SARA}".encode(), "sha256")
    assert optout_link._b64(digest)[:16] == made[4:]


def test_only_the_member_and_shop_it_was_made_for_match() -> None:
    made = optout_link.token(KEY, "ketab-sara", SARA)
    assert optout_link.matches(KEY, "ketab-sara", SARA, made)
    assert not optout_link.matches(KEY, "kafsh-arya", SARA, made)
    assert not optout_link.matches(KEY, "ketab-sara", ALI, made)
    assert not optout_link.matches(b"x" * 48, "ketab-sara", SARA, made)
    forged = made[:-1] + ("A" if made[-1] != "A" else "B")
    assert not optout_link.matches(KEY, "ketab-sara", SARA, forged)
    for junk in ("", "short", made + "x", made[:-1] + "/", made[:-1] + "="):
        assert not optout_link.matches(KEY, "ketab-sara", SARA, junk)
        assert optout_link.reference_range(junk) is None


@given(st.binary(min_size=32, max_size=32))
def test_the_reference_range_holds_the_pseudonym_and_little_else(raw: bytes) -> None:
    who = raw.hex()
    bounds = optout_link.reference_range(optout_link.token(KEY, "s", who))
    assert bounds is not None
    low, high = bounds
    assert who >= low
    assert high is None or who < high
    assert len(low) == 6
    assert who.startswith(low)
    if high is not None:
        assert int(high, 16) == int(low, 16) + 1


def test_the_top_reference_has_no_upper_bound() -> None:
    who = "ffffff" + "0" * 58
    assert optout_link.reference_range(optout_link.token(KEY, "s", who)) == ("ffffff", None)


def test_the_sample_link_is_as_long_as_every_real_one() -> None:
    sample = optout_link.sample_url("http://127.0.0.1:8000", "kafsh-arya")
    real = optout_link.url("http://127.0.0.1:8000", KEY, "kafsh-arya", hashlib.sha256().hexdigest())
    assert len(sample) == len(real)
