"""Messages the hub sent for a shop's node on the mall's own accounts (its SMS lines and
its Telegram bot): a node never holds the mall's keys, so it hands such messages to the
hub (``relayMessage``), which checks each against what the hub knows before it sends.

One row per (shop, key): a node that asks again with the same key gets the first answer
and no second message. The rows also hold each shop's day of SMS parts against its budget.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class RelayedMessage(Base):
    """One message a node asked the hub to send, and what became of it."""

    __tablename__ = "relayed_messages"
    __table_args__ = (
        UniqueConstraint("shop", "key"),
        CheckConstraint("status IN ('sending', 'sent', 'failed', 'unknown')", name="status"),
        CheckConstraint("medium IN ('sms', 'telegram')", name="medium"),
        CheckConstraint("line IN ('service', 'promotional')", name="line"),
        CheckConstraint("parts >= 0 AND attempts >= 1", name="counts"),
        # The budgets' sums: a shop's day, and a person's day at a shop.
        Index("ix_relayed_messages_shop_day", "shop", "tehran_day"),
        Index("ix_relayed_messages_pseudonym_day", "shop", "pseudonym", "tehran_day"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    # The node's idempotency key of the message (its own ``messages`` row).
    key: Mapped[str] = mapped_column(String(160))
    # SHA-256 of what was asked (medium, line, recipient, text): the same key with another
    # message is refused.
    digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    medium: Mapped[str] = mapped_column(String(16))
    line: Mapped[str] = mapped_column(String(16))
    # E.164 phone or Telegram chat id, and whose it is (the shopper's pseudonym).
    recipient: Mapped[str] = mapped_column(String(32))
    pseudonym: Mapped[str] = mapped_column(String(64))
    # SMS parts (0 for Telegram) and the day in Tehran they count against.
    parts: Mapped[int] = mapped_column(Integer)
    tehran_day: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    # Attempts at sending it: the one holding the claim settles it, no other.
    attempts: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))
    # While ``sending``: until when the request sending it may still answer.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cost_rial: Mapped[int | None] = mapped_column(BigInteger)
    delivered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
