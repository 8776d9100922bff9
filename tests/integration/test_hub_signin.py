"""People signing in at the hub over real HTTP: shoppers by phone and one-time code,
staff by password; authorization code + PKCE with a standard client (Authlib's), refresh
token rotation and revocation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from sqlalchemy import update

from hub.app import create_app
from hub.db.models import User
from hub.services import people
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.migrations import upgrade

from ..conftest import HubDatabases, free_ports, in_transaction, in_transaction_sync
from ..hub_pages import REDIRECT, register_signin_clients
from ..live_server import LiveServer
from ..oauth_flow import csrf, last_code, shopper_code

PHONE = "09121234567"


class Site:
    def __init__(self, url: str, settings: Settings, clients: dict[str, Any]) -> None:
        self.url = url
        self.settings = settings
        self.clients = clients
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=10)

    def oauth(self, who: str) -> AsyncOAuth2Client:
        creds = self.clients[who]
        return AsyncOAuth2Client(
            creds.client_id,
            creds.client_secret or None,
            redirect_uri=REDIRECT,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if creds.client_secret else "none",
        )

    def authorize_params(self, who: str, verifier: str, **extra: str) -> dict[str, str]:
        client = self.oauth(who)
        url, _state = client.create_authorization_url(
            f"{self.url}/oauth/authorize", code_verifier=verifier, state="xyz", **extra
        )
        return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}

    def csrf(self, params: dict[str, str]) -> dict[str, str]:
        """The CSRF field of the first form the sign-in page shows for ``params``."""
        return csrf(self.http.get("/oauth/authorize", params=params))

    def last_code(self) -> str:
        return last_code(self.settings.data_dir / "sms-outbox.jsonl")

    def shopper_code(self, who: str = "app", phone: str = PHONE) -> tuple[str, str]:
        """Sign a shopper in; return (authorization code, verifier)."""
        verifier = generate_token(48)
        params = self.authorize_params(who, verifier)
        outbox = self.settings.data_dir / "sms-outbox.jsonl"
        return shopper_code(self.http, params, phone, outbox), verifier

    async def exchange(self, who: str, code: str, verifier: str) -> dict[str, Any]:
        async with self.oauth(who) as client:
            token: dict[str, Any] = await client.fetch_token(
                f"{self.url}/oauth/token",
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
        return token


async def _adb(settings: Settings, work: Any) -> Any:
    return await in_transaction(settings.hub_db_url, work)


def _db(settings: Settings, work: Any) -> Any:
    return in_transaction_sync(settings.hub_db_url, work)


async def _hub_with_people(url: str) -> dict[str, Any]:
    """The template of ``site``: a hub with a shop, the shopper app and the staff dashboard
    as clients, and a manager (the password hashed once per session, not per test)."""
    await upgrade("hub", url)
    clients: dict[str, Any] = await in_transaction(url, register_signin_clients)
    return clients


@pytest.fixture
def site(tmp_path: Path, hub_databases: HubDatabases) -> Iterator[Site]:
    """The hub serving sign-in, on SQLite and on PostgreSQL."""
    port = free_ports(1)[0]
    data_dir, hub_url = tmp_path / "var", f"http://127.0.0.1:{port}"
    settings, hub = hub_databases.settings_for(_hub_with_people, data_dir, hub_url)
    with LiveServer(create_app(settings), port) as server:
        site = Site(server.url, settings, dict(hub.data))
        try:
            yield site
        finally:
            site.http.close()


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


async def test_a_shopper_signs_in_with_phone_and_code_through_pkce(site: Site) -> None:
    code, verifier = site.shopper_code()
    token = await site.exchange("app", code, verifier)
    claims = _claims(token["access_token"])
    assert claims["sub"] == "shopper:" + people.pseudonym(
        site.settings.data_dir.joinpath("network-key").read_text().encode(), "+989121234567"
    )
    assert claims["aud"] == "mallnet-hub"
    assert set(token["scope"].split()) == {"shopper:read", "shopper:consent"}
    # A shopper's token names no one: no username, and never the phone.
    assert "preferred_username" not in claims
    assert "9121234567" not in json.dumps(claims)
    assert token["refresh_token"]
    # The code works once.
    with pytest.raises(OAuthError, match="invalid_grant"):
        await site.exchange("app", code, verifier)


async def test_a_wrong_verifier_gets_no_token_and_does_not_burn_the_code(site: Site) -> None:
    code, verifier = site.shopper_code()
    with pytest.raises(OAuthError, match="invalid_grant"):
        await site.exchange("app", code, generate_token(48))
    assert (await site.exchange("app", code, verifier))["access_token"]


async def test_a_replayed_code_revokes_what_it_issued(site: Site) -> None:
    code, verifier = site.shopper_code()
    token = await site.exchange("app", code, verifier)
    with pytest.raises(OAuthError, match="invalid_grant"):
        await site.exchange("app", code, verifier)
    async with site.oauth("app") as client:
        with pytest.raises(OAuthError, match="invalid_grant"):
            await client.refresh_token(
                f"{site.url}/oauth/token", refresh_token=token["refresh_token"]
            )


async def test_concurrent_replays_of_a_refresh_token_leave_no_live_token(site: Site) -> None:
    code, verifier = site.shopper_code()
    first = await site.exchange("app", code, verifier)

    async def refresh(token: str) -> dict[str, Any] | str:
        """The new tokens, or the OAuth error code the hub answered with."""
        async with site.oauth("app") as client:
            try:
                result: dict[str, Any] = await client.refresh_token(
                    f"{site.url}/oauth/token", refresh_token=token
                )
            except OAuthError as exc:
                return str(exc.error)
            return result

    results = await asyncio.gather(*(refresh(first["refresh_token"]) for _ in range(4)))
    # The token is claimed once (under a row lock); the others present it after its use,
    # which is taken for theft: the family dies. The claim that won gets tokens only if it
    # stored them before the family died; if it sees the family dead, it gets nothing
    # (a grant hands out nothing after a revocation).
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) <= 1, results
    assert [r for r in results if isinstance(r, str)] == ["invalid_grant"] * (4 - len(winners))
    # Either way no refresh token lives on: the winner's new one died with its family.
    for winner in winners:
        assert await refresh(winner["refresh_token"]) == "invalid_grant"
    assert await refresh(first["refresh_token"]) == "invalid_grant"


async def test_a_disabled_account_cannot_refresh(site: Site) -> None:
    verifier = generate_token(48)
    params = site.authorize_params("staff", verifier)
    ok = site.http.post(
        "/oauth/authorize",
        data={
            **params,
            **site.csrf(params),
            "username": "ali",
            "password": "correct horse battery",
        },
    )
    code = parse_qs(urlparse(ok.headers["location"]).query)["code"][0]
    token = await site.exchange("staff", code, verifier)
    async with site.oauth("staff") as client:
        token = await client.refresh_token(
            f"{site.url}/oauth/token", refresh_token=token["refresh_token"]
        )
    # A refreshed staff token still names the account.
    assert _claims(token["access_token"])["preferred_username"] == "ali"

    async def disable(session: Any) -> None:
        await session.execute(
            update(User).where(User.username == "ali").values(disabled_at=utcnow())
        )

    await _adb(site.settings, disable)
    async with site.oauth("staff") as client:
        with pytest.raises(OAuthError, match="invalid_grant"):
            await client.refresh_token(
                f"{site.url}/oauth/token", refresh_token=token["refresh_token"]
            )


def test_password_guessing_is_limited(site: Site) -> None:
    params = site.authorize_params("staff", generate_token(48))
    token = site.csrf(params)
    for _ in range(10):
        wrong = site.http.post(
            "/oauth/authorize", data={**params, **token, "username": "ali", "password": "guess"}
        )
        assert wrong.status_code == 400
    right = site.http.post(
        "/oauth/authorize",
        data={**params, **token, "username": "ali", "password": "correct horse battery"},
    )
    assert right.status_code == 429
    assert "location" not in right.headers


def test_pkce_is_required_at_the_authorization_endpoint(site: Site) -> None:
    params = site.authorize_params("app", generate_token(48))
    for missing in ({"code_challenge"}, {"code_challenge_method"}):
        partial = {k: v for k, v in params.items() if k not in missing}
        assert site.http.get("/oauth/authorize", params=partial).status_code == 400
    plain = {**params, "code_challenge_method": "plain"}
    assert site.http.get("/oauth/authorize", params=plain).status_code == 400
    wrong_redirect = {**params, "redirect_uri": "https://evil.example/cb"}
    assert site.http.get("/oauth/authorize", params=wrong_redirect).status_code == 400


def test_guessing_a_code_is_stopped_after_five_tries(site: Site) -> None:
    verifier = generate_token(48)
    params = site.authorize_params("app", verifier)
    sent = site.http.post("/oauth/otp", data={**params, **site.csrf(params), "phone": PHONE})
    token = csrf(sent)
    real = site.last_code()
    wrong = f"{(int(real) + 1) % 10**6:06d}"
    for _ in range(5):
        attempt = site.http.post(
            "/oauth/authorize", data={**params, **token, "phone": PHONE, "code": wrong}
        )
        assert attempt.status_code == 400
    late = site.http.post(
        "/oauth/authorize", data={**params, **token, "phone": PHONE, "code": real}
    )
    assert late.status_code == 400  # the right code no longer helps
    assert "location" not in late.headers


def test_codes_are_rate_limited_per_phone(site: Site) -> None:
    params = site.authorize_params("app", generate_token(48))
    token = site.csrf(params)
    statuses = [
        site.http.post("/oauth/otp", data={**params, **token, "phone": PHONE}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other = site.http.post("/oauth/otp", data={**params, **token, "phone": "09351112233"})
    assert other.status_code == 200


def test_codes_are_rate_limited_per_ip(site: Site) -> None:
    params = site.authorize_params("app", generate_token(48))
    token = site.csrf(params)
    phones = [f"0912000{i:04d}" for i in range(11)]
    statuses = [
        site.http.post("/oauth/otp", data={**params, **token, "phone": p}).status_code
        for p in phones
    ]
    assert statuses == [200] * 10 + [429]


async def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_family(site: Site) -> None:
    code, verifier = site.shopper_code()
    first = await site.exchange("app", code, verifier)
    async with site.oauth("app") as client:
        second = await client.refresh_token(
            f"{site.url}/oauth/token", refresh_token=first["refresh_token"]
        )
        assert second["refresh_token"] != first["refresh_token"]
        assert _claims(second["access_token"])["sub"] == _claims(first["access_token"])["sub"]
        # Someone replays the first refresh token: the whole family dies.
        with pytest.raises(OAuthError, match="invalid_grant"):
            await client.refresh_token(
                f"{site.url}/oauth/token", refresh_token=first["refresh_token"]
            )
        with pytest.raises(OAuthError, match="invalid_grant"):
            await client.refresh_token(
                f"{site.url}/oauth/token", refresh_token=second["refresh_token"]
            )


async def test_a_revoked_refresh_token_fails(site: Site) -> None:
    code, verifier = site.shopper_code()
    token = await site.exchange("app", code, verifier)
    revoked = site.http.post(
        "/oauth/revoke",
        data={"token": token["refresh_token"], "client_id": site.clients["app"].client_id},
    )
    assert revoked.status_code == 200
    async with site.oauth("app") as client:
        with pytest.raises(OAuthError, match="invalid_grant"):
            await client.refresh_token(
                f"{site.url}/oauth/token", refresh_token=token["refresh_token"]
            )


async def test_staff_sign_in_gets_a_token_for_their_own_shop_only(site: Site) -> None:
    verifier = generate_token(48)
    params = site.authorize_params("staff", verifier)
    page = site.http.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    token = csrf(page)
    bad = site.http.post(
        "/oauth/authorize", data={**params, **token, "username": "ali", "password": "nope"}
    )
    assert bad.status_code == 400
    ok = site.http.post(
        "/oauth/authorize",
        data={**params, **token, "username": "ali", "password": "correct horse battery"},
    )
    assert ok.status_code == 302
    code = parse_qs(urlparse(ok.headers["location"]).query)["code"][0]
    token = await site.exchange("staff", code, verifier)
    claims = _claims(token["access_token"])
    assert claims["aud"] == "ketab-sara"
    assert claims["shop"] == "ketab-sara"
    # The node shows who is signed in by the account's username.
    assert claims["preferred_username"] == "ali"
    # A manager gets shop:manage, not more, though the dashboard could hold more.
    assert claims["scope"] == "shop:manage"
    assert claims["exp"] - claims["iat"] == 900


async def test_a_shopper_reads_only_their_own_identity(site: Site) -> None:
    code, verifier = site.shopper_code(phone="09121234567")
    sara = (await site.exchange("app", code, verifier))["access_token"]
    code, verifier = site.shopper_code(phone="09351112233")
    ali = (await site.exchange("app", code, verifier))["access_token"]
    query = {"query": "{ me { pseudonym phoneMasked } }"}
    mine = site.http.post("/graphql", json=query, headers={"Authorization": f"Bearer {sara}"})
    theirs = site.http.post("/graphql", json=query, headers={"Authorization": f"Bearer {ali}"})
    assert mine.json()["data"]["me"]["phoneMasked"] == "0912***4567"
    assert theirs.json()["data"]["me"]["phoneMasked"] == "0935***2233"
    assert mine.json()["data"]["me"]["pseudonym"] != theirs.json()["data"]["me"]["pseudonym"]
    # There is no way to ask for another shopper: the list is mall management's.
    listing = site.http.post(
        "/graphql",
        json={"query": "{ shoppers { pseudonym } }"},
        headers={"Authorization": f"Bearer {sara}"},
    )
    assert listing.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
