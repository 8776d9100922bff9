"""Sending messages to people (SMS now; Telegram later) behind one small interface.

Until an SMS provider is configured, messages go to a JSON-lines outbox file, which the
demo prints and tests read: every code a shopper would receive is there.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mallnet.config import Settings
from mallnet.db import utcnow


class Sender(Protocol):
    def send_sms(self, phone: str, text: str, *, kind: str) -> None: ...


@dataclass
class FileSender:
    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        record = {"at": utcnow().isoformat(), "to": phone, "kind": kind, "text": text}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def sender_for(settings: Settings) -> Sender:
    return FileSender(settings.sms_outbox or settings.data_dir / "sms-outbox.jsonl")
