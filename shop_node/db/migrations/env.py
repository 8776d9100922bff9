"""Alembic environment for the node database (run through ``mallnet migrate``)."""

from __future__ import annotations

from mallnet.migrations import run_environment
from shop_node.db.models import Base

run_environment(Base.metadata)
