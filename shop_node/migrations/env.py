"""Alembic environment for the node database (run through ``mallnet migrate``)."""

from __future__ import annotations

from mallnet.migrations import run_environment
from shop_node.models import Base

run_environment(Base.metadata)
