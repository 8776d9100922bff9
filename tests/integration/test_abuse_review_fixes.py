"""Fixes from the second security review of the abuse limits (issue 15), each shown on a
real hub's sign-in pages (SQLite, in-process, behind a trusted proxy so that each request
says whose address it is) or on the limits themselves."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mallnet.config import Settings
from tests.hub_pages import HubPages, form_fields, hub_pages

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
