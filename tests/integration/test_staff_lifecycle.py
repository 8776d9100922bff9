"""Staff and mall accounts over their lifetime, over real HTTP (issue 15): a manager
disables their shop's staff and resets passwords through the shop's node client, mall
management does the same for mall users; a disabled account's sign-ins, refresh tokens
and hub access stop at once, and the shop's node is told to end its sessions."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from sqlalchemy import select, text, update

from federation.client import HubConnection, HubRefused, HubUnavailable
from federation.problems import HubProblemCode
from hub.app import create_app
from hub.db.models import AuthorizationCode, RefreshToken, User
from hub.services import people, registry
from hub.web.oauth import token_store
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import upgrade
from mallnet.scopes import Scope

from ..conftest import HubDatabases, free_ports, in_transaction
from ..live_server import LiveServer

REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect
SHOP_A, SHOP_B = "ketab-sara", "kafsh-arya"
PASSWORDS = {
    "ali": "ali manager pass",  # manager of A
    "reza": "reza operator pass",  # operator of A
    "sara": "sara manager pass",  # manager of B
    "boss": "boss mall admin pass",  # mall admin
    "mina": "mina marketing pass",  # mall marketing
}
ROLES = {
    "ali": ("manager", SHOP_A),
    "reza": ("operator", SHOP_A),
    "sara": ("manager", SHOP_B),
    "boss": ("mall_admin", None),
    "mina": ("mall_marketing", None),
}
MALL_PEOPLE = frozenset({"boss", "mina", "omid"})  # sign in at the console, not a node
VIEWER = {"query": "{ viewer { subject scopes } }"}
REVOKE = "command.revoke_staff_sessions"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def _mall(url: str) -> dict[str, Any]:
    """The template: two shops (their node clients), the staff dashboard and the mall
    console as sign-in clients, and the people of ``ROLES``."""
    await upgrade("hub", url)

    async def work(session: Any) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for slug in (SHOP_A, SHOP_B):
            data[slug] = (
                await registry.register_shop(session, registry.ShopInput(slug, slug, slug, "books"))
            )[1]
        data["dashboard"] = await registry.create_app_client(
            session,
            kind="console",
            name="staff dashboard",
            scopes=[Scope.SHOP_MANAGE, Scope.SHOP_OPERATE, Scope.SHOP_READ],
            redirect_uris=[REDIRECT],
            public=False,
        )
        data["console"] = await registry.create_app_client(
            session,
            kind="console",
            name="mall console",
            scopes=[Scope.MALL_ADMIN, Scope.MALL_REPORTS, Scope.MALL_CAMPAIGNS],
            redirect_uris=[REDIRECT],
            public=False,
        )
        ids = {}
        for name, (role, shop) in ROLES.items():
            ids[name] = (await people.create_user(session, name, PASSWORDS[name], role, shop)).id
        data["ids"] = ids
        return data

    result: dict[str, Any] = await in_transaction(url, work)
    return result


class Mall:
    def __init__(self, url: str, settings: Settings, data: dict[str, Any]) -> None:
        self.url = url
        self.settings = settings
        self.data = data
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=10)

    def id(self, name: str) -> str:
        return str(self.data["ids"][name])

    def subject(self, name: str) -> str:
        return f"{'mall' if ROLES[name][1] is None else 'staff'}:{self.id(name)}"

    def node(self, slug: str) -> HubConnection:
        creds = self.data[slug]
        return HubConnection(self.url, creds.client_id, creds.client_secret)

    def _oauth(self, client: str) -> AsyncOAuth2Client:
        creds = self.data[client]
        return AsyncOAuth2Client(
            creds.client_id,
            creds.client_secret,
            redirect_uri=REDIRECT,
            code_challenge_method="S256",
        )

    def sign_in_page(self, username: str, password: str) -> tuple[httpx.Response, str, str]:
        """Fill in the sign-in page as a browser would (with whatever hidden fields the
        page carries); the response, the client used and the PKCE verifier."""
        client = "console" if username in MALL_PEOPLE else "dashboard"
        verifier = generate_token(48)
        url, _state = self._oauth(client).create_authorization_url(
            f"{self.url}/oauth/authorize", code_verifier=verifier, state="xyz"
        )
        params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        page = self.http.get("/oauth/authorize", params=params)
        assert page.status_code == 200, page.text
        hidden = {k: html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
        form = {**params, **hidden, "username": username, "password": password}
        return self.http.post("/oauth/authorize", data=form), client, verifier

    async def sign_in(self, username: str, password: str | None = None) -> dict[str, Any]:
        done, client, verifier = self.sign_in_page(username, password or PASSWORDS[username])
        assert done.status_code == 302, done.text
        code = parse_qs(urlparse(done.headers["location"]).query)["code"][0]
        async with self._oauth(client) as oauth:
            token: dict[str, Any] = await oauth.fetch_token(
                f"{self.url}/oauth/token",
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
            )
        token["client"] = client
        return token

    def refused_sign_in(self, username: str, password: str) -> bool:
        done, _client, _verifier = self.sign_in_page(username, password)
        return done.status_code != 302 and "location" not in done.headers

    async def refresh(self, token: dict[str, Any]) -> dict[str, Any] | str:
        """The new tokens, or the OAuth error the hub answered with."""
        async with self._oauth(token["client"]) as oauth:
            try:
                fresh: dict[str, Any] = await oauth.refresh_token(
                    f"{self.url}/oauth/token", refresh_token=token["refresh_token"]
                )
            except OAuthError as exc:
                return str(exc.error)
        fresh["client"] = token["client"]
        return fresh

    def graphql(self, token: dict[str, Any], query: str, **variables: Any) -> httpx.Response:
        return self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )

    async def db(self, work: Any) -> Any:
        return await in_transaction(self.settings.hub_db_url, work)

    async def changes(self) -> int:
        count = text("SELECT count(*) FROM staff_changes")
        return int(await self.db(lambda s: s.scalar(count)))

    async def disabled(self, name: str) -> bool:
        at = await self.db(
            lambda s: s.scalar(select(User.disabled_at).where(User.username == name))
        )
        return at is not None


async def next_second() -> None:
    """Wait for the clock's next second: a token's ``iat`` is whole seconds, so a token
    issued in a revocation's own second counts as issued before it (refused)."""
    await asyncio.sleep(1.01 - time.time() % 1)


