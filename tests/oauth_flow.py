"""A shopper signing in at the hub the way the app does: authorization code + PKCE, the
phone and the one-time code the hub texted (read from the development SMS outbox)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx


def last_code(outbox: Path) -> str:
    text = json.loads(outbox.read_text().splitlines()[-1])["text"]
    found = re.search(r"(\d{6})$", text)
    assert found is not None, text
    return found.group(1)


def shopper_code(http: httpx.Client, params: dict[str, str], phone: str, outbox: Path) -> str:
    """Run the sign-in pages with ``params`` (an authorization request); return the code."""
    assert http.get("/oauth/authorize", params=params).status_code == 200
    sent = http.post("/oauth/otp", data={**params, "phone": phone})
    assert sent.status_code == 200, sent.text
    done = http.post("/oauth/authorize", data={**params, "phone": phone, "code": last_code(outbox)})
    assert done.status_code == 302, done.text
    query = parse_qs(urlparse(done.headers["location"]).query)
    assert query["state"] == [params["state"]]
    return query["code"][0]
