"""Shops' offers as the shopper's app shows them (issue 18): what a node published of each
offer (texts, end) and the one-time grants it made to its members. The conditions, the
rewards and the members' history stay on the node; ids are the node's, unique per shop."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class ShopOffer(Base):
    """An offer of a shop as its node last published it (``offer.published``), until it
    is withdrawn (``offer.withdrawn``). The latest event of the node's stream decides:
    ``as_of_seq`` is the sequence number of the one applied last."""

    __tablename__ = "shop_offers"
    __table_args__ = (
        UniqueConstraint("shop", "offer_id"),
        CheckConstraint("kind IN ('permanent', 'one_time')", name="kind"),
        # The app's list: a shop's live permanent offers, newest first.
        Index("ix_shop_offers_shop_kind_published_at", "shop", "kind", "published_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    offer_id: Mapped[str] = mapped_column(String(26))
    kind: Mapped[str] = mapped_column(String(12))
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    summary_fa: Mapped[str] = mapped_column(String(300))
    summary_en: Mapped[str] = mapped_column(String(300))
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When the node first published it (a change keeps its place in the app's list).
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    as_of_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ShopOfferGrant(Base):
    """A one-time offer granted to one member (``offer.granted``), open until it expires
    or its node closes it (``offer.grant_closed``: used, expired or withdrawn)."""

    __tablename__ = "shop_offer_grants"
    __table_args__ = (
        UniqueConstraint("shop", "grant_id"),
        CheckConstraint(
            "close_reason IS NULL OR close_reason IN ('used', 'expired', 'withdrawn')",
            name="close_reason",
        ),
        # The app's list: a shopper's grants, newest first.
        Index("ix_shop_offer_grants_pseudonym_granted_at", "pseudonym", "granted_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    grant_id: Mapped[str] = mapped_column(String(26))
    offer_id: Mapped[str] = mapped_column(String(26))
    pseudonym: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(String(12))
