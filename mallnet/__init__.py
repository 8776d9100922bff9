"""mallnet's thin shared core: configuration, database access and transactions, Celery,
scopes, GraphQL plumbing, and one module per shared rule (values, money, digits, Jalali
dates, phones). It imports no app; the CLI, demo and benchmarks live in ``mallnet.cli``."""

from __future__ import annotations

__version__ = "0.1.0"
