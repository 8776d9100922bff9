"""The hub as an OAuth 2 authorisation server, over real HTTP, driven by a standard
client (Authlib's httpx OAuth2 client), and the tokens it issues checked by the hub and by
a node's offline verifier."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import update
from starlette.authentication import AuthenticationError

from hub.app import create_app
from hub.db.models import SigningKey
from hub.services import keys, registry
from hub.web.oauth import HUB_AUDIENCE
from mallnet.config import Settings
from mallnet.db import utcnow
from mallnet.hubtokens import MAX_AGE_S, HubTokenVerifier, JWKSCache, remote_jwks
from mallnet.keywrap import keyring_for
from mallnet.migrations import upgrade
from mallnet.scopes import Scope
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node

from ..conftest import HubDatabases, free_ports, in_transaction, in_transaction_sync
from ..live_server import LiveServer

VIEWER = {"query": "{ viewer { subject clientId scopes shop } }"}
REGISTER = {
    "query": """mutation($input: RegisterShopInput!) { registerShop(input: $input) {
        __typename ... on ShopRegistered { clientId clientSecret shop { slug status } }
        ... on HubProblem { code message field } } }""",
}


class Hub:
    def __init__(self, settings: Settings, server: LiveServer, clients: dict[str, Any]) -> None:
        self.settings = settings
        self.server = server
        self.url = server.url
        self.clients = clients

    def stop(self) -> None:
        """Take the hub down (the fixture's own exit then has nothing left to do)."""
        self.server.__exit__(None, None, None)

    async def token(self, who: str, scope: str | None = None) -> str:
        creds = self.clients[who]
        async with AsyncOAuth2Client(creds.client_id, creds.client_secret, scope=scope) as client:
            token = await client.fetch_token(
                f"{self.url}/oauth/token", grant_type="client_credentials"
            )
        return str(token["access_token"])

    def graphql(self, token: str | None, body: dict[str, Any]) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=10)

    def session(self) -> Any:
        return _HubSession(self.settings.hub_db_url)


class _HubSession:
    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, work: Any) -> Any:
        return in_transaction_sync(self.url, work)

    async def arun(self, work: Any) -> Any:
        return await in_transaction(self.url, work)


async def _hub_with_clients(url: str) -> dict[str, Any]:
    """The template of ``hub``: a shop (its node a client) and the mall console."""
    await upgrade("hub", url)

    async def work(session: Any) -> dict[str, Any]:
        shop = registry.ShopInput("ketab-sara", "کتاب‌سرا", "Ketab Sara", "books")
        _shop, node = await registry.register_shop(session, shop)
        console = await registry.create_client(
            session,
            kind="console",
            name="mall console",
            scopes=[Scope.MALL_ADMIN, Scope.MALL_REPORTS],
        )
        return {"node": node, "console": console}

    clients: dict[str, Any] = await in_transaction(url, work)
    return clients


@pytest.fixture
def hub(tmp_path: Any, hub_databases: HubDatabases) -> Iterator[Hub]:
    """The hub over real HTTP, on SQLite and on PostgreSQL."""
    port = free_ports(1)[0]
    # The hub signs with its public URL as issuer, so it must be known before it starts.
    data_dir, hub_url = tmp_path / "var", f"http://127.0.0.1:{port}"
    settings, db = hub_databases.settings_for(_hub_with_clients, data_dir, hub_url)
    with LiveServer(create_app(settings), port) as server:
        yield Hub(settings, server, dict(db.data))


def test_metadata_and_jwks_are_published(hub: Hub) -> None:
    meta = httpx.get(f"{hub.url}/.well-known/oauth-authorization-server").json()
    assert meta["token_endpoint"].endswith("/oauth/token")
    assert "client_credentials" in meta["grant_types_supported"]
    assert set(meta["scopes_supported"]) == {s.value for s in Scope}
    assert meta["issuer"] == hub.url
    jwks = httpx.get(meta["jwks_uri"]).json()
    assert [k["kty"] for k in jwks["keys"]] == ["RSA"]
    assert "d" not in jwks["keys"][0]  # public halves only


