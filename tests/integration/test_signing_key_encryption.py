"""The hub's private signing keys are sealed at rest under a key-encryption key (issue 15):
the stored row holds no private material, the keys do not open without their KEK, tokens
still verify against the JWKS, ``mallnet keys rotate-kek`` re-seals every key under a new
KEK, and the migration seals keys stored in clear before it. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from typer.testing import CliRunner

from hub.app import create_app
from hub.db.models import SigningKey
from hub.services import keys, registry
from hub.web.oauth import HUB_AUDIENCE
from mallnet.cli.commands import cli
from mallnet.config import Settings, get_settings
from mallnet.hubtokens import HubTokenVerifier, JWKSCache, remote_jwks
from mallnet.keywrap import Kek, KeyEncryptionError, Keyring, keyring_for, new_kek
from mallnet.migrations import alembic_config, upgrade
from mallnet.scopes import Scope

from ..conftest import HubDatabases, free_ports, in_transaction, in_transaction_sync
from ..live_server import LiveServer

KEK_A, KEK_B = new_kek(), new_kek()
SEALING = "hub_0021_sealed_signing_keys"
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


async def _hub_with_console(url: str) -> dict[str, Any]:
    await upgrade("hub", url)

    async def work(session: Any) -> dict[str, Any]:
        console = await registry.create_client(
            session, kind="console", name="mall console", scopes=[Scope.MALL_REPORTS]
        )
        return {"console": console}

    return dict(await in_transaction(url, work))


def _settings(tmp_path: Path, url: str, kek: str | None, **more: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", hub_database_url=url, key_encryption_key=kek, **more)


def _rows(url: str) -> list[dict[str, Any]]:
    async def read(session: Any) -> list[dict[str, Any]]:
        result = await session.execute(sa.text("SELECT * FROM signing_keys ORDER BY created_at"))
        return [dict(row) for row in result.mappings()]

    rows: list[dict[str, Any]] = in_transaction_sync(url, read)
    return rows


def _token_verifies(server_url: str, client: Any) -> dict[str, Any]:
    """A client_credentials token from the hub, verified as a node would: against the JWKS."""
    reply = httpx.post(
        f"{server_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    token = reply.json()["access_token"]
    verifier = HubTokenVerifier(
        JWKSCache(remote_jwks(server_url)), issuer=server_url, audience=HUB_AUDIENCE
    )
    principal = asyncio.run(verifier.verify(token))
    return {"token": token, "scopes": principal.scopes}


def _serve(settings: Settings) -> LiveServer:
    port = int(settings.public_hub_url.rsplit(":", 1)[1])
    return LiveServer(create_app(settings), port)


@pytest.fixture
def hub_db(hub_databases: HubDatabases) -> tuple[str, Any]:
    db = hub_databases.new_sync(_hub_with_console)
    return db.url, db.data["console"]


def _with_port(settings: Settings) -> Settings:
    port = free_ports(1)[0]
    return settings.model_copy(update={"hub_url": f"http://127.0.0.1:{port}", "hub_port": port})


def test_stored_keys_hold_no_private_material_and_tokens_still_verify(
    hub_db: tuple[str, Any], tmp_path: Path
) -> None:
    url, console = hub_db
    settings = _with_port(_settings(tmp_path, url, KEK_A))
    with _serve(settings) as server:
        verified = _token_verifies(server.url, console)
    assert verified["scopes"] == {Scope.MALL_REPORTS.value}

    [row] = _rows(url)
    keyring = keyring_for(settings)
    private = keys.private_jwk(_as_model(row), keyring)
    stored = json.dumps(row, default=str)
    assert "private_jwk" not in row
    assert "PRIVATE KEY" not in stored
    for member in PRIVATE_MEMBERS:  # not one private number, in any column
        assert private[member] not in stored
    assert not set(PRIVATE_MEMBERS) & set(_json(row["public_jwk"]))
    assert row["kek_id"] == keyring.current.id
    # The token was signed by this very key, as the JWKS says.
    assert jwt.decode(verified["token"], KeySet([RSAKey.import_key(private)])).claims


def _json(value: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(value) if isinstance(value, str) else value
    return loaded


def _as_model(row: dict[str, Any]) -> SigningKey:
    return SigningKey(
        kid=row["kid"], kek_id=row["kek_id"], sealed_private_jwk=row["sealed_private_jwk"]
    )


async def _active(url: str, keyring: Keyring) -> keys.ActiveKey:
    return await in_transaction(url, lambda s: keys.active_key(s, keyring))


async def test_keys_do_not_open_without_their_key_encryption_key(
    hub_db: tuple[str, Any], tmp_path: Path
) -> None:
    url, _ = hub_db
    right = _settings(tmp_path, url, KEK_A)
    active = await _active(url, keyring_for(right))  # made and sealed under KEK A

    # The key is known to this process now; another KEK still opens nothing.
    wrong = keyring_for(_settings(tmp_path, url, KEK_B))
    with pytest.raises(KeyEncryptionError, match=r"sealed under key-encryption key \w+, which"):
        await _active(url, wrong)
    # A hub started with the wrong KEK refuses to start, saying why.
    app = create_app(_settings(tmp_path, url, KEK_B))
    with pytest.raises(KeyEncryptionError, match="MALLNET_KEY_ENCRYPTION_KEY"):
        async with app.router.lifespan_context(app):
            pass
    await app.state.engine.dispose()  # the failed startup left it open
    # In production there is no generated KEK to fall back on.
    production = _settings(tmp_path, url, None, environment="production")
    with pytest.raises(RuntimeError, match="set MALLNET_KEY_ENCRYPTION_KEY in production"):
        create_app(production)
    # A sealed key copied onto another key's row does not open there.
    second = await in_transaction(url, lambda s: keys.rotate(s, keyring_for(right)))
    await in_transaction(
        url,
        lambda s: s.execute(
            sa.update(SigningKey)
            .where(SigningKey.kid == second)
            .values(
                sealed_private_jwk=sa.select(SigningKey.sealed_private_jwk)
                .where(SigningKey.kid == active.kid)
                .scalar_subquery()
            )
        ),
    )
    with pytest.raises(KeyEncryptionError, match="altered or belongs to another row"):
        await _active(url, Keyring(Kek.parse(KEK_A, "KEK A")))


def _cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, **env: str) -> Any:
    for name in ("KEY_ENCRYPTION_KEY", "PREVIOUS_KEY_ENCRYPTION_KEY", "ENVIRONMENT"):
        monkeypatch.delenv(f"MALLNET_{name}", raising=False)
    monkeypatch.setenv("MALLNET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MALLNET_HUB_DATABASE_URL", url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, ["keys", "rotate-kek"])
    finally:
        get_settings.cache_clear()


def test_rotate_kek_reseals_every_key_under_the_new_one(
    hub_db: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two keys sealed under KEK A (one retired, still published).
    url, console = hub_db
    under_a = keyring_for(_settings(tmp_path, url, KEK_A))
    in_transaction_sync(url, lambda s: keys.active_key(s, under_a))
    in_transaction_sync(url, lambda s: keys.rotate(s, under_a))
    before = _rows(url)
    assert {row["kek_id"] for row in before} == {under_a.current.id}

    # Without the old KEK, nothing moves.
    refused = _cli(monkeypatch, tmp_path, url, MALLNET_KEY_ENCRYPTION_KEY=KEK_B)
    assert refused.exit_code == 1
    assert "nothing re-sealed" in refused.output
    assert _rows(url) == before

    # With it, both are re-sealed under KEK B; again, there is nothing left to do.
    both = {"MALLNET_KEY_ENCRYPTION_KEY": KEK_B, "MALLNET_PREVIOUS_KEY_ENCRYPTION_KEY": KEK_A}
    done = _cli(monkeypatch, tmp_path, url, **both)
    assert done.exit_code == 0, done.output
    under_b = Keyring(Kek.parse(KEK_B, "KEK B"))
    assert f"re-sealed 2 signing keys under key-encryption key {under_b.current.id}" in (
        done.output
    )
    assert "re-sealed 0" in _cli(monkeypatch, tmp_path, url, **both).output
    after = _rows(url)
    assert {row["kek_id"] for row in after} == {under_b.current.id}
    for old, new in zip(before, after, strict=True):
        assert keys.private_jwk(_as_model(new), under_b) == keys.private_jwk(
            _as_model(old), under_a
        )
        with pytest.raises(KeyEncryptionError, match="not configured"):
            keys.private_jwk(_as_model(new), under_a)

    # The hub, given only KEK B, signs tokens that verify against its JWKS.
    settings = _with_port(_settings(tmp_path, url, KEK_B))
    with _serve(settings) as server:
        assert _token_verifies(server.url, console)["scopes"] == {Scope.MALL_REPORTS.value}


async def _hub_before_sealing(url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config("hub")).get_revision(SEALING)
    assert script is not None
    assert isinstance(script.down_revision, str)
    await upgrade("hub", url, script.down_revision)


async def test_the_migration_seals_keys_stored_in_clear(
    hub_databases: HubDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a hub from before sealing, its signing key stored in clear.
    url = (await hub_databases.new(_hub_before_sealing)).url
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    table = sa.table(
        "signing_keys",
        sa.column("kid"),
        sa.column("algorithm"),
        sa.column("private_jwk", sa.JSON),
        sa.column("public_jwk", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    public = {**key.as_dict(private=False), "kid": kid, "alg": "RS256", "use": "sig"}
    await in_transaction(
        url,
        lambda s: s.execute(
            table.insert().values(
                kid=kid,
                algorithm="RS256",
                private_jwk=key.as_dict(private=True),
                public_jwk=public,
                created_at=sa.func.now(),
            )
        ),
    )
    # When it is migrated with the hub's settings (KEK A).
    monkeypatch.setenv("MALLNET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MALLNET_KEY_ENCRYPTION_KEY", KEK_A)
    get_settings.cache_clear()
    try:
        await upgrade("hub", url)
    finally:
        get_settings.cache_clear()

    # Then the row holds the key sealed, and the hub signs with that same key.
    [row] = await asyncio.to_thread(_rows, url)
    assert "private_jwk" not in row
    assert key.as_dict(private=True)["d"] not in json.dumps(row, default=str)
    keyring = Keyring(Kek.parse(KEK_A, "KEK A"))
    assert row["kek_id"] == keyring.current.id
    active = await _active(url, keyring)
    assert active.kid == kid
    now = int(time.time())
    token = jwt.encode({"alg": "RS256", "kid": kid}, {"iat": now}, active.key)
    assert jwt.decode(token, KeySet([RSAKey.import_key(public)])).claims["iat"] == now
