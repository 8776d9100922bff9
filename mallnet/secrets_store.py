"""Secrets the network needs that an operator sets in production and development keeps in
the data directory (so every process of one demo shares them)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from mallnet.config import Settings


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


def pseudonym(key: bytes, phone_e164: str) -> str:
    """A shopper's network identity: HMAC-SHA256(network key, E.164 phone). The hub and
    every node compute the same value. It keeps phones from shops that have no consent and
    from anyone without the key — not from a holder of the key: Iranian mobiles are few
    enough (about 10^9) to hash them all. The hub holds the key (it signs shoppers in by
    phone), so the hub's operator is trusted with it, as DESIGN.md's identity scheme
    implies."""
    return hmac.new(key, phone_e164.encode(), hashlib.sha256).hexdigest()
