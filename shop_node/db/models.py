"""A node's tables (SQLAlchemy models); its migrations live in ``shop_node/migrations``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mallnet.db import NAMING_CONVENTION, UTCDateTime
from mallnet.messaging.log import MessageColumns


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class NodeIdentity(Base):
    """Which shop this database belongs to: one row, written by the first migrate.

    A node refuses to serve a database of another shop, so a mistyped URL cannot mix two
    shops' members.
    """

    __tablename__ = "node_identity"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_slug: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Member(Base):
    """A club member: the shop's own customer record (personal data stays on the node)."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(
            "membership_type IN ('individual', 'company', 'employee')", name="membership_type"
        ),
        CheckConstraint(
            "(membership_type = 'employee') = (company_id IS NOT NULL)", name="employee_company"
        ),
        CheckConstraint("joined_via IN ('purchase', 'staff', 'partner')", name="joined_via"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    card_code: Mapped[str] = mapped_column(String(16), unique=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    # The calendar she gave it in: her birthday comes on that calendar's anniversary.
    birthday_calendar: Mapped[str | None] = mapped_column(String(9))
    # When her birthday was last given or changed (None: before this was kept).
    birthday_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    membership_type: Mapped[str] = mapped_column(String(16), default="individual")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_promotional: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_partner_sharing: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    joined_via: Mapped[str] = mapped_column(String(16))


class PolicyVersion(Base):
    """Insert-only history of the club policy; the highest version is in force."""

    __tablename__ = "policy_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class Account(Base):
    """A ledger account. Member accounts cache their balance (checked never negative and
    rebuilt from postings by ``verify_balances``); system accounts are derived only, so
    concurrent purchases never queue on one hot row."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("asset IN ('points', 'rial')", name="asset"),
        CheckConstraint("balance IS NULL OR balance >= 0", name="balance_not_negative"),
        CheckConstraint("(member_id IS NULL) = (balance IS NULL)", name="member_balance"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    asset: Mapped[str] = mapped_column(String(8))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    balance: Mapped[int | None] = mapped_column(BigInteger)


class LedgerTransaction(Base):
    """One balanced change of value, with why it happened and what it refers to."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint(
            "reason IN ('welcome', 'purchase', 'frequency', 'spend', 'refund', 'expiry', "
            "'adjustment', 'birthday')",
            name="reason",
        ),
        Index("ix_ledger_transactions_member_id_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    # What the request that made it looked like (SHA-256), for use cases whose replay
    # check cannot rely on another table (manual adjustments).
    request_hash: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(160))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    memo: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(120))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Lot(Base):
    """One grant of points or credit to a member, with its own expiry. What is left of it
    is derived from the postings that name it; spending takes the soonest-expiring first."""

    __tablename__ = "lots"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))


class Posting(Base):
    """One leg of a transaction: signed amount on one account (and lot, for member
    accounts). The legs of a transaction sum to zero per asset."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_postings_account_id_lot_id", "account_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    asset: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("total_rial > 0", name="total_positive"),
        CheckConstraint("credit_spent_rial >= 0 AND credit_spent_rial <= total_rial", name="spent"),
        Index("ix_purchases_member_id_occurred_at", "member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    total_rial: Mapped[int] = mapped_column(BigInteger)
    credit_spent_rial: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    policy_version: Mapped[int] = mapped_column(ForeignKey("policy_versions.version"))
    tier_code: Mapped[str] = mapped_column(String(40))
    visit_number: Mapped[int] = mapped_column(Integer)
    earned_points: Mapped[int] = mapped_column(BigInteger)
    earned_credit_rial: Mapped[int] = mapped_column(BigInteger)
    frequency_points: Mapped[int] = mapped_column(BigInteger)
    frequency_credit_rial: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    actor: Mapped[str] = mapped_column(String(120))
    # Paid with network value: what the hub captured of the hold (the hub holds that value).
    network_paid_rial: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    network_hold_id: Mapped[str | None] = mapped_column(String(26))
    # What offers gave (offer_rewards says which): the discount off the basket (total_rial
    # and the lines are what was charged, after it), and the points and credit they added
    # to the purchase's transaction — refunds take these back like the club's own.
    offer_discount_rial: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    offer_points: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    offer_credit_rial: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class PurchaseLine(Base):
    __tablename__ = "purchase_lines"
    __table_args__ = (
        CheckConstraint("amount_rial > 0", name="amount_positive"),
        UniqueConstraint("purchase_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_group: Mapped[str] = mapped_column(String(40))
    amount_rial: Mapped[int] = mapped_column(BigInteger)


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_rial > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    refund_key: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500))
    reversed_points: Mapped[int] = mapped_column(BigInteger)
    reversed_credit_rial: Mapped[int] = mapped_column(BigInteger)
    returned_credit_rial: Mapped[int] = mapped_column(BigInteger)
    # Value already spent by the member that could not be taken back (written off).
    shortfall_points: Mapped[int] = mapped_column(BigInteger)
    shortfall_credit_rial: Mapped[int] = mapped_column(BigInteger)
    # Value of this purchase that had already expired, so there was nothing to take back.
    lapsed_points: Mapped[int] = mapped_column(BigInteger)
    lapsed_credit_rial: Mapped[int] = mapped_column(BigInteger)
    # The share of the network value the purchase was paid with that goes back to it.
    network_returned_rial: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))


class OutboxEvent(Base):
    """Events for the hub, written in the same transaction as the change they report.
    The relay numbers them (``seq``) in id order when it first sends them, and marks them
    delivered once the hub has acknowledged them."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_undelivered", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The hub's final "no" (a conflict, or an event it cannot read): set aside, so one bad
    # event never holds up the ones behind it. last_error says why.
    rejected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class HubCredentials(Base):
    """This node's OAuth client at the hub (one row), set by ``mallnet node connect``."""

    __tablename__ = "hub_credentials"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    client_secret: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AppliedCommand(Base):
    """Every hub command this node has applied, once: the inbox's idempotency record."""

    __tablename__ = "applied_commands"

    command_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A staff member's or till's session at this node, started with a hub-issued access
    token and then checked here alone: it keeps a till working through a hub outage. Only
    a hash of its token is kept."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(80), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(400))
    # The person's username from the hub token (for display; None before node_0008).
    name: Mapped[str | None] = mapped_column(String(64))
    # The hub sign-in this session comes from (its token's ``iat``): a revocation voids
    # sessions whose sign-in came before it.
    signed_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(40))