async def revocations(node: HubConnection) -> list[dict[str, Any]]:
    """The RevokeStaffSessions commands waiting in the node's inbox, as the node pulls them."""
    envelopes = [item["envelope"] for item in await node.inbox()]
    return [e["payload"] for e in envelopes if e["type"] == REVOKE]


@pytest.fixture
def mall(tmp_path: Path, hub_databases: HubDatabases) -> Iterator[Mall]:
    """The hub over real HTTP, on SQLite and on PostgreSQL."""
    port = free_ports(1)[0]
    data_dir, hub_url = tmp_path / "var", f"http://127.0.0.1:{port}"
    settings, db = hub_databases.settings_for(_mall, data_dir, hub_url)
    with LiveServer(create_app(settings), port) as server:
        mall = Mall(server.url, settings, dict(db.data))
        try:
            yield mall
        finally:
            mall.http.close()


async def test_a_manager_disables_an_operator_who_is_then_refused_everywhere(mall: Mall) -> None:
    # Given the operator signed in (for the shop's node) and the manager through the node
    token = await mall.sign_in("reza")
    node = mall.node(SHOP_A)
    # When the manager disables the operator
    account = await node.disable_staff(mall.subject("ali"), mall.id("reza"))
    # Then the account is disabled and its refresh token is dead
    assert account["active"] is False
    assert account["disabledAt"]
    assert await mall.refresh(token) == "invalid_grant"
    # the hub refuses the operator's access token (it never served shop staff directly)
    assert mall.graphql(token, VIEWER["query"]).status_code == 401
    # the right password signs in no more
    assert mall.refused_sign_in("reza", PASSWORDS["reza"])
    # and the node is told to end the operator's sessions
    assert await revocations(node) == [{"subject": mall.subject("reza"), "reason": "disabled"}]
    # Disabling again changes nothing (no second record, no second command)
    before = await mall.changes()
    await node.disable_staff(mall.subject("ali"), mall.id("reza"))
    assert await mall.changes() == before
    assert len(await revocations(node)) == 1


