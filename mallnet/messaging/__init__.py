"""Sending messages to people (SMS now; Telegram later) behind one small interface.

Until an SMS provider is configured, messages go to a JSON-lines outbox file, which the
demo prints and tests read: in development every code a shopper would receive is there. In
production the file keeps one-time codes masked: whoever reads the file (a backup, a log
shipper) must not be able to sign in as a shopper or spend her network value.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mallnet.config import Settings
from mallnet.db import utcnow

# Messages that carry a one-time code: sign-in codes and redemption codes.
CODE_KINDS = frozenset({"otp", "redemption"})
MASK = "••••••"
# A code is a run of 4 or more digits, ASCII or Persian/Arabic-Indic; amounts in these
# messages are grouped by thousands separators, so their runs are shorter and stay.
_CODE = re.compile(r"\d{4,}")


def mask_codes(text: str) -> str:
    return _CODE.sub(MASK, text)


class Sender(Protocol):
    """Sends one SMS now (a sign-in or redemption code, a lottery win): the hub's codes
    cannot wait for a queue. Event messages go through the delivery log instead
    (``mallnet.messaging.dispatch``)."""

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None: ...


@dataclass
class FileSender:
    path: Path
    # Outside development, the codes in messages of CODE_KINDS are written masked.
    masks_codes: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        self.write(phone, text, kind=kind)

    def write(
        self, phone: str, text: str, *, kind: str, extra: dict[str, str] | None = None
    ) -> None:
        if self.masks_codes and kind in CODE_KINDS:
            text = mask_codes(text)
        record = {"at": utcnow().isoformat(), "to": phone, "kind": kind, "text": text}
        record |= extra or {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def file_sender(settings: Settings) -> FileSender:
    """The outbox file of these settings (the embedded channel)."""
    return FileSender(
        settings.sms_outbox or settings.data_dir / "sms-outbox.jsonl",
        masks_codes=settings.environment != "development",
    )