async def test_a_node_gets_a_token_by_client_credentials_and_reads_within_its_scope(
    hub: Hub,
) -> None:
    token = await hub.token("node")
    claims = _claims(token)
    assert claims["aud"] == HUB_AUDIENCE
    assert claims["client_id"] == "node-ketab-sara"
    assert claims["shop"] == "ketab-sara"
    assert claims["scope"] == "node:federate"
    assert claims["exp"] - claims["iat"] == 600
    viewer = hub.graphql(token, VIEWER).json()["data"]["viewer"]
    assert viewer == {
        "subject": "node-ketab-sara",
        "clientId": "node-ketab-sara",
        "scopes": ["node:federate"],
        "shop": "ketab-sara",
    }
    shops = hub.graphql(token, {"query": "{ shops { slug status } }"}).json()["data"]
    assert shops == {"shops": [{"slug": "ketab-sara", "status": "active"}]}
    # Registering shops is mall management's, not a node's.
    denied = hub.graphql(token, {**REGISTER, "variables": {"input": _shop("kafsh-arya")}}).json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_client_cannot_ask_for_scopes_it_was_not_given(hub: Hub) -> None:
    with pytest.raises(OAuthError, match="invalid_scope"):
        await hub.token("node", scope="mall:admin")


async def test_a_wrong_secret_gets_no_token(hub: Hub) -> None:
    creds = hub.clients["node"]
    async with AsyncOAuth2Client(creds.client_id, "not-the-secret") as client:
        with pytest.raises(OAuthError, match="invalid_client"):
            await client.fetch_token(f"{hub.url}/oauth/token", grant_type="client_credentials")


async def test_mall_admin_registers_and_suspends_shops(hub: Hub) -> None:
    admin = await hub.token("console")
    registered = hub.graphql(admin, {**REGISTER, "variables": {"input": _shop("kafsh-arya")}})
    result = registered.json()["data"]["registerShop"]
    assert result["__typename"] == "ShopRegistered"
    assert result["clientId"] == "node-kafsh-arya"
    assert len(result["clientSecret"]) >= 40
    again = hub.graphql(admin, {**REGISTER, "variables": {"input": _shop("kafsh-arya")}}).json()
    assert again["data"]["registerShop"]["code"] == "SHOP_EXISTS"
    bad = hub.graphql(admin, {**REGISTER, "variables": {"input": _shop("Kafsh Arya")}}).json()
    assert bad["data"]["registerShop"]["field"] == "slug"

    node_token = await hub.token("node")
    suspend = 'mutation { suspendShop(slug: "ketab-sara") { ... on Shop { status } } }'
    assert (
        hub.graphql(admin, {"query": suspend}).json()["data"]["suspendShop"]["status"]
        == "suspended"
    )
    # Its tokens stop working at once, and it gets no new one (but node:inbox, to pull the
    # end of its staff's sessions: test_staff_review_fixes).
    assert hub.graphql(node_token, VIEWER).status_code == 401
    with pytest.raises(OAuthError, match="unauthorized_client: shop_suspended"):
        await hub.token("node")
    reactivate = 'mutation { reactivateShop(slug: "ketab-sara") { ... on Shop { status } } }'
    assert (
        hub.graphql(admin, {"query": reactivate}).json()["data"]["reactivateShop"]["status"]
        == "active"
    )
    assert hub.graphql(await hub.token("node"), VIEWER).status_code == 200


@pytest.mark.parametrize(
    "forgery",
    [
        "tampered",
        "alg-none",
        "hs256",
        "unknown-key",
        "expired",
        "not-yet-valid",
        "wrong-audience",
        "wrong-issuer",
    ],
)
async def test_forged_or_stale_tokens_are_refused(hub: Hub, forgery: str) -> None:
    genuine = await hub.token("console")
    token = await _forge(hub, genuine, forgery)
    response = hub.graphql(token, VIEWER)
    assert response.status_code == 401, (forgery, response.text)
    assert response.json()["error"] == "invalid_token"


