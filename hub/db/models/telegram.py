"""The mall's Telegram bot at the hub: which chat is whose, the one-time codes of the app's
links to the bot, and the webhook updates already handled.

The hub keeps the link (one bot for the whole mall); each node where the shopper is a
member keeps a copy (``TelegramChat``), sent to it by ``command.link_telegram``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from mallnet.db import UTCDateTime


class TelegramLink(Base):
    """A shopper's linked chat: one chat per shopper, and a chat is one shopper's (a chat
    linked again by someone else moves to her)."""

    __tablename__ = "telegram_links"

    pseudonym: Mapped[str] = mapped_column(ForeignKey("shoppers.pseudonym"), primary_key=True)
    # Telegram's chat id as text (up to 64-bit, negative for groups, which are never linked).
    chat_id: Mapped[str] = mapped_column(String(32), unique=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Her answer in the chat to "offers and campaign news here?" (بله/YES, خیر/NO).
    promotional: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class TelegramLinkCode(Base):
    """A code the app put in a ``t.me/<bot>?start=<code>`` link: whoever opens the link
    within its lifetime links that chat to the shopper, once. Only its SHA-256 is kept, so
    the table's contents link nobody's chat."""

    __tablename__ = "telegram_link_codes"

    code_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(ForeignKey("shoppers.pseudonym"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class TelegramUpdate(Base):
    """A webhook update the bot handled, by Telegram's ``update_id``: Telegram delivers an
    update again when its answer is late or lost, and the second delivery does nothing. Kept
    a few days (Telegram gives up on an update within a day)."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
