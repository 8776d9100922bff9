"""Joint campaigns and lotteries run by mall management, the shops invited to them, and
the shops' daily sales their costs and reports are weighed by."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class ShopSalesDay(Base):
    """A shop's sales as its purchase events reported them, per Tehran day (refunds
    subtract): the weights of a "by sales share" split and the base of campaign reports."""

    __tablename__ = "shop_sales_days"

    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sales_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    purchases: Mapped[int] = mapped_column(Integer, default=0)


class Campaign(Base):
    """A joint campaign run by mall management among the shops that accept it; its rewards
    are network value issued by ``campaign:<id>``, paid for by its cost rule at settlement,
    never beyond its budget."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'stopped')", name="status"),
        CheckConstraint("cost_rule IN ('equal', 'sales_share', 'mall')", name="cost_rule"),
        CheckConstraint("spent_rial >= 0 AND spent_rial <= budget_rial", name="budget"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reward: Mapped[dict[str, Any]] = mapped_column(JSON)
    budget_rial: Mapped[int] = mapped_column(BigInteger)
    spent_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_rule: Mapped[str] = mapped_column(String(12))
    # Shops (slugs) that pay the cost instead of the accepting shops, by the cost rule;
    # none: the accepting shops pay (never with the rule "mall").
    sponsors: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CampaignShop(Base):
    """A shop invited to a campaign or lottery, and its answer (from its node)."""

    __tablename__ = "campaign_shops"
    __table_args__ = (
        CheckConstraint("status IN ('invited', 'accepted', 'declined')", name="status"),
    )

    # A campaign's or a lottery's id (both are ULIDs, never equal).
    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="invited")
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CampaignReward(Base):
    """A reward a campaign gave: once per purchase and kind (once per shopper for the
    visits bonus), with the value it cost."""

    __tablename__ = "campaign_rewards"
    __table_args__ = (UniqueConstraint("campaign_id", "occasion", "kind"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    occasion: Mapped[str] = mapped_column(String(100))  # the purchase event, or the shopper
    kind: Mapped[str] = mapped_column(String(20))
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    shop: Mapped[str] = mapped_column(String(40))
    cost_rial: Mapped[int] = mapped_column(BigInteger)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("value_lots.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CampaignVisit(Base):
    """A participating shop a shopper bought at during a campaign (for the visits bonus)."""

    __tablename__ = "campaign_visits"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), primary_key=True)


class Lottery(Base):
    """A lottery among the shoppers of the shops that accept it. The seed is secret until
    the draw; its SHA-256 (``commitment``) is public from the start."""

    __tablename__ = "lotteries"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'drawing', 'drawn')", name="status"),
        CheckConstraint("ends_at > starts_at AND draw_at >= ends_at", name="window"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    draw_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    prizes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    seed_hex: Mapped[str] = mapped_column(String(128))
    commitment: Mapped[str] = mapped_column(String(64))
    public_value: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The draw's progress, for the console: stage and how far into it.
    stage: Mapped[str] = mapped_column(String(20), default="waiting")
    progress_pct: Mapped[int] = mapped_column(Integer, default=0)
    list_digest: Mapped[str | None] = mapped_column(String(64))
    entrants: Mapped[int | None] = mapped_column(BigInteger)
    total_tickets: Mapped[int | None] = mapped_column(BigInteger)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LotteryEntry(Base):
    """A purchase at a participating shop during a lottery: its tickets come from it (once
    per purchase event); a refund before the draw takes them back. Its shopper always has
    an entrant id in the lottery (the foreign key)."""

    __tablename__ = "lottery_entries"
    __table_args__ = (
        UniqueConstraint("lottery_id", "shop", "receipt"),
        Index("ix_lottery_entries_lottery_pseudonym", "lottery_id", "pseudonym"),
        CheckConstraint("refunded_rial >= 0 AND refunded_rial <= amount_rial", name="refunded"),
        ForeignKeyConstraint(
            ["lottery_id", "pseudonym"],
            ["lottery_entrants.lottery_id", "lottery_entrants.pseudonym"],
        ),
    )

    lottery_id: Mapped[str] = mapped_column(ForeignKey("lotteries.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    receipt: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(64))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    refunded_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LotteryEntrant(Base):
    """A shopper's entrant id in one lottery: what its published list and winners name
    instead of her pseudonym (any node can compute pseudonyms from phones). Random, made
    when her first purchase enters the lottery (``hub.domain.draw.new_entrant_id``), never
    derived from the pseudonym or the phone; only the hub maps it back, and only she is
    shown hers."""

    __tablename__ = "lottery_entrants"
    __table_args__ = (UniqueConstraint("lottery_id", "entrant_id"),)

    lottery_id: Mapped[str] = mapped_column(ForeignKey("lotteries.id"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    entrant_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LotteryTicketList(Base):
    """The frozen ticket list of a lottery, as published: its canonical encoding (40 bytes
    an entrant, ascending entrant id; ``hub.domain.draw.encode``), whose SHA-256 is the
    digest."""

    __tablename__ = "lottery_ticket_lists"

    lottery_id: Mapped[str] = mapped_column(ForeignKey("lotteries.id"), primary_key=True)
    entrants: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class PrizeClaim(Base):
    """A prize handed over by a shop to its winner."""

    __tablename__ = "prize_claims"

    lottery_id: Mapped[str] = mapped_column(ForeignKey("lotteries.id"), primary_key=True)
    place: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    shop: Mapped[str] = mapped_column(String(40))
    claimed_by: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
