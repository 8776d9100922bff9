"""Secrets the network needs that an operator sets in production and development keeps in
the data directory (so every process of one demo shares them)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from mallnet.config import Settings
from mallnet.values import pseudonym

__all__ = ["local_secret", "network_key", "pseudonym"]


def _random_secret() -> str:
    return secrets.token_urlsafe(48)


def local_secret(
    settings: Settings,
    name: str,
    configured: str | None,
    make: Callable[[], str] = _random_secret,
) -> str:
    """``configured``, or in development a secret ``make`` made once and kept in the data
    directory (readable by its owner only)."""
    if configured:
        return configured
    if settings.is_production:
        raise RuntimeError(f"set MALLNET_{name.upper().replace('-', '_')} in production")
    path = settings.ensure_data_dir() / name
    if not path.exists():
        # Written owner-only to a private name, then linked into place: the processes of a
        # demo start together, and the first link wins, so they all read the same secret.
        draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(make())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def network_key(settings: Settings) -> bytes:
    """The pseudonym key; in production refused if it is a known default or too short."""
    problems = [p for p in settings.production_problems("node") if "NETWORK_KEY" in p]
    if problems:
        raise RuntimeError(f"refusing the network key in production: {'; '.join(problems)}")
    return local_secret(settings, "network-key", settings.network_key).encode()
