"""Secrets the network needs that an operator sets in production and development keeps in
the data directory (so every process of one demo shares them)."""

from __future__ import annotations

import secrets

from mallnet.config import Settings
from mallnet.values import pseudonym

__all__ = ["local_secret", "network_key", "pseudonym"]


def local_secret(settings: Settings, name: str, configured: str | None) -> str:
    if configured:
        return configured
    if settings.is_production:
        raise RuntimeError(f"set MALLNET_{name.upper().replace('-', '_')} in production")
    path = settings.ensure_data_dir() / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def network_key(settings: Settings) -> bytes:
    return local_secret(settings, "network-key", settings.network_key).encode()