async def test_a_manager_acts_only_on_their_own_shops_staff(mall: Mall) -> None:
    sara = await mall.sign_in("sara")
    node_a = mall.node(SHOP_A)
    before = await mall.changes()
    # Shop A's node, for its manager, cannot disable, reset or list shop B's manager
    with pytest.raises(HubRefused, match="no account") as refused:
        await node_a.disable_staff(mall.subject("ali"), mall.id("sara"))
    assert refused.value.code is HubProblemCode.NOT_FOUND
    with pytest.raises(HubRefused, match="no account"):
        await node_a.reset_staff_password(mall.subject("ali"), mall.id("sara"), "a new password!")
    page = await node_a.staff_accounts(mall.subject("ali"))
    assert all(a["shop"] == SHOP_A for a in page["items"])
    # nor may it claim to act for shop B's manager, or for its own operator
    for acting in (mall.subject("sara"), mall.subject("reza"), "mall:" + mall.id("boss")):
        with pytest.raises(HubRefused, match="only an active manager") as refused:
            await node_a.disable_staff(acting, mall.id("reza"))
        assert refused.value.code is HubProblemCode.FORBIDDEN
    # and a manager does not disable themselves
    with pytest.raises(HubRefused, match="cannot disable your own"):
        await node_a.disable_staff(mall.subject("ali"), mall.id("ali"))
    # Nothing was written: B's manager still signs in and refreshes, no command, no record
    assert isinstance(await mall.refresh(sara), dict)
    assert not await mall.disabled("sara")
    assert not await mall.disabled("reza")
    assert await mall.changes() == before
    assert await revocations(mall.node(SHOP_B)) == []
    assert await revocations(node_a) == []


async def test_a_mall_admin_disables_a_mall_user_whose_token_stops_at_once(mall: Mall) -> None:
    boss, mina = await mall.sign_in("boss"), await mall.sign_in("mina")
    assert mall.graphql(mina, VIEWER["query"]).status_code == 200
    answer = mall.graphql(
        boss,
        "mutation($id: ID!) { disableStaffAccount(id: $id) { __typename "
        "... on StaffAccount { active } ... on HubProblem { code } } }",
        id=mall.id("mina"),
    ).json()
    assert answer["data"]["disableStaffAccount"] == {"__typename": "StaffAccount", "active": False}
    # Her access token, still within its lifetime, is refused at once
    assert mall.graphql(mina, VIEWER["query"]).status_code == 401
    assert await mall.refresh(mina) == "invalid_grant"
    assert mall.refused_sign_in("mina", PASSWORDS["mina"])
    # A mall user has no shop: no node is told anything
    assert await revocations(mall.node(SHOP_A)) == []
    # Enabled again, she signs in anew (her old tokens stay dead)
    mall.graphql(
        boss,
        "mutation($id: ID!) { enableStaffAccount(id: $id) { __typename } }",
        id=mall.id("mina"),
    )
    await next_second()
    fresh = await mall.sign_in("mina")
    assert mall.graphql(fresh, VIEWER["query"]).status_code == 200
    assert mall.graphql(mina, VIEWER["query"]).status_code == 401
    # The admin cannot disable themselves
    own = mall.graphql(
        boss,
        "mutation($id: ID!) { disableStaffAccount(id: $id) { __typename "
        "... on HubProblem { code } } }",
        id=mall.id("boss"),
    ).json()["data"]["disableStaffAccount"]
    assert own == {"__typename": "Forbidden", "code": "FORBIDDEN"}


async def test_a_password_reset_ends_sessions_and_only_the_new_password_signs_in(
    mall: Mall,
) -> None:
    token = await mall.sign_in("reza")
    node = mall.node(SHOP_A)
    reset = await node.reset_staff_password(
        mall.subject("ali"), mall.id("reza"), "a brand new secret"
    )
    assert reset["generatedPassword"] is None
    assert reset["account"]["active"] is True
    assert await mall.refresh(token) == "invalid_grant"
    assert mall.refused_sign_in("reza", PASSWORDS["reza"])
    assert (await mall.sign_in("reza", "a brand new secret"))["access_token"]
    assert await revocations(node) == [
        {"subject": mall.subject("reza"), "reason": "password_reset"}
    ]
    # Too short a password is refused and changes nothing
    with pytest.raises(HubRefused, match="10-128 characters"):
        await node.reset_staff_password(mall.subject("ali"), mall.id("reza"), "short")
    assert (await mall.sign_in("reza", "a brand new secret"))["access_token"]


