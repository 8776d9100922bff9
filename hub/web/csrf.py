"""CSRF protection of the sign-in forms (and the opt-out page's button): a signed
double-submit token.

Showing a form sets a random browser id in an HttpOnly, SameSite=Strict cookie
(``__Host-``-prefixed and Secure outside development, so no sibling host or plain-HTTP
page can plant one) and puts in the form an HMAC of that id, the form's name and the
authorization request it belongs to. A POST is accepted only when its token matches the
cookie it came with: another site can make a browser post the form, but cannot read the
cookie or the page, so cannot make the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from mallnet.config import Settings
from mallnet.secrets_store import network_key

FIELD = "csrf_token"
Form = Literal["password", "send-code", "code", "opt-out"]
_BROWSER_ID = re.compile(r"[A-Za-z0-9_-]{43}")


class SignInCsrf:
    def __init__(self, key: bytes, *, secure: bool) -> None:
        self._key = key
        self.secure = secure
        self.cookie = "__Host-mallnet-signin" if secure else "mallnet-signin"

    @classmethod
    def of(cls, settings: Settings) -> SignInCsrf:
        # A key of its own, derived so that no new secret needs configuring.
        key = hmac.new(network_key(settings), b"mallnet hub sign-in csrf v1", "sha256")
        return cls(key.digest(), secure=settings.is_production)

    def browser_id(self, request: Request) -> str | None:
        value = request.cookies.get(self.cookie)
        return value if value is not None and _BROWSER_ID.fullmatch(value) else None

    def asker(self, request: Request) -> str | None:
        """A keyed digest of the browser's id, stored beside a sign-in code it asked for:
        the code's own tries are counted apart from everyone else's (``people``), and the
        database never holds the cookie itself."""
        browser = self.browser_id(request)
        if browser is None:
            return None
        return hmac.new(self._key, b"code asker\x1f" + browser.encode(), "sha256").hexdigest()

    def token(self, browser_id: str, form: Form, params: Mapping[str, str]) -> str:
        message = "\x1f".join([form, browser_id, *(f"{k}={v}" for k, v in sorted(params.items()))])
        digest = hmac.new(self._key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def valid(self, request: Request, form: Form, params: Mapping[str, str], sent: str) -> bool:
        browser = self.browser_id(request)
        if browser is None or not sent:
            return False
        return hmac.compare_digest(self.token(browser, form, params), sent)

    def issue(self, request: Request, form: Form, params: Mapping[str, str]) -> tuple[str, str]:
        """(browser id, token) for a form about to be shown: the browser's id if it has
        one (a second tab keeps the first tab's form valid), else a new one."""
        browser = self.browser_id(request) or secrets.token_urlsafe(32)
        return browser, self.token(browser, form, params)

    def set_cookie(self, response: Response, browser_id: str) -> None:
        response.set_cookie(
            self.cookie,
            browser_id,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )


def csrf_of(state: object, settings: Settings) -> SignInCsrf:
    """The app's ``SignInCsrf``, made once."""
    found: SignInCsrf | None = getattr(state, "signin_csrf", None)
    if found is None:
        found = SignInCsrf.of(settings)
        state.signin_csrf = found  # type: ignore[attr-defined]
    return found
