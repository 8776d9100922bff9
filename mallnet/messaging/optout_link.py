"""The opt-out link a promotional message carries: ``{hub}/o/{shop}/{token}``.

A reply word needs the member to send an SMS; a link needs one tap, which is what issue 19
asks for. The link goes to the hub (the one address every shopper can reach), and the hub
must tell from the link alone whose consent at which shop it withdraws — without the URL
carrying her phone or her pseudonym, and without the hub storing anything per message.

The token is 20 URL-safe characters: a 4-character *reference* (the first 24 bits of her
pseudonym, so the hub finds the one or two memberships that could match by an index range
on the pseudonym) and a 16-character *seal*, the first 96 bits of
HMAC-SHA256(network key, "mallnet opt-out v1|shop|pseudonym"), which only the node and the
hub (holders of the network key) can make. Without the reference the hub would have to
compute the seal for every member of the shop on each request: about 0.2 s of CPU for
100,000 members, an amplifier any anonymous caller could press. 24 bits of an HMAC output
say nothing about the phone to anyone without the key, and the holders of the key learn
nothing from them that they cannot compute.

A token is not a secret kept from its owner: it is in her SMS and opts her out at one
shop, nothing else. Guessing one for somebody else means guessing 96 bits.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Final

__all__ = ["PATH", "TOKEN_CHARS", "matches", "reference_range", "sample_url", "token", "url"]

PATH: Final = "/o/{shop}/{token}"
_REF_BYTES: Final = 3  # 24 bits: 4 base64url characters
_REF_CHARS: Final = 4
_SEAL_CHARS: Final = 16  # 96 bits
TOKEN_CHARS: Final = _REF_CHARS + _SEAL_CHARS
_TOKEN: Final = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_CHARS}}}")
_PSEUDONYM: Final = re.compile(r"[0-9a-f]{64}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _seal(key: bytes, shop: str, pseudonym: str) -> str:
    message = f"mallnet opt-out v1|{shop}|{pseudonym}".encode()
    return _b64(hmac.digest(key, message, "sha256"))[:_SEAL_CHARS]


def token(key: bytes, shop: str, pseudonym: str) -> str:
    """The token of her opt-out link at ``shop`` (the same every time: a link in an old
    message keeps working)."""
    if not _PSEUDONYM.fullmatch(pseudonym):
        raise ValueError("a pseudonym is 64 lower-case hex digits")
    reference = _b64(bytes.fromhex(pseudonym)[:_REF_BYTES])
    return reference + _seal(key, shop, pseudonym)


def url(hub_url: str, key: bytes, shop: str, pseudonym: str) -> str:
    """Her opt-out link at ``shop``, on the hub's public address."""
    path = PATH.format(shop=shop, token=token(key, shop, pseudonym))
    return hub_url.rstrip("/") + path


def sample_url(hub_url: str, shop: str) -> str:
    """A link of the same length as every real one of ``shop``: what previews show, so a
    preview counts the parts the send will cost."""
    return hub_url.rstrip("/") + PATH.format(shop=shop, token="x" * TOKEN_CHARS)


def reference_range(given: str) -> tuple[str, str | None] | None:
    """The pseudonyms a token may belong to, as a range ``[low, high)`` of their hex form
    (``high`` None: to the end); None for a string that is no token."""
    if not _TOKEN.fullmatch(given):
        return None
    try:
        prefix = base64.urlsafe_b64decode(given[:_REF_CHARS])
    except (binascii.Error, ValueError):
        return None
    low = int.from_bytes(prefix, "big")
    high = low + 1
    digits = 2 * _REF_BYTES
    top = f"{high:0{digits}x}" if high < 1 << (8 * _REF_BYTES) else None
    return f"{low:0{digits}x}", top


def matches(key: bytes, shop: str, pseudonym: str, given: str) -> bool:
    """Whether ``given`` is the token of ``pseudonym`` at ``shop`` (in constant time)."""
    if not _PSEUDONYM.fullmatch(pseudonym) or not _TOKEN.fullmatch(given):
        return False
    return hmac.compare_digest(token(key, shop, pseudonym), given)