async def test_a_mall_admin_resets_a_password_the_hub_chooses_shown_once(mall: Mall) -> None:
    boss, mina = await mall.sign_in("boss"), await mall.sign_in("mina")
    answer = mall.graphql(
        boss,
        "mutation($id: ID!) { resetStaffPassword(id: $id) { __typename "
        "... on PasswordReset { generatedPassword account { username } } } }",
        id=mall.id("mina"),
    ).json()["data"]["resetStaffPassword"]
    generated = answer["generatedPassword"]
    assert answer["account"] == {"username": "mina"}
    assert len(generated) >= 16
    # Her token of before the reset stops at once; the chosen password signs in
    assert mall.graphql(mina, VIEWER["query"]).status_code == 401
    assert mall.refused_sign_in("mina", PASSWORDS["mina"])
    assert (await mall.sign_in("mina", generated))["access_token"]
    # The record says who did what, and never the password
    history = mall.graphql(
        boss,
        "query($id: ID!) { staffAccountHistory(id: $id) { __typename "
        "... on StaffAccountHistory { items { action actor detail } } } }",
        id=mall.id("mina"),
    ).json()["data"]["staffAccountHistory"]["items"]
    assert history == [
        {"action": "password_reset", "actor": mall.subject("boss"), "detail": "generated"}
    ]


async def test_a_role_change_ends_sessions_and_takes_effect_at_once(mall: Mall) -> None:
    boss = await mall.sign_in("boss")
    created = mall.graphql(
        boss,
        "mutation($input: CreateStaffAccountInput!) { createStaffAccount(input: $input) { "
        "__typename ... on StaffAccount { id role shop } } }",
        input={"username": "omid", "password": "omid admin pass", "role": "MALL_ADMIN"},
    ).json()["data"]["createStaffAccount"]
    assert created["role"] == "MALL_ADMIN"
    assert created["shop"] is None
    omid = await mall.sign_in("omid", "omid admin pass")
    assert "mall:admin" in mall.graphql(omid, VIEWER["query"]).json()["data"]["viewer"]["scopes"]
    changed = mall.graphql(
        boss,
        "mutation($id: ID!) { changeStaffRole(id: $id, role: MALL_MARKETING) { __typename "
        "... on StaffAccount { role } } }",
        id=created["id"],
    ).json()["data"]["changeStaffRole"]
    assert changed == {"__typename": "StaffAccount", "role": "MALL_MARKETING"}
    # The admin token of before is refused at once; a new sign-in carries the new role
    assert mall.graphql(omid, VIEWER["query"]).status_code == 401
    await next_second()
    again = await mall.sign_in("omid", "omid admin pass")
    scopes = mall.graphql(again, VIEWER["query"]).json()["data"]["viewer"]["scopes"]
    assert "mall:admin" not in scopes
    assert "mall:campaigns" in scopes
    # A shop's operator made auditor through the node: the node is told
    node = mall.node(SHOP_A)
    auditor = await node.change_staff_role(mall.subject("ali"), mall.id("reza"), "AUDITOR")
    assert auditor["role"] == "AUDITOR"
    assert await revocations(node) == [{"subject": mall.subject("reza"), "reason": "role_changed"}]
    # A shop role only for shop staff
    with pytest.raises(HubRefused, match="shop staff has one of"):
        await node.change_staff_role(mall.subject("ali"), mall.id("reza"), "MALL_ADMIN")


