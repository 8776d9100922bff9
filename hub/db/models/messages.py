"""The hub's delivery log: the messages it sends itself (sign-in and redemption codes,
lottery wins) to shoppers, from queued to their fate (``mallnet.messaging.log``)."""

from __future__ import annotations

from hub.db.models.base import Base
from mallnet.messaging.log import MessageColumns


class Message(MessageColumns, Base):
    """One message the hub sent or will send."""
