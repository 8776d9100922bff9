"""What the hub stores of a one-time code (sign-in codes, redemption grants): an
HMAC-SHA256 under a key only the hub holds, derived from its key-encryption key with a
label of its own (``configure``, when the app is made).

A plain SHA-256 of a six- or eight-digit code and its phone opens in a million tries: a
reader of the database (a backup, a replica) could take live codes from it. Without the
key the digests are useless. A new key (a KEK rotation, or a restart with another KEK)
makes the codes outstanding at that moment fail; they live minutes and are asked again.

Until ``configure`` runs, the key is random to this process: tools and tests that make
and check codes in one process need nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

LABEL = b"mallnet hub one-time codes v1"
_key = secrets.token_bytes(32)


def configure(secret: bytes) -> None:
    """Derive the digest key from ``secret`` (the hub's current key-encryption key)."""
    global _key
    _key = hmac.new(secret, LABEL, hashlib.sha256).digest()


def digest(kind: str, *parts: str) -> str:
    """The stored form of a code of ``kind`` with what it is bound to (its phone, grant)."""
    message = "\x1f".join((kind, *parts)).encode()
    return hmac.new(_key, message, hashlib.sha256).hexdigest()
