"""sealed signing keys: the hub's private signing keys encrypted at rest

Revision ID: hub_0021_sealed_signing_keys
Revises: hub_0020_staff_lifecycle
Create Date: 2026-12-05

Each private JWK is sealed with AES-256-GCM under the key-encryption key
(``mallnet.keywrap``) and stored beside that key's id; the clear ``private_jwk`` column is
dropped. Keys stored before this revision are sealed here, under the key-encryption key of
the settings ``mallnet migrate`` runs with (MALLNET_KEY_ENCRYPTION_KEY(_FILE); in development
the one kept in the data directory, made if missing): run the migration with the same
settings as the hub. A database without keys needs no key-encryption key to migrate.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "hub_0021_sealed_signing_keys"
down_revision = "hub_0020_staff_lifecycle"
branch_labels = None
depends_on = None

_keys = sa.table(
    "signing_keys",
    sa.column("kid", sa.String()),
    sa.column("private_jwk", sa.JSON()),
    sa.column("kek_id", sa.String()),
    sa.column("sealed_private_jwk", sa.Text()),
)


def _keyring() -> Any:
    from mallnet.config import get_settings
    from mallnet.keywrap import keyring_for

    return keyring_for(get_settings())


def _context(kid: str) -> str:
    return f"hub signing key {kid}"  # as hub.services.keys binds a sealed key to its row


def upgrade() -> None:
    op.add_column("signing_keys", sa.Column("kek_id", sa.String(16), nullable=True))
    op.add_column("signing_keys", sa.Column("sealed_private_jwk", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_keys.c.kid, _keys.c.private_jwk)).all()
    keyring = _keyring() if rows else None  # a database without keys needs none
    for kid, private_jwk in rows:
        assert keyring is not None
        secret = json.dumps(private_jwk, sort_keys=True).encode()
        kek_id, sealed = keyring.seal(secret, _context(kid))
        bind.execute(
            _keys.update()
            .where(_keys.c.kid == kid)
            .values(kek_id=kek_id, sealed_private_jwk=sealed)
        )
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("kek_id", existing_type=sa.String(16), nullable=False)
        batch.alter_column("sealed_private_jwk", existing_type=sa.Text(), nullable=False)
        batch.drop_column("private_jwk")


def downgrade() -> None:
    op.add_column("signing_keys", sa.Column("private_jwk", sa.JSON(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_keys.c.kid, _keys.c.kek_id, _keys.c.sealed_private_jwk)).all()
    keyring = _keyring() if rows else None
    for kid, kek_id, sealed in rows:
        assert keyring is not None
        private_jwk = json.loads(keyring.open(kek_id, sealed, _context(kid)))
        bind.execute(_keys.update().where(_keys.c.kid == kid).values(private_jwk=private_jwk))
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("private_jwk", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("sealed_private_jwk")
        batch.drop_column("kek_id")