async def test_a_manager_creates_staff_of_their_own_shop(mall: Mall) -> None:
    node = mall.node(SHOP_A)
    made = await node.create_staff(mall.subject("ali"), "nima", "nima operator pass", "OPERATOR")
    assert (made["shop"], made["role"], made["active"]) == (SHOP_A, "OPERATOR", True)
    assert (await mall.sign_in("nima", "nima operator pass"))["access_token"]
    with pytest.raises(HubRefused, match="taken") as taken:
        await node.create_staff(mall.subject("ali"), "nima", "another password", "OPERATOR")
    assert taken.value.code is HubProblemCode.USERNAME_TAKEN
    names = {a["username"] for a in (await node.staff_accounts(mall.subject("ali")))["items"]}
    assert names == {"ali", "reza", "nima"}
    # A page at a time, by username: two, then the one after the second
    first = await node.staff_accounts(mall.subject("ali"), first=2)
    assert ([a["username"] for a in first["items"]], first["hasMore"]) == (["ali", "nima"], True)
    rest = await node.staff_accounts(mall.subject("ali"), first=2, after="nima")
    assert ([a["username"] for a in rest["items"]], rest["hasMore"]) == (["reza"], False)
    with pytest.raises(HubUnavailable, match="between 1 and 100"):
        await node.staff_accounts(mall.subject("ali"), first=101)


async def test_suspending_a_shop_ends_its_staffs_sessions(mall: Mall) -> None:
    boss, ali = await mall.sign_in("boss"), await mall.sign_in("ali")
    suspended = mall.graphql(
        boss,
        'mutation { suspendShop(slug: "ketab-sara") { __typename ... on Shop { status } } }',
    ).json()["data"]["suspendShop"]
    assert suspended == {"__typename": "Shop", "status": "suspended"}
    mall.graphql(boss, 'mutation { reactivateShop(slug: "ketab-sara") { __typename } }')
    # The node (pulling again once reactivated) finds the command ending every session
    assert await revocations(mall.node(SHOP_A)) == [{"subject": None, "reason": "shop_suspended"}]
    # and its staff do not come back signed in with the shop
    assert await mall.refresh(ali) == "invalid_grant"
    assert await revocations(mall.node(SHOP_B)) == []


async def test_a_mall_users_token_stops_when_the_account_is_disabled_by_any_means(
    mall: Mall,
) -> None:
    """The hub reads the account on every request of a person's token: even an account
    disabled straight in the database (or by the CLI) stops its tokens at once."""
    mina = await mall.sign_in("mina")
    assert mall.graphql(mina, VIEWER["query"]).status_code == 200

    async def disable(session: Any) -> None:
        await session.execute(
            update(User).where(User.username == "mina").values(disabled_at=utcnow())
        )

    await mall.db(disable)
    assert mall.graphql(mina, VIEWER["query"]).status_code == 401


async def test_a_refresh_token_of_a_sign_in_before_a_revocation_is_born_revoked(
    mall: Mall,
) -> None:
    """The race a revocation can meet: a code claimed just before the password was reset,
    its refresh token stored just after. The token is stored revoked."""
    client_id = mall.data["dashboard"].client_id
    subject = mall.subject("reza")
    signed_in = utcnow() - dt.timedelta(seconds=5)

    async def sign_in_then_reset(session: Any) -> None:
        session.add(
            AuthorizationCode(
                code_hash="c" * 64,
                client_id=client_id,
                subject=subject,
                audience=SHOP_A,
                shop=SHOP_A,
                scope="shop:operate",
                redirect_uri=REDIRECT,
                code_challenge="x",
                code_challenge_method="S256",
                created_at=signed_in,
                expires_at=signed_in + dt.timedelta(minutes=2),
                used_at=signed_in,
            )
        )
        await session.execute(
            update(User)
            .where(User.id == int(mall.id("reza")))
            .values(sessions_revoked_at=signed_in + dt.timedelta(seconds=1))
        )

    await mall.db(sign_in_then_reset)
    person = people.Person(subject, SHOP_A, frozenset({"shop:operate"}), SHOP_A)
    async with engine_scope(mall.settings.hub_db_url) as engine:
        factory = session_factory(engine)
        for token, code in (("late", "c" * 64), ("fresh", None)):
            issued = {"refresh_token": token, "scope": "shop:operate"}
            await token_store.save_refresh(factory, issued, client_id, person, None, code)

    async def states(session: Any) -> dict[str, bool]:
        rows = await session.execute(
            select(RefreshToken.token_hash, RefreshToken.revoked_at).where(
                RefreshToken.subject == subject
            )
        )
        return {h: at is not None for h, at in rows}

    found = await mall.db(states)
    # the late token is revoked; a refresh token with no code behind it is not judged here
    assert found == {token_store.digest("late"): True, token_store.digest("fresh"): False}
