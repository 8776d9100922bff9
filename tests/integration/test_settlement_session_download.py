"""A shop's statement downloads from its node with the dashboard's session cookie, as the
dashboard fetches it (with the CSRF header); a cookie without the header, a till's session
or no credential at all is refused before the node asks the hub anything."""

from __future__ import annotations

import asyncio

import pytest
from starlette.testclient import TestClient

from mallnet.config import Settings
from mallnet.devtokens import issue
from shop_node.api.dashboard import cookie_name
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node

BOOKS = "ketab-sara"
CSRF = {"X-Mallnet-CSRF": "1"}


def _session(node: TestClient, settings: Settings, scopes: list[str], subject: str) -> str:
    hub_token = issue(settings, audience=BOOKS, scopes=scopes, subject=subject)
    started = node.post("/session", headers={"Authorization": f"Bearer {hub_token}"})
    assert started.status_code == 201, started.text
    token: str = started.json()["sessionToken"]
    return token


@pytest.mark.parametrize("kind", ["csv", "pdf"])
def test_the_dashboard_session_downloads_a_statement_only_with_the_csrf_header(
    settings: Settings, kind: str
) -> None:
    asyncio.run(prepare_node(settings, BOOKS))
    with TestClient(create_node_app(BOOKS, settings)) as node:
        name = cookie_name(BOOKS, settings)
        manager = _session(node, settings, ["shop:manage"], "staff:m")
        till = _session(node, settings, ["shop:operate"], "staff:t")
        path = f"/settlement/statements/1.{kind}"

        node.cookies.set(name, manager)
        # Past authentication, the node says it has no hub to ask (not connected here).
        allowed = node.get(path, headers=CSRF)
        assert allowed.status_code == 503
        assert allowed.json()["error"] == "NOT_CONNECTED"
        # A link (or another site's page) cannot send the header: refused.
        bare = node.get(path)
        assert bare.status_code == 403
        assert bare.json()["error"] == "csrf_header_required"

        node.cookies.set(name, till)
        assert node.get(path, headers=CSRF).status_code == 403  # the till sees no money

        node.cookies.set(name, "mns_not-a-session")
        assert node.get(path, headers=CSRF).status_code == 401
        node.cookies.clear()
        assert node.get(path, headers=CSRF).status_code == 401
