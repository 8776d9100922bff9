"""The fingerprint of an idempotent request: the same content always hashes the same, so
a retry is recognised as a replay and a reused key with other content as a conflict."""

from __future__ import annotations

import hashlib
import json


def request_digest(payload: dict[str, object]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8 as is)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