async def test_a_node_verifies_hub_tokens_offline_and_across_a_key_rotation(hub: Hub) -> None:
    issuer = hub.url
    node_cache = JWKSCache(remote_jwks(hub.url))
    for_ketab = HubTokenVerifier(node_cache, issuer=issuer, audience="ketab-sara")
    for_kafsh = HubTokenVerifier(node_cache, issuer=issuer, audience="kafsh-arya")
    staff = await _sign_with_hub_key(
        hub, {"aud": "ketab-sara", "scope": "shop:manage", "sub": "staff:1"}
    )
    principal = await for_ketab.verify(staff)
    assert principal.scopes == {"shop:manage"}
    # A token for shop A is not accepted by shop B's node.
    with pytest.raises(AuthenticationError, match=r"invalid access token: .*Invalid claim: 'aud'"):
        await for_kafsh.verify(staff)
    # The hub rotates its key: the node learns the new one when it first meets it.
    await hub.session().arun(lambda s: keys.rotate(s, keyring_for(hub.settings)))
    node_cache.loaded_at = 0  # the refresh interval has passed
    rotated = await _sign_with_hub_key(
        hub, {"aud": "ketab-sara", "scope": "shop:read", "sub": "staff:2"}
    )
    assert _header(rotated)["kid"] != _header(staff)["kid"]
    assert (await for_ketab.verify(rotated)).scopes == {"shop:read"}
    # The old key stays published until its tokens expire.
    assert (await for_ketab.verify(staff)).subject == "staff:1"

    # Once the hub stops publishing it, nodes stop trusting it within the JWKS max age.
    async def unpublish(session: Any) -> None:
        await session.execute(
            update(SigningKey)
            .where(SigningKey.kid == _header(staff)["kid"])
            .values(published_until=utcnow())
        )

    await hub.session().arun(unpublish)
    node_cache.loaded_at = time.monotonic() - MAX_AGE_S
    forged_late = await _sign_with_old_key(hub, _header(staff)["kid"])
    with pytest.raises(AuthenticationError, match=r"invalid access token: .*No key for kid"):
        await for_ketab.verify(forged_late)


async def test_verifications_during_the_first_key_load_wait_for_it(hub: Hub) -> None:
    """A hub or node just started gets several requests at once: the ones that arrive while
    its first JWKS load is in flight must wait for it, not be turned away (at a fresh hub,
    four relays at once lost one or two of their first requests this way)."""
    loading, release = asyncio.Event(), asyncio.Event()
    remote = remote_jwks(hub.url)

    async def slow_load() -> dict[str, Any]:
        loading.set()
        await release.wait()
        return await remote()

    verifier = HubTokenVerifier(JWKSCache(slow_load), issuer=hub.url, audience="ketab-sara")
    staff = await _sign_with_hub_key(
        hub, {"aud": "ketab-sara", "scope": "shop:read", "sub": "staff:1"}
    )
    first = asyncio.create_task(verifier.verify(staff))
    await loading.wait()
    second = asyncio.create_task(verifier.verify(staff))
    await asyncio.sleep(0.01)  # the second verification reaches the cache while it loads
    release.set()
    assert [(await task).subject for task in (first, second)] == ["staff:1", "staff:1"]


async def _sign_with_old_key(hub: Hub, kid: str) -> str:
    """A token signed with a retired key (as someone who stole it would make)."""

    async def load(session: Any) -> Any:
        return await session.get(SigningKey, kid)

    row = await hub.session().arun(load)
    now = int(time.time())
    claims = {
        "iss": hub.url,
        "aud": "ketab-sara",
        "sub": "x",
        "client_id": "x",
        "iat": now,
        "exp": now + 300,
        "scope": "shop:manage",
    }
    private = keys.private_jwk(row, keyring_for(hub.settings))
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, RSAKey.import_key(private))


