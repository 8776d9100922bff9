"""Known devices (OWASP's device cookies): a browser that signed in to an account with the
right password gets a signed cookie naming it a known device of that account.

On the account's next sign-in from that browser, the cookie exempts it from the limits a
stranger can spend — its address's and the account's under-attack refusal — and limits
it on its own instead (``abuse.PasswordGuard``): someone behind the owner's shared address
cannot lock her out. The cookie holds a random device id and when it was given, with an
HMAC binding both to the account's username under a key derived from the hub's
key-encryption key; it is good for ``LIFETIME`` and renewed at each sign-in. It is
HttpOnly, SameSite=Strict, and ``__Host-``-prefixed and Secure outside development. A new
KEK makes every device unknown again (the owner then signs in as anyone would, once).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from mallnet.config import Settings
from mallnet.keywrap import keyring_for

LIFETIME = dt.timedelta(days=90)
_VALUE = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


class KnownDevices:
    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._key = key
        self.secure = secure
        self.cookie = "__Host-mallnet-device" if secure else "mallnet-device"

    @classmethod
    def of(cls, settings: Settings, kek: bytes) -> KnownDevices:
        key = hmac.new(kek, b"mallnet hub known devices v1", hashlib.sha256).digest()
        return cls(key, secure=settings.is_production)

    def _mac(self, username: str, device: str, issued: int) -> str:
        message = f"{username}\x1f{device}\x1f{issued}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def device_of(self, request: Request, username: str, now: dt.datetime) -> str | None:
        """The id of this browser as a known device of ``username``, or None."""
        found = _VALUE.fullmatch(request.cookies.get(self.cookie, ""))
        if found is None:
            return None
        device, issued, mac = found.group(1), int(found.group(2)), found.group(3)
        if not hmac.compare_digest(mac, self._mac(username, device, issued)):
            return None
        age_s = now.timestamp() - issued
        return device if 0 <= age_s <= LIFETIME.total_seconds() else None

    def remember(
        self, response: Response, username: str, device: str | None, now: dt.datetime
    ) -> None:
        """Name this browser a known device of ``username`` (its id kept, if it had one)."""
        device = device or secrets.token_urlsafe(16)
        issued = int(now.timestamp())
        response.set_cookie(
            self.cookie,
            f"{device}.{issued}.{self._mac(username, device, issued)}",
            max_age=int(LIFETIME.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )


def known_devices(state: object, settings: Settings) -> KnownDevices:
    """The app's ``KnownDevices``, made once (from the app's keyring when it has one)."""
    found: KnownDevices | None = getattr(state, "known_devices", None)
    if found is None:
        keyring = getattr(state, "keyring", None) or keyring_for(settings)
        found = KnownDevices.of(settings, keyring.current.key)
        state.known_devices = found  # type: ignore[attr-defined]
    return found
