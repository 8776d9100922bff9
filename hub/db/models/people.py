"""Shoppers: their network identity, the shops they belong to and their balances there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from mallnet.db import UTCDateTime


class Shopper(Base):
    """A shopper's network identity: a pseudonym any node can compute from the phone.
    The phone itself is kept only for shoppers who signed in (or consented to sharing)."""

    __tablename__ = "shoppers"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    # Indexed: the console overview counts new shoppers per day over a range of it.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Membership(Base):
    """The memberships index: which shops a shopper belongs to (no member data)."""

    __tablename__ = "memberships"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Indexed: the console overview counts new memberships per day over a range of it.
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # The sequence number of the shop's latest consent report for this shopper: an older
    # report arriving late must not bring back a contact the shopper withdrew.
    consent_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The shopper's consent, at this shop, to be introduced to partner shops.
    partner_sharing: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Her consent to promotional SMS from this shop (the node sends them; the app shows it).
    promotional: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The shopper's latest change in the app (its ``command.set_consent`` id) while the
    # node has not yet confirmed it: until then a report the node made before applying it
    # may withdraw a consent, never grant one.
    consent_command: Mapped[str | None] = mapped_column(String(26))
    # The values she last asked for herself in the app (``None``: never set there, and the
    # node's reports decide, as for consents given at the till). A node's report may
    # withdraw a consent but never switch on one she turned off here.
    chosen_partner_sharing: Mapped[bool | None] = mapped_column(Boolean)
    chosen_promotional: Mapped[bool | None] = mapped_column(Boolean)


class LocalBalance(Base):
    """A shopper's points and credit at one shop, as the shop last reported (for the app)."""

    __tablename__ = "local_balances"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    credit_rial: Mapped[int] = mapped_column(BigInteger)
    as_of_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The shopper's club tier there, from the same report (None: the shop's node did not
    # send one — an older node, or a report from before tiers travelled).
    tier_code: Mapped[str | None] = mapped_column(String(40))
    tier_name_fa: Mapped[str | None] = mapped_column(String(80))
    tier_name_en: Mapped[str | None] = mapped_column(String(80))
    tier_basis: Mapped[str | None] = mapped_column(String(20))
    tier_metric: Mapped[int | None] = mapped_column(BigInteger)
    next_tier_name_fa: Mapped[str | None] = mapped_column(String(80))
    next_tier_name_en: Mapped[str | None] = mapped_column(String(80))
    next_tier_threshold: Mapped[int | None] = mapped_column(BigInteger)
