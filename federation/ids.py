"""Event ids: made by the sender, unique, and sortable by time (ULID layout).

48 bits of milliseconds since the epoch, then 80 random bits, in Crockford's base32: 26
characters that sort lexicographically in creation order (to the millisecond), so an
outbox ordered by id is ordered by time, and two nodes never collide.
"""

from __future__ import annotations

import re
import secrets
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EVENT_ID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


def new_event_id(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not 0 <= ms < 2**48:
        raise ValueError("timestamp out of range for an event id")
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def event_time_ms(event_id: str) -> int:
    if not EVENT_ID.match(event_id):
        raise ValueError(f"not an event id: {event_id!r}")
    value = 0
    for char in event_id:
        value = value * 32 + ALPHABET.index(char)
    return value >> 80
