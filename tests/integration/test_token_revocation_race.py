"""A code or refresh token claimed just before the account's sessions end gets no access
token (issue 15, from the security review of the staff lifecycle).

A revocation voids what was issued before it. A grant whose code or refresh token was
claimed before a revocation, and whose token was signed after it, used to be answered
with an access token all the same (its refresh token stored revoked): issued after the
revocation, that token passed the hub's and the node's ``iat`` checks and could start a
working-day node session. Here the revocation is made to land between the claim and the
signing, deterministically, and the grant must fail with ``invalid_grant``.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import RefreshToken
from hub.services import registry, staff
from hub.web.oauth import token_store
from mallnet.scopes import Scope

from .test_staff_lifecycle import _HIDDEN, PASSWORDS, REDIRECT, Mall, mall

__all__ = ["mall"]  # the fixture, shared with the lifecycle tests


def _racing(
    mall: Mall, real: Callable[..., Awaitable[Any]], victim: str
) -> Callable[..., Awaitable[Any]]:
    """``real`` (a token store claim), followed at once by a password reset of ``victim``
    that commits before the claim's token is signed and stored: the interleaving a reset
    can meet."""

    async def claim_then_reset(sessions: async_sessionmaker[AsyncSession], *args: Any) -> Any:
        claimed = await real(sessions, *args)
        admin = staff.Actor(mall.subject("boss"), "security-review")
        async with sessions() as session, session.begin():
            await staff.reset_password(session, admin, int(mall.id(victim)), "a new long password")
        await asyncio.sleep(1.01 - time.time() % 1)  # the token is signed a second later
        return claimed

    return claim_then_reset


async def _live_refresh_tokens(mall: Mall, name: str) -> int:
    async def count(session: AsyncSession) -> int:
        found = await session.scalar(
            select(func.count()).where(
                RefreshToken.subject == mall.subject(name), RefreshToken.revoked_at.is_(None)
            )
        )
        return int(found or 0)

    return int(await mall.db(count))


async def test_a_code_claimed_before_a_password_reset_gets_no_token(
    mall: Mall, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(token_store, "claim_code", _racing(mall, token_store.claim_code, "reza"))
    with pytest.raises(OAuthError, match="invalid_grant"):
        await mall.sign_in("reza")
    assert await _live_refresh_tokens(mall, "reza") == 0


async def test_a_refresh_claimed_before_a_password_reset_gets_no_token(
    mall: Mall, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await mall.sign_in("reza")
    monkeypatch.setattr(token_store, "use_refresh", _racing(mall, token_store.use_refresh, "reza"))
    assert await mall.refresh(token) == "invalid_grant"
    assert await _live_refresh_tokens(mall, "reza") == 0


async def test_a_code_without_refresh_token_claimed_before_a_reset_gets_no_token(
    mall: Mall, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def make(session: AsyncSession) -> registry.IssuedCredentials:
        return await registry.create_client(
            session,
            kind="console",
            name="till sign-in without refresh tokens",
            scopes=[Scope.SHOP_OPERATE],
            grant_types=["authorization_code"],
            redirect_uris=[REDIRECT],
        )

    creds = await mall.db(make)
    oauth = AsyncOAuth2Client(
        creds.client_id, creds.client_secret, redirect_uri=REDIRECT, code_challenge_method="S256"
    )
    verifier = generate_token(48)
    url, _state = oauth.create_authorization_url(
        f"{mall.url}/oauth/authorize", code_verifier=verifier, state="xyz"
    )
    params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    page = mall.http.get("/oauth/authorize", params=params)
    hidden = {k: html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
    form = {**params, **hidden, "username": "reza", "password": PASSWORDS["reza"]}
    done = mall.http.post("/oauth/authorize", data=form)
    assert done.status_code == 302, done.text
    code = parse_qs(urlparse(done.headers["location"]).query)["code"][0]
    monkeypatch.setattr(token_store, "claim_code", _racing(mall, token_store.claim_code, "reza"))
    async with oauth:
        with pytest.raises(OAuthError, match="invalid_grant"):
            await oauth.fetch_token(
                f"{mall.url}/oauth/token",
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
