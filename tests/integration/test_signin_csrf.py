"""The sign-in forms refuse a POST without the CSRF token of the page that showed them
(issue 15), driven as a browser would through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.responses import Response

from hub.web.csrf import SignInCsrf
from mallnet.config import Settings

from ..hub_pages import PASSWORD, HubPages, form_fields, hub_pages, signed_in

FORGED = "sent from another site"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubPages]:
    with hub_pages(Settings(data_dir=tmp_path / "var")) as pages:
        yield pages


def test_the_password_form_needs_its_token(hub: HubPages) -> None:
    params = hub.params("staff")
    page = hub.http.get("/oauth/authorize", params=params)
    token = form_fields(page)
    assert token, "the page carries a token"
    cookie = page.headers["set-cookie"]
    assert "mallnet-signin=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert page.headers["x-frame-options"] == "DENY"
    login = {**params, "username": "ali", "password": PASSWORD}
    # No token, a made-up one, and one for other parameters: refused, nothing signed in.
    for data in (
        login,
        {**login, "csrf_token": "A" * 43},
        {**login, **form_fields(hub.http.get("/oauth/authorize", params=hub.params("staff")))},
    ):
        refused = hub.http.post("/oauth/authorize", data=data)
        assert refused.status_code == 403
        assert "location" not in refused.headers
        assert FORGED in refused.text
        assert "فرم" in refused.text
        assert form_fields(refused), "the refusal shows the form again, with a fresh token"
    assert signed_in(hub.http.post("/oauth/authorize", data={**login, **token}))


def test_a_token_is_good_only_with_the_browser_it_was_given_to(hub: HubPages) -> None:
    params = hub.params("staff")
    token = form_fields(hub.http.get("/oauth/authorize", params=params))
    hub.http.cookies.clear()  # another browser: the attacker's page posting the form
    refused = hub.http.post(
        "/oauth/authorize", data={**params, **token, "username": "ali", "password": PASSWORD}
    )
    assert refused.status_code == 403


def test_the_shopper_forms_need_their_tokens_and_text_nothing_without(hub: HubPages) -> None:
    params = hub.params("app")
    page = hub.http.get("/oauth/authorize", params=params)
    forged = hub.http.post("/oauth/otp", data={**params, "phone": "09121234567"})
    assert forged.status_code == 403
    assert hub.outbox() == []  # no text for a forged request
    sent = hub.http.post("/oauth/otp", data={**params, **form_fields(page), "phone": "09121234567"})
    assert sent.status_code == 200
    assert len(hub.outbox()) == 1
    code = {"phone": "09121234567", "code": "000000"}
    # The send-code form's token does not pass for the code form.
    wrong_form = hub.http.post("/oauth/authorize", data={**params, **form_fields(page), **code})
    assert wrong_form.status_code == 403
    assert 'name="code"' in wrong_form.text  # the code form again, for the same phone
    good = hub.http.post("/oauth/authorize", data={**params, **form_fields(sent), **code})
    assert good.status_code in (200, 400)  # the token passed; the code itself was checked


def test_outside_development_the_cookie_is_host_only_and_secure() -> None:
    csrf = SignInCsrf(b"k" * 32, secure=True)
    response = Response()
    csrf.set_cookie(response, "b" * 43)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-mallnet-signin=")
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie
