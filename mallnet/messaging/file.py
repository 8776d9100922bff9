"""The embedded channel: messages appended to a JSON-lines file instead of sent.

It is what runs until a provider is configured: the demo prints the file and tests read it.
Outside development the one-time codes in it are masked (``mallnet.messaging.mask_codes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mallnet.messaging import FileSender
from mallnet.messaging.channels import Outgoing, Receipt, Status


@dataclass
class FileChannel:
    """Writes each message as one line of the outbox file; delivered at once."""

    file: FileSender
    medium: str = "sms"
    provider: str = "file"
    # Writing the same line twice is harmless to no one, but the file is the demo's proof
    # of "one message per event": a retaken message is written again only if its first
    # write did not finish, which the line's key lets a reader see.
    drops_repeats: bool = True

    async def send(self, message: Outgoing) -> Receipt:
        self.file.write(
            message.to,
            message.text,
            kind=message.kind,
            extra={"medium": self.medium, "line": message.line, "key": message.key},
        )
        return Receipt(provider_id=None, delivered=True)

    async def statuses(self, provider_ids: Sequence[str]) -> Mapping[str, Status]:
        return {}
