"""node:inbox: every node client may ask for it, so a suspended shop's node can still pull
its inbox (the command ending its staff's sessions) and nothing else

Revision ID: hub_0022_node_inbox_scope
Revises: hub_0021_sealed_signing_keys
Create Date: 2026-12-05

Node clients registered before this revision were given ``node:federate`` only; a client
asking for a scope it was not given gets ``invalid_scope``, so they are given
``node:inbox`` here (clients of other kinds are left as they are).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hub_0022_node_inbox_scope"
down_revision = "hub_0021_sealed_signing_keys"
branch_labels = None
depends_on = None

INBOX = "node:inbox"
_clients = sa.table(
    "oauth_clients",
    sa.column("client_id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("allowed_scopes", sa.String()),
)


def _rewrite(change: set[str], add: bool) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_clients.c.client_id, _clients.c.allowed_scopes).where(_clients.c.kind == "node")
    ).all()
    for client_id, allowed in rows:
        scopes = set(allowed.split())
        new = scopes | change if add else scopes - change
        if new != scopes:
            conn.execute(
                _clients.update()
                .where(_clients.c.client_id == client_id)
                .values(allowed_scopes=" ".join(sorted(new)))
            )


def upgrade() -> None:
    _rewrite({INBOX}, add=True)


def downgrade() -> None:
    _rewrite({INBOX}, add=False)
