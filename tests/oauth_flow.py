"""A shopper signing in at the hub the way the app does: authorization code + PKCE, the
phone and the one-time code the hub texted (read from the development SMS outbox), each
form posted with the CSRF token of the page that showed it (and the cookie it set)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx


def last_code(outbox: Path) -> str:
    """The code of the last sign-in SMS in the outbox (a running network's worker writes
    the clubs' own messages there too)."""
    codes = [
        json.loads(line)["text"]
        for line in outbox.read_text().splitlines()
        if json.loads(line)["kind"] == "otp"
    ]
    assert codes, f"no sign-in code in {outbox}"
    found = re.search(r"(\d{6})$", codes[-1])
    assert found is not None, codes[-1]
    return found.group(1)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(page: httpx.Response) -> dict[str, str]:
    """The CSRF field of the form on a sign-in page, to post with the form's other fields
    (the client must keep the page's cookie)."""
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return {"csrf_token": found.group(1)}


def shopper_code(http: httpx.Client, params: dict[str, str], phone: str, outbox: Path) -> str:
    """Run the sign-in pages with ``params`` (an authorization request); return the code."""
    page = http.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    sent = http.post("/oauth/otp", data={**params, **csrf(page), "phone": phone})
    assert sent.status_code == 200, sent.text
    code = last_code(outbox)
    done = http.post(
        "/oauth/authorize", data={**params, **csrf(sent), "phone": phone, "code": code}
    )
    assert done.status_code == 302, done.text
    query = parse_qs(urlparse(done.headers["location"]).query)
    assert query["state"] == [params["state"]]
    return query["code"][0]
