"""Alembic environment for the hub database (run through ``mallnet migrate``)."""

from __future__ import annotations

from hub.db.models import Base
from mallnet.migrations import run_environment

run_environment(Base.metadata)
