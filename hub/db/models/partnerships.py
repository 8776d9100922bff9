"""Partnerships: a host shop's offer to welcome partner shops' customers, the partners'
opt-ins, and each shopper introduced."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class PartnerOffer(Base):
    """Shop B (host) offers to welcome customers of chosen shops (or a category), on
    conditions, with a welcome reward at B."""

    __tablename__ = "partner_offers"
    __table_args__ = (CheckConstraint("status IN ('active', 'withdrawn')", name="status"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    host_shop: Mapped[str] = mapped_column(String(40), index=True)
    origin_shops: Mapped[list[str]] = mapped_column(JSON)
    origin_category: Mapped[str | None] = mapped_column(String(40))
    min_purchase_rial: Mapped[int] = mapped_column(BigInteger)
    origin_groups: Mapped[list[str]] = mapped_column(JSON)
    first_purchase_only: Mapped[bool] = mapped_column(Boolean)
    monthly_cap: Mapped[int | None] = mapped_column(Integer)
    welcome_points: Mapped[int] = mapped_column(BigInteger)
    welcome_credit_rial: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PartnerOptIn(Base):
    """Shop A agrees to refer its customers to an offer: both sides must agree."""

    __tablename__ = "partner_opt_ins"

    offer_id: Mapped[str] = mapped_column(ForeignKey("partner_offers.id"), primary_key=True)
    origin_shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    opted_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Referral(Base):
    """One shopper introduced by one offer: once, whatever happens."""

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("offer_id", "pseudonym"),
        Index("ix_referrals_offer_id_month", "offer_id", "month"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("partner_offers.id"))
    origin_shop: Mapped[str] = mapped_column(String(40))
    pseudonym: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(26))
    month: Mapped[str] = mapped_column(String(7))
    # Indexed: the console overview counts cross-shop enrolments per day over a range of it.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
