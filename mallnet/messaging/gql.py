"""The delivery log's GraphQL pieces both schemas share: its statuses and its cursor."""

from __future__ import annotations

import re
from enum import Enum

import strawberry

# A message id as a page cursor: ASCII digits, at most 18 (below BIGINT's limit).
MESSAGE_CURSOR = re.compile(r"[0-9]{1,18}")


@strawberry.enum(description="Where a message is on its way (see the delivery log's states).")
class MessageStatus(Enum):
    QUEUED = "queued"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"