def _shop(slug: str) -> dict[str, str]:
    return {"slug": slug, "nameFa": "کفش آریا", "nameEn": "Arya Shoes", "category": "shoes"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unb64(part: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def _claims(token: str) -> dict[str, Any]:
    return _unb64(token.split(".")[1])


def _header(token: str) -> dict[str, Any]:
    return _unb64(token.split(".")[0])


async def _sign_with_hub_key(hub: Hub, overrides: dict[str, Any]) -> str:
    active = await hub.session().arun(lambda s: keys.active_key(s, keyring_for(hub.settings)))
    now = int(time.time())
    claims = {
        "iss": hub.url,
        "aud": HUB_AUDIENCE,
        "sub": "console",
        "client_id": "console",
        "iat": now,
        "exp": now + 300,
        "jti": "test",
        **overrides,
    }
    return jwt.encode({"alg": "RS256", "kid": active.kid, "typ": "at+jwt"}, claims, active.key)


async def _forge(hub: Hub, genuine: str, forgery: str) -> str:
    header, payload, signature = genuine.split(".")
    claims = _claims(genuine)
    now = int(time.time())
    if forgery == "tampered":
        return ".".join(
            [header, _b64({**claims, "scope": "mall:admin mall:settlement"}), signature]
        )
    if forgery == "alg-none":
        return ".".join([_b64({"alg": "none", "typ": "at+jwt"}), payload, ""])
    if forgery == "hs256":
        # Signed with the *public* key as an HMAC secret: the classic algorithm confusion.
        from joserfc.jwk import OctKey

        async with httpx.AsyncClient() as client:
            published = (await client.get(f"{hub.url}/.well-known/jwks.json")).json()
        public = json.dumps(published["keys"][0])
        return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(public.encode()))
    if forgery == "unknown-key":
        stranger = RSAKey.generate_key(2048, private=True)
        return jwt.encode({"alg": "RS256", "kid": "stranger"}, claims, stranger)
    if forgery == "expired":
        return await _sign_with_hub_key(hub, {"iat": now - 3600, "exp": now - 1800})
    if forgery == "not-yet-valid":
        return await _sign_with_hub_key(hub, {"nbf": now + 3600})
    if forgery == "wrong-audience":
        return await _sign_with_hub_key(hub, {"aud": "ketab-sara"})
    if forgery == "wrong-issuer":
        return await _sign_with_hub_key(hub, {"iss": "https://evil.example"})
    raise AssertionError(forgery)


async def test_staff_tokens_from_the_hub_work_only_on_their_own_shops_node(
    hub: Hub, tmp_path: Any
) -> None:
    node_settings = Settings(data_dir=tmp_path / "node", hub_url=hub.url)
    await prepare_node(node_settings, "ketab-sara")
    own = await _sign_with_hub_key(hub, {"aud": "ketab-sara", "scope": "shop:operate"})
    other = await _sign_with_hub_key(hub, {"aud": "kafsh-arya", "scope": "shop:operate"})

    def purchase_of(receipt: str) -> dict[str, Any]:
        return {
            "query": (
                "mutation($i: RecordPurchaseInput!) { recordPurchase(input: $i) { __typename } }"
            ),
            "variables": {
                "i": {
                    "receiptId": receipt,
                    "phone": "09121234567",
                    "totalRial": 10_000,
                    "lines": [{"productGroup": "general", "amountRial": 10_000}],
                }
            },
        }

    purchase = purchase_of("R-1")
    machine = await hub.token("node")  # node-ketab-sara's own token, meant for the hub
    with LiveServer(create_node_app("ketab-sara", node_settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            ok = await client.post("/graphql", json=purchase, headers=_bearer(own))
            assert ok.json()["data"]["recordPurchase"]["__typename"] == "PurchaseRecorded"
            refused = await client.post("/graphql", json=purchase, headers=_bearer(other))
            assert refused.status_code == 401
            assert "aud" in refused.json()["error_description"]
            # A node's machine token is for the hub: no node accepts it, not even its own.
            assert (
                await client.post("/graphql", json=purchase, headers=_bearer(machine))
            ).status_code == 401
    # The node kept the hub's keys on disk: restarted while the hub is down, it still
    # verifies the hub's tokens (and still refuses another shop's).
    hub.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{hub.url}/.well-known/jwks.json")
    later = purchase_of("R-2")
    with LiveServer(create_node_app("ketab-sara", node_settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            ok = await client.post("/graphql", json=later, headers=_bearer(own))
            assert ok.json()["data"]["recordPurchase"]["__typename"] == "PurchaseRecorded"
            refused = await client.post("/graphql", json=later, headers=_bearer(other))
            assert refused.status_code == 401
            assert "aud" in refused.json()["error_description"]
    # It is the copy on disk that did it: without it, the same token is refused.
    (node_settings.data_dir / "hub-jwks-ketab-sara.json").unlink()
    with LiveServer(create_node_app("ketab-sara", node_settings)) as node:
        async with httpx.AsyncClient(base_url=node.url) as client:
            blind = await client.post("/graphql", json=later, headers=_bearer(own))
            assert blind.status_code == 401
            assert "signing keys are not available" in blind.json()["error_description"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
