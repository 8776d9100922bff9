"""Envelope encryption of secrets kept in a database, under a key-encryption key (KEK).

Each secret is sealed with AES-256-GCM under the KEK, bound to what it is (``context``, e.g.
the signing key's id) so a sealed value cannot be moved to another row, and stored beside
the id of the KEK that sealed it. The id is derived from the KEK itself, so a wrong KEK is
told apart from a damaged row, and a KEK can be rotated: give the new one as the KEK and
the old one as the previous KEK, re-seal every row (``mallnet keys rotate-kek``), then drop
the old one.

The KEK comes from ``MALLNET_KEY_ENCRYPTION_KEY`` or ``MALLNET_KEY_ENCRYPTION_KEY_FILE``
(URL-safe base64 of 32 random bytes). In development without one, a random KEK is kept in
the data directory, like the other development secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mallnet.config import Settings
from mallnet.secrets_store import local_secret

KEK_BYTES = 32
NONCE_BYTES = 12


class KeyEncryptionError(RuntimeError):
    """A key-encryption key is missing, malformed or not the one a secret was sealed with."""


def new_kek() -> str:
    """A fresh key-encryption key, as the settings take it."""
    return base64.urlsafe_b64encode(os.urandom(KEK_BYTES)).decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Kek:
    id: str
    key: bytes

    def __repr__(self) -> str:  # never the key itself, in a log or a traceback
        return f"Kek(id={self.id!r})"

    @classmethod
    def parse(cls, text: str, source: str) -> Kek:
        try:
            key = _b64decode(text.strip())
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEK_BYTES:
            raise KeyEncryptionError(
                f"{source} is not a key-encryption key: it must be URL-safe base64 of "
                f"{KEK_BYTES} random bytes (make one with 'mallnet keys new-kek')"
            )
        kek_id = hashlib.sha256(b"mallnet kek id\0" + key).hexdigest()[:16]
        return cls(kek_id, key)


@dataclass(frozen=True)
class Keyring:
    """The KEK that seals (``current``) and those that may still open (``previous``)."""

    current: Kek
    previous: tuple[Kek, ...] = ()

    @property
    def ids(self) -> list[str]:
        return [self.current.id, *(k.id for k in self.previous)]

    def kek(self, kek_id: str, what: str) -> Kek:
        for candidate in (self.current, *self.previous):
            if candidate.id == kek_id:
                return candidate
        raise KeyEncryptionError(
            f"{what} is sealed under key-encryption key {kek_id}, which is not configured "
            f"(configured: {', '.join(self.ids)}). Set MALLNET_KEY_ENCRYPTION_KEY (or "
            "MALLNET_KEY_ENCRYPTION_KEY_FILE) to the key it was sealed with; while rotating, "
            "give the old key as MALLNET_PREVIOUS_KEY_ENCRYPTION_KEY(_FILE)"
        )

    def seal(self, secret: bytes, context: str) -> tuple[str, str]:
        """(KEK id, sealed secret as URL-safe base64 of nonce + ciphertext + tag)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.current.key).encrypt(nonce, secret, context.encode())
        return self.current.id, base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, kek_id: str, sealed: str, context: str) -> bytes:
        kek = self.kek(kek_id, context)
        raw = _b64decode(sealed)
        try:
            return AESGCM(kek.key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise KeyEncryptionError(
                f"{context} does not open under key-encryption key {kek_id}: the stored value "
                "was altered or belongs to another row"
            ) from None


def _configured(value: str | None, path: Path | None, name: str) -> Kek | None:
    if value:
        return Kek.parse(value, name)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyEncryptionError(f"cannot read {name}_FILE {path}: {exc.strerror}") from None
        return Kek.parse(text, f"{name}_FILE {path}")
    return None


def keyring_for(settings: Settings) -> Keyring:
    """The keyring these settings give; in development without a KEK, one kept in the data
    directory. In production a missing KEK is an error, never a generated one."""
    name = "MALLNET_KEY_ENCRYPTION_KEY"
    current = _configured(settings.key_encryption_key, settings.key_encryption_key_file, name)
    if current is None:
        current = Kek.parse(
            local_secret(settings, "key-encryption-key", None, make=new_kek),
            f"the development key-encryption key in {settings.data_dir}",
        )
    previous = _configured(
        settings.previous_key_encryption_key,
        settings.previous_key_encryption_key_file,
        "MALLNET_PREVIOUS_KEY_ENCRYPTION_KEY",
    )
    return Keyring(current, (previous,) if previous and previous != current else ())
