"""The hub's tables (SQLAlchemy models); its migrations live in ``hub/migrations``."""

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
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mallnet.db import NAMING_CONVENTION, UTCDateTime


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkerHeartbeat(Base):
    """The last time each Celery worker ran the beat-scheduled heartbeat task.

    It proves the whole background chain (beat → broker → worker → database) is alive;
    ``/healthz`` reports its age.
    """

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    beats: Mapped[int] = mapped_column(Integer, default=0)


class SigningKey(Base):
    """A key the hub signs access tokens with. A retired key signs nothing new but stays
    published in the JWKS until every token it signed has expired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    private_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Shop(Base):
    """A shop of the network, as the mall knows it (its members stay on its node)."""

    __tablename__ = "shops"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40))
    floor: Mapped[str | None] = mapped_column(String(10))
    unit: Mapped[str | None] = mapped_column(String(20))
    node_url: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OAuthClient(Base):
    """An OAuth client of the hub: a node's machine client, the console, the shopper app.

    Secrets are random 256-bit values shown once and stored as SHA-256: a slow password
    hash adds nothing for secrets of that entropy."""

    __tablename__ = "oauth_clients"
    __table_args__ = (
        CheckConstraint("kind IN ('node', 'console', 'shopper_app', 'service')", name="kind"),
    )

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)
    allowed_scopes: Mapped[str] = mapped_column(String(500))
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class User(Base):
    """A person who signs in at the hub with a password: shop staff (their role on their
    shop's node) or mall management (the console)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('manager', 'operator', 'auditor', 'mall_admin', 'mall_marketing', "
            "'mall_finance')",
            name="role",
        ),
        CheckConstraint("(shop_id IS NULL) = (role LIKE 'mall_%')", name="staff_have_a_shop"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Shopper(Base):
    """A shopper's network identity: a pseudonym any node can compute from the phone.
    The phone itself is kept only for shoppers who signed in (or consented to sharing)."""

    __tablename__ = "shoppers"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OneTimeCode(Base):
    """A sign-in code sent by SMS: hashed, short-lived, single-use, few attempts."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        Index("ix_one_time_codes_phone_created_at", "phone", "created_at"),
        Index("ix_one_time_codes_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(100), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    subject: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(60))
    shop: Mapped[str | None] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(500))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(Base):
    """Rotated on every use; a token used twice revokes its whole family (a stolen copy
    and the real one cannot both live)."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(100), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(40), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    subject: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(60))
    shop: Mapped[str | None] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The authorization code the family began with: a replayed code revokes it.
    origin_code_hash: Mapped[str | None] = mapped_column(String(100), index=True)


class SignInFailure(Base):
    """A failed password sign-in, counted per username and per address to slow guessing."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FederationEvent(Base):
    """Every event a node delivered, once: the idempotency record of the intake."""

    __tablename__ = "federation_events"
    __table_args__ = (UniqueConstraint("node", "seq"),)

    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    node: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FederationConflict(Base):
    """An event id (or sequence number) that came again with different content."""

    __tablename__ = "federation_conflicts"
    __table_args__ = (UniqueConstraint("event_id", "digest"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), index=True)
    node: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NodeStream(Base):
    """How far each node's event stream has arrived: contiguous up to, highest seen."""

    __tablename__ = "node_streams"

    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    contiguous_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    highest_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(BigInteger, default=0)
    last_contact_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # As the node reported with its last batch: its outbox depth and how old its oldest
    # undelivered event was (the node's lag).
    pending_events: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    oldest_pending_s: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Membership(Base):
    """The memberships index: which shops a shopper belongs to (no member data)."""

    __tablename__ = "memberships"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The sequence number of the shop's latest consent report for this shopper: an older
    # report arriving late must not bring back a contact the shopper withdrew.
    consent_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The shopper's consent, at this shop, to be introduced to partner shops.
    partner_sharing: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class LocalBalance(Base):
    """A shopper's points and credit at one shop, as the shop last reported (for the app)."""

    __tablename__ = "local_balances"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    credit_rial: Mapped[int] = mapped_column(BigInteger)
    as_of_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class InboxCommand(Base):
    """A command for one node, waiting until the node pulls it and acknowledges it by
    cursor (nodes may sit behind NAT: the hub never calls them)."""

    __tablename__ = "inbox_commands"
    __table_args__ = (Index("ix_inbox_commands_node_id", "node", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    node: Mapped[str] = mapped_column(String(40))
    command_id: Mapped[str] = mapped_column(String(26), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NodeCursor(Base):
    """How far each node has acknowledged its inbox."""

    __tablename__ = "node_cursors"

    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    acked_id: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


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

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    offer_id: Mapped[str] = mapped_column(ForeignKey("partner_offers.id"))
    origin_shop: Mapped[str] = mapped_column(String(40))
    pseudonym: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(26))
    month: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# --- Network value: pooled points, general and targeted credit --------------------------

LOT_KINDS = ("pooled_points", "general_credit", "targeted_credit")


class PointValue(Base):
    """What one pooled point is worth in Rial, set by mall management. A lot keeps the
    value in force when it was issued: a change applies to new lots only."""

    __tablename__ = "point_values"
    __table_args__ = (CheckConstraint("rial_per_point > 0", name="positive"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rial_per_point: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    set_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class IssuancePolicy(Base):
    """A shop's rules for the network value its purchases issue (versioned: a purchase is
    issued under the version in force when it happened, however late its event arrives)."""

    __tablename__ = "issuance_policies"
    __table_args__ = (UniqueConstraint("shop", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    effective_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    set_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ValueLot(Base):
    """One issuance of network value to one shopper. ``remaining`` and ``held`` are caches
    of the lot's ledger accounts (available + held, and held), kept by the same statements
    that write the postings; the CHECKs make a negative balance impossible."""

    __tablename__ = "value_lots"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('pooled_points', 'general_credit', 'targeted_credit')", name="kind"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_bounds"),
        CheckConstraint("held >= 0 AND held <= remaining", name="held_bounds"),
        CheckConstraint("rial_per_point > 0", name="rate_positive"),
        CheckConstraint("clawback_due >= 0", name="clawback_due"),
        Index("ix_value_lots_pseudonym_expires_at", "pseudonym", "expires_at"),
        Index(
            "ix_value_lots_expiring",
            "expires_at",
            postgresql_where=text("remaining > held"),
            sqlite_where=text("remaining > held"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    issuer_shop: Mapped[str] = mapped_column(String(40))
    # Points for pooled points, Rial for credit.
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    # 1 for credit; for pooled points, the point's Rial value when the lot was issued.
    rial_per_point: Mapped[int] = mapped_column(BigInteger)
    # Targeted credit: the shops it may be spent at, or every shop of a category.
    accepted_shops: Mapped[list[str]] = mapped_column(JSON)
    accepted_category: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(120))
    issue_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Owed back to the issuer: the share of a refunded purchase's value that was held or
    # spent when the refund came. Taken as soon as value comes back into the lot.
    clawback_due: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Paid for from the issuer's prepayment when issued (prepaid funding): its captures are
    # covered at settlement, and what comes back of it returns to that prepayment.
    prepaid: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class ValueTransaction(Base):
    """One balanced change of network value (its postings sum to zero per unit)."""

    __tablename__ = "value_transactions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('issue', 'hold', 'capture', 'release', 'expire', 'refund', 'clawback')",
            name="kind",
        ),
        Index("ix_value_transactions_pseudonym_id", "pseudonym", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    # The shop concerned: the issuer of an issue, the redeeming shop of a hold or capture.
    shop: Mapped[str | None] = mapped_column(String(40))
    hold_id: Mapped[str | None] = mapped_column(String(26))
    reason: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # What moved, for the shopper's history: points and Rial of credit, and their worth.
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    value_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ValuePosting(Base):
    """A leg of a value transaction. Accounts: a lot's ``available`` and ``held`` parts,
    ``issuer`` (per shop: value it put into the network), ``redeemed`` (per shop: value
    spent there), ``expired``."""

    __tablename__ = "value_postings"
    __table_args__ = (
        CheckConstraint(
            "account IN ('available', 'held', 'issuer', 'redeemed', 'expired')", name="account"
        ),
        CheckConstraint("unit IN ('point', 'rial')", name="unit"),
        CheckConstraint("amount <> 0", name="non_zero"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("value_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(10))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("value_lots.id"))
    shop: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(5))
    amount: Mapped[int] = mapped_column(BigInteger)


class ValueHold(Base):
    """A reservation of a shopper's network value for a purchase at one shop: captured,
    released (voided) or expired — exactly once."""

    __tablename__ = "value_holds"
    __table_args__ = (
        UniqueConstraint("shop", "idempotency_key"),
        CheckConstraint("status IN ('open', 'captured', 'voided', 'expired')", name="status"),
        CheckConstraint("captured_rial >= 0 AND captured_rial <= held_rial", name="captured"),
        CheckConstraint("refunded_rial >= 0 AND refunded_rial <= captured_rial", name="refunded"),
        Index(
            "ix_value_holds_open_expires_at",
            "expires_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_value_holds_shop_purchase_ref", "shop", "purchase_ref"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    pseudonym: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    purchase_ref: Mapped[str] = mapped_column(String(64))
    requested_rial: Mapped[int] = mapped_column(BigInteger)
    held_rial: Mapped[int] = mapped_column(BigInteger)
    captured_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10))
    capture_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ValueHoldLot(Base):
    """The part of one lot a hold reserved, and what of it was captured and refunded."""

    __tablename__ = "value_hold_lots"

    hold_id: Mapped[str] = mapped_column(ForeignKey("value_holds.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("value_lots.id"))
    units: Mapped[int] = mapped_column(BigInteger)
    captured_units: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_units: Mapped[int] = mapped_column(BigInteger, default=0)


class ValueRedemption(Base):
    """Settlement input: per consumed lot, who issued the value and who redeemed it (a
    refund is the same with negative amounts)."""

    __tablename__ = "value_redemptions"
    # A refund line's fee is reversed against the earlier lines of its capture (settlement).
    __table_args__ = (Index("ix_value_redemptions_hold_id", "hold_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("value_transactions.id"), index=True)
    hold_id: Mapped[str] = mapped_column(String(26))
    lot_id: Mapped[int] = mapped_column(ForeignKey("value_lots.id"))
    kind: Mapped[str] = mapped_column(String(20))
    issuer_shop: Mapped[str] = mapped_column(String(40))
    redeemer_shop: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(BigInteger)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


# --- Settlement -------------------------------------------------------------------------------


class SettlementPolicyVersion(Base):
    """The network's settlement policy (``settlement.policy``), versioned: an edit is a
    new version; each period records the version it was closed under."""

    __tablename__ = "settlement_policies"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    set_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SettlementPeriod(Base):
    """A settlement period [starts_at, ends_at). Open until closed; a closed period and
    everything it produced is never edited again."""

    __tablename__ = "settlement_periods"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("ends_at > starts_at", name="window"),
        UniqueConstraint("starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    length: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    # Set when mall management cut the period short (closed on demand).
    cut_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(120))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    captures: Mapped[int] = mapped_column(BigInteger, default=0)
    # The period's result as closed (positions, instructions, totals) and its SHA-256:
    # what statements quote and what ``settlement verify`` recomputes.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    digest: Mapped[str | None] = mapped_column(String(64))


class SettlementItem(Base):
    """One capture (or refund line) settled in a period: its primary key makes every
    capture settled exactly once, whichever period it lands in."""

    __tablename__ = "settlement_items"
    __table_args__ = (Index("ix_settlement_items_period_id", "period_id"),)

    redemption_id: Mapped[int] = mapped_column(
        ForeignKey("value_redemptions.id"), primary_key=True, autoincrement=False
    )
    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"))
    debtor: Mapped[str] = mapped_column(String(80))
    creditor: Mapped[str] = mapped_column(String(40))
    gross_rial: Mapped[int] = mapped_column(BigInteger)
    fee_rial: Mapped[int] = mapped_column(BigInteger)
    # The rate it was settled at (a refund line reverses at its capture's rate) and
    # whether its lot was paid for in advance (prepaid funding).
    fee_bp: Mapped[int] = mapped_column(Integer)
    covered: Mapped[bool] = mapped_column(Boolean)


class SettlementPending(Base):
    """What the next close has to settle: every capture or refund line and every expiry
    of value, written in the same transaction as it (an outbox). A close takes what
    happened before its period's end and removes it here; so a close reads what is new,
    never the whole history, and a line that commits late waits for the next close."""

    __tablename__ = "settlement_pending"
    __table_args__ = (CheckConstraint("kind IN ('capture', 'expiry')", name="kind"),)

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    # value_redemptions.id for a capture; value_transactions.id for an expiry.
    ref_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class SettlementBreakage(Base):
    """Expired network value (an ``expire`` value transaction) counted in a period, once."""

    __tablename__ = "settlement_breakage"

    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("value_transactions.id"), primary_key=True, autoincrement=False
    )
    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(80))
    amount_rial: Mapped[int] = mapped_column(BigInteger)


class SettlementEntry(Base):
    """A balanced journal entry of a closed period (its lines sum to zero). A correction is
    a new entry in a later period naming the entry it corrects."""

    __tablename__ = "settlement_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"), index=True)
    ref: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    corrects_entry_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_entries.id"))
    # The correction this entry books (each is booked once, by the close that follows it;
    # no foreign key: a correction names the entry it corrects, and the two would cycle).
    correction_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SettlementCorrection(Base):
    """Mall finance corrects a closed period without editing it: an amount the fund owes a
    participant (negative: the participant owes), with a reason and, where it has one, the
    entry it corrects. The next close books it."""

    __tablename__ = "settlement_corrections"
    __table_args__ = (CheckConstraint("amount_rial <> 0", name="non_zero"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    party: Mapped[str] = mapped_column(String(80))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(300))
    corrects_entry_id: Mapped[int | None] = mapped_column(ForeignKey("settlement_entries.id"))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SettlementLine(Base):
    __tablename__ = "settlement_lines"
    __table_args__ = (CheckConstraint("amount_rial <> 0", name="non_zero"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("settlement_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(120))
    amount_rial: Mapped[int] = mapped_column(BigInteger)


class SettlementPosition(Base):
    """A participant's gross and net for a closed period (a shop, the mall, the fund)."""

    __tablename__ = "settlement_positions"

    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"), primary_key=True)
    party: Mapped[str] = mapped_column(String(80), primary_key=True)
    receivable_rial: Mapped[int] = mapped_column(BigInteger)
    fees_rial: Mapped[int] = mapped_column(BigInteger)
    payable_rial: Mapped[int] = mapped_column(BigInteger)
    campaign_rial: Mapped[int] = mapped_column(BigInteger)
    breakage_rial: Mapped[int] = mapped_column(BigInteger)
    netted_rial: Mapped[int] = mapped_column(BigInteger)
    covered_rial: Mapped[int] = mapped_column(BigInteger)
    position_rial: Mapped[int] = mapped_column(BigInteger)


class SettlementInstruction(Base):
    """Money to move for a closed period: a participant pays the fund, or the fund pays it."""

    __tablename__ = "settlement_instructions"
    __table_args__ = (
        CheckConstraint("direction IN ('to_fund', 'from_fund')", name="direction"),
        CheckConstraint("amount_rial > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("settlement_periods.id"), index=True)
    party: Mapped[str] = mapped_column(String(80))
    direction: Mapped[str] = mapped_column(String(10))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))


class PrepaidMovement(Base):
    """A change of a shop's prepaid balance with the fund (prepaid funding): a deposit it
    paid, value it issued (negative), value taken back or returned by breakage. Insert-only;
    ``prepaid_accounts`` caches the sum."""

    __tablename__ = "prepaid_movements"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('deposit', 'issue', 'clawback', 'breakage', 'refused', 'own_spend')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount_rial: Mapped[int] = mapped_column(BigInteger)  # 0 for a refused issuance
    requested_rial: Mapped[int] = mapped_column(BigInteger)
    # The balance went (or would have gone) below zero: issued anyway, by policy.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PrepaidAccount(Base):
    __tablename__ = "prepaid_accounts"

    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    balance_rial: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ShopSalesDay(Base):
    """A shop's sales as its purchase events reported them, per Tehran day (refunds
    subtract): the weights of a "by sales share" split and the base of campaign reports."""

    __tablename__ = "shop_sales_days"

    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sales_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    purchases: Mapped[int] = mapped_column(Integer, default=0)


# --- Joint campaigns and lotteries -------------------------------------------------------------


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

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
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
    per purchase event); a refund before the draw takes them back."""

    __tablename__ = "lottery_entries"
    __table_args__ = (
        UniqueConstraint("lottery_id", "shop", "receipt"),
        Index("ix_lottery_entries_lottery_pseudonym", "lottery_id", "pseudonym"),
        CheckConstraint("refunded_rial >= 0 AND refunded_rial <= amount_rial", name="refunded"),
    )

    lottery_id: Mapped[str] = mapped_column(ForeignKey("lotteries.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    shop: Mapped[str] = mapped_column(String(40))
    receipt: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(64))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    refunded_rial: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LotteryTicketList(Base):
    """The frozen ticket list of a lottery, as published: its canonical encoding (40 bytes
    an entrant, ascending pseudonym; ``hub.domain.draw.encode``), whose SHA-256 is the digest."""

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
