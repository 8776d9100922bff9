"""Known devices (security review, issue 15): someone behind the owner's shared address
(an office NAT) cannot lock her out of her account. A browser that signed in with the
right password holds a signed cookie naming it a known device of that account: it is
limited on its own, not by its address or the account's under-attack refusal."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from hub.web.devices import KnownDevices
from mallnet.config import Settings
from mallnet.db import utcnow
from tests.hub_pages import PASSWORD, HubPages, hub_pages, signed_in

PROXY = "10.0.0.2"
NAT = "198.51.100.200"  # the mall office and its public Wi-Fi share this address
WRONG = "wrong password!"


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", trusted_proxies="10.0.0.0/24")


def _as_browser(hub: HubPages, cookies: dict[str, str]) -> None:
    hub.http.cookies.clear()
    for name, value in cookies.items():
        hub.http.cookies.set(name, value)


def _attack(hub: HubPages, *, at_nat: int) -> None:
    """A stranger's wrong passwords at 'ali': ``at_nat`` from the office's address, the
    rest (to ten) from elsewhere, each from a browser of its own."""
    for i in range(10):
        hub.http.cookies.clear()
        address = NAT if i < at_nat else f"203.0.113.{i}"
        assert not signed_in(hub.sign_in("ali", WRONG, address=address))


def test_the_owners_known_browser_signs_in_behind_an_attacked_nat(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        # Given the owner signed in once from her office browser
        assert signed_in(hub.sign_in("ali", PASSWORD, address=NAT))
        owner = dict(hub.http.cookies)
        # When a stranger on the office Wi-Fi and a botnet guess her password
        _attack(hub, at_nat=10)
        # Then a new browser at the office is refused, and hers is not
        hub.http.cookies.clear()
        assert hub.sign_in("ali", PASSWORD, address=NAT).status_code == 429
        _as_browser(hub, owner)
        assert signed_in(hub.sign_in("ali", PASSWORD, address=NAT))


def test_a_forged_device_cookie_is_no_exemption(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        assert signed_in(hub.sign_in("ali", PASSWORD, address="192.0.2.1"))
        cookies = dict(hub.http.cookies)
        name = next(n for n in cookies if n.endswith("mallnet-device"))
        _attack(hub, at_nat=10)
        device, issued, mac = cookies[name].split(".")
        for forged in (f"{device}.{int(issued) + 1}.{mac}", f"{'A' * 22}.{issued}.{mac}"):
            _as_browser(hub, {**cookies, name: forged})
            assert hub.sign_in("ali", PASSWORD, address=NAT).status_code == 429


def test_a_known_device_has_its_own_limit(tmp_path: Path) -> None:
    with hub_pages(_settings(tmp_path), peer=PROXY) as hub:
        assert signed_in(hub.sign_in("ali", PASSWORD, address="192.0.2.1"))
        # A stolen cookie gives ten guesses per 15 minutes, wherever they come from.
        statuses = [
            hub.sign_in("ali", WRONG, address=f"203.0.113.{i}").status_code for i in range(11)
        ]
        assert statuses == [400] * 10 + [429]


def test_a_device_is_known_to_its_own_account_only() -> None:
    devices = KnownDevices(b"k" * 32, secure=False)
    response = Response()
    devices.remember(response, "ali", None, utcnow())
    cookie = response.headers["set-cookie"].split(";")[0]
    request = Request({"type": "http", "headers": [(b"cookie", cookie.encode())]})
    assert devices.device_of(request, "ali", utcnow()) is not None
    assert devices.device_of(request, "sara", utcnow()) is None
    other_key = KnownDevices(b"j" * 32, secure=False)
    assert other_key.device_of(request, "ali", utcnow()) is None
