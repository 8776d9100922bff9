"""Fixes from the second security review of the abuse limits (issue 15), each shown on a
real hub's sign-in pages (SQLite, in-process, behind a trusted proxy so that each request
says whose address it is) or on the limits themselves."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.services import abuse, grants, people
from mallnet.config import Settings
from mallnet.migrations import upgrade
from mallnet.secrets_store import pseudonym
from tests.hub_pages import HubPages, form_fields, hub_pages, in_hub

PROXY = "10.0.0.2"
VICTIM = "09121112233"
STRANGER_TRIES = 5  # everyone but the asking browser, together, at one code


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(data_dir=tmp_path / "var", trusted_proxies="10.0.0.0/24", **extra)  # type: ignore[arg-type]


def _last_code(hub: HubPages) -> str:
    found = re.search(r"(\d{6})", json.loads(hub.outbox()[-1])["text"])
    assert found is not None
    return found.group(1)


def _try_code(
    hub: HubPages, params: dict[str, str], token: dict[str, str], code: str, address: str
) -> int:
    data = {**params, **token, "phone": VICTIM, "code": code}
    answer = hub.http.post("/oauth/authorize", data=data, headers={"X-Forwarded-For": address})
    return answer.status_code


def _code_form(hub: HubPages, params: dict[str, str], address: str) -> dict[str, str]:
    """A code-form token for this browser (a post the form did not make hands one out)."""
    page = hub.http.post(
        "/oauth/authorize", data={**params, "phone": "x"}, headers={"X-Forwarded-For": address}
    )
    assert page.status_code == 403
    return form_fields(page)


def _stranger_token(hub: HubPages, params: dict[str, str], address: str) -> dict[str, str]:
    """A code-form token for a browser of the stranger's own."""
    hub.http.cookies.clear()
    return _code_form(hub, params, address)


def _ask_as_victim(hub: HubPages) -> tuple[dict[str, str], dict[str, str]]:
    """The victim asks for a code in her browser: (her cookies, fresh form params)."""
    hub.http.cookies.clear()
    asked = hub.ask_code(VICTIM, address="198.51.100.1")
    assert asked.status_code == 200
    return dict(hub.http.cookies), hub.params("app")


def test_a_strangers_wrong_codes_do_not_burn_the_shoppers_own(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        # Given a shopper who asked for a code in her browser
        cookies, params = _ask_as_victim(hub)
        code = _last_code(hub)
        # When a stranger posts wrong codes for her phone from six addresses
        token = _stranger_token(hub, params, "203.0.113.50")
        statuses = [
            _try_code(hub, params, token, f"{(int(code) + 1 + i) % 10**6:06d}", f"203.0.113.{i}")
            for i in range(STRANGER_TRIES + 1)
        ]
        # Then the stranger is stopped after his share of tries...
        assert statuses == [400] * STRANGER_TRIES + [400]
        assert _try_code(hub, params, token, code, "203.0.113.99") == 400  # even the right one
        # ...and the shopper still signs in with her code, in her browser
        hub.http.cookies.clear()
        for name, value in cookies.items():
            hub.http.cookies.set(name, value)
        mine = _code_form(hub, params, "198.51.100.1")
        assert _try_code(hub, params, mine, code, "198.51.100.1") == 302


def test_code_guesses_from_one_address_are_limited_across_phones(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        # Given five shoppers who each asked for a code from their own address
        phones = [f"0912555{i:04d}" for i in range(5)]
        for i, phone in enumerate(phones):
            hub.http.cookies.clear()
            assert hub.ask_code(phone, address=f"198.51.100.{i + 1}").status_code == 200
        # When one address sprays guesses at all their codes
        params = hub.params("app")
        token = _stranger_token(hub, params, "203.0.113.7")
        statuses = []
        for round_ in range(5):
            for phone in phones:
                data = {**params, **token, "phone": phone, "code": f"{round_:06d}"}
                answer = hub.http.post(
                    "/oauth/authorize", data=data, headers={"X-Forwarded-For": "203.0.113.7"}
                )
                statuses.append(answer.status_code)
        # Then it is refused past the address's budget of code guesses
        assert statuses.count(429) == 5, statuses
        assert statuses[-5:] == [429] * 5


# --- SMS budgets and IPv6 networks ---------------------------------------------------------


def test_one_ipv6_56_cannot_spend_the_sign_in_budget(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path, sms_budget_per_hour=40), peer=PROXY) as hub:
        # Given an attacker walking four /64s of one /56, ten codes from each
        sent = [
            hub.ask_code(f"0935{net:03d}{i:04d}", address=f"2001:db8:0:{net:x}::{i + 1}")
            for net in range(4)
            for i in range(10)
        ]
        # When a shopper elsewhere asks for her code
        shopper = hub.ask_code("09121234567", address="198.51.100.77")
    # Then the /56 was stopped well before the hour's budget, and she gets hers
    assert [a.status_code for a in sent].count(200) == 20
    assert shopper.status_code == 200


def test_one_ipv6_48_is_limited_across_its_56s(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path, sms_budget_per_hour=200), peer=PROXY) as hub:
        sent = [
            hub.ask_code(f"0935{net:03d}{i:04d}", address=f"2001:db8:0:{net:x}00::{i + 1}")
            for net in range(8)
            for i in range(8)
        ]
    assert [a.status_code for a in sent].count(200) == 40


def test_a_6to4_address_is_counted_as_its_ipv4_address(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        # 2002:c633:6401::/48 belongs to whoever holds 198.51.100.1
        statuses = [
            hub.ask_code(f"0935000{i:04d}", address=f"2002:c633:6401:{i:x}::1").status_code
            for i in range(6)
        ] + [hub.ask_code(f"0935100{i:04d}", address="198.51.100.1").status_code for i in range(5)]
    assert statuses == [200] * 10 + [429]


async def test_sign_in_codes_cannot_spend_the_tills_redemption_texts(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    await upgrade("hub", settings.hub_db_url)
    limits = abuse.Limits.in_memory(sms_budget_per_hour=2)
    key = b"k" * 32

    class Texts:
        async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
            pass

    # Given anonymous askers who spent the hour's sign-in codes
    for phone in ("09120000001", "09120000002"):
        await in_hub(
            settings, lambda s, p=phone: people.send_code(s, Texts(), p, "x", limits=limits)
        )
    with pytest.raises(people.SignInError, match="text-message budget"):
        await in_hub(
            settings, lambda s: people.send_code(s, Texts(), "09120000003", "y", limits=limits)
        )
    # When a till asks a redemption code, it is still texted (its own budget)...
    phone = "+989121234567"

    def text(session: AsyncSession) -> Awaitable[object]:
        return grants.text_code(
            session, key, "ketab-sara", phone, pseudonym(key, phone), limits=limits
        )

    await in_hub(settings, text)
    await in_hub(settings, text)
    # ...and that budget holds for redemption texts too
    with pytest.raises(grants.GrantError, match="text-message budget"):
        await in_hub(settings, text)
