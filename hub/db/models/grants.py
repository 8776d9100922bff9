"""The shopper's say before network value is held: redemption PINs and one-time redemption
grants (codes kept only as hashes)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from mallnet.db import UTCDateTime


class RedemptionPin(Base):
    """A shopper's redemption PIN (an argon2 hash): the app asks for it before it shows a
    grant. Wrong PINs are counted; too many lock grants for a while."""

    __tablename__ = "redemption_pins"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures"),)

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RedemptionGrant(Base):
    """A shopper's one-time permission to hold their network value once: made in the app
    (after the PIN; any shop) or texted to their phone at a shop's request (that shop
    only). Single use, short-lived, optionally capped; the code is stored only hashed, and
    wrong codes are counted."""

    __tablename__ = "redemption_grants"
    __table_args__ = (
        CheckConstraint("channel IN ('app', 'sms')", name="channel"),
        CheckConstraint("max_rial IS NULL OR max_rial > 0", name="max_rial"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("(used_at IS NULL) = (hold_id IS NULL)", name="used"),
        Index("ix_redemption_grants_pseudonym_created_at", "pseudonym", "created_at"),
        Index("ix_redemption_grants_shop_created_at", "shop", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(4))
    # The one shop it may be used at (an SMS code: the shop that asked); None: any shop.
    shop: Mapped[str | None] = mapped_column(String(40))
    code_hash: Mapped[str] = mapped_column(String(64))
    max_rial: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The hold it authorised.
    hold_id: Mapped[str | None] = mapped_column(String(26))


class RedemptionShopGuard(Base):
    """What one shop did with other people's codes, counted across all its grants: wrong
    redemption codes in the current window (past the budget its code attempts are refused
    until ``locked_until``; mall management sees the totals), and its ``hasNetworkValue``
    questions in the current window. One row per shop, made at its first count."""

    __tablename__ = "redemption_shop_guards"
    __table_args__ = (
        CheckConstraint("failures >= 0", name="failures"),
        CheckConstraint("failures_total >= 0", name="failures_total"),
        CheckConstraint("lockouts >= 0", name="lockouts"),
        CheckConstraint("lookups >= 0", name="lookups"),
    )

    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    failures_since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    failures_total: Mapped[int] = mapped_column(BigInteger, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lookups_since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lookups: Mapped[int] = mapped_column(Integer, default=0)