class StaffRevocation(Base):
    """Since when a person's (``*``: everyone's) earlier tokens and sessions are void at
    this node, as the hub commanded (disabled, password reset, role changed, shop
    suspended). A token issued later — a new sign-in at the hub — is not affected."""

    __tablename__ = "staff_revocations"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    revoked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(40))


class Offer(Base):
    """A shop's offer (issue 18): its document (``shop_node.domain.offers``), drafted,
    then active (a one-time offer is launched: its grants made) and at last stopped. A
    manager who activates one that sells below margin gives a reason, kept here."""

    __tablename__ = "offers"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Chooses the control group: stable per member and offer, unknown to anyone else.
    control_salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(120))
    override_reason: Mapped[str | None] = mapped_column(String(500))
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    stopped_by: Mapped[str | None] = mapped_column(String(120))


class OfferGrant(Base):
    """A one-time offer's member at launch: granted (usable once until ``expires_at``) or,
    for the control group, only recorded (``control``: never usable, compared against)."""

    __tablename__ = "offer_grants"
    __table_args__ = (UniqueConstraint("offer_id", "member_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    control: Mapped[bool] = mapped_column(Boolean)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[str | None] = mapped_column(String(16))


class OfferReward(Base):
    """What an offer gave at a purchase (the ledger holds the value; this says which offer
    gave what, for the receipt, refunds, budgets and the report)."""

    __tablename__ = "offer_rewards"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"), index=True)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("offer_grants.id"))
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    discount_rial: Mapped[int] = mapped_column(BigInteger)
    credit_rial: Mapped[int] = mapped_column(BigInteger)
    bonus_points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Message(MessageColumns, Base):
    """The delivery log: every message to a member, from queued to its fate
    (``mallnet.messaging.log``)."""


class TelegramChat(Base):
    """A member's Telegram chat, linked from the till or the app, until she sends /stop."""

    __tablename__ = "telegram_chats"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(32))
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # She said yes to offers in the chat (promotional messages go there only then).
    promotional: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class BirthdayGiftGiven(Base):
    """One birthday gift per member per year: the key the yearly job cannot give twice."""

    __tablename__ = "birthday_gifts"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    given_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Broadcast(Base):
    """A promotional message to the members of a filtered list (``services.broadcast``):
    queued by a manager's click, then walked by a worker in member-id order, a chunk per
    transaction, its counts and ``cursor_member_id`` moving with each chunk. The click's
    idempotency key is unique, so a double click makes one broadcast."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'done', 'failed')", name="status"),
        CheckConstraint(
            "total >= 0 AND queued >= 0 AND skipped_no_consent >= 0 AND held >= 0",
            name="counts",
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The list's filter as the dashboard sent it (``member_search.MemberFilter``, dates ISO).
    filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))
    # Members the filter matched when sending began; of those walked so far, those queued a
    # message, those who lack the consent (or any channel) for one, and those queued in
    # the quiet hours (their messages wait for the morning).
    total: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    skipped_no_consent: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    # The newest member when the manager clicked: who joins later is not on the list sent.
    max_member_id: Mapped[int] = mapped_column(BigInteger)
    # The last member walked (a committed chunk); a rerun resumes after it.
    cursor_member_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(300))
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
