"""Network value: pooled points, general and targeted credit, held as lots that remember
their issuer; its double-entry ledger, holds and redemptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime

LOT_KINDS = ("pooled_points", "general_credit", "targeted_credit")


class PointValue(Base):
    """What one pooled point is worth in Rial, set by mall management. A lot keeps the
    value in force when it was issued: a change applies to new lots only."""

    __tablename__ = "point_values"
    __table_args__ = (CheckConstraint("rial_per_point > 0", name="positive"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    rial_per_point: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    set_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class IssuancePolicy(Base):
    """A shop's rules for the network value its purchases issue (versioned: a purchase is
    issued under the version in force when it happened, however late its event arrives)."""

    __tablename__ = "issuance_policies"
    __table_args__ = (UniqueConstraint("shop", "version"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("value_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(10))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("value_lots.id"))
    shop: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(5))
    amount: Mapped[int] = mapped_column(BigInteger)


class ValueHold(Base):
    """A reservation of a shopper's network value for a purchase at one shop: captured,
    released (voided) or expired — exactly once. A capture is then reconciled with the
    node's purchase event, once: ``matched`` (settled from then on) or ``reversed`` (no
    purchase event named it in time: its value went back to the shopper, never settled)."""

    __tablename__ = "value_holds"
    __table_args__ = (
        UniqueConstraint("shop", "idempotency_key"),
        CheckConstraint("status IN ('open', 'captured', 'voided', 'expired')", name="status"),
        CheckConstraint("captured_rial >= 0 AND captured_rial <= held_rial", name="captured"),
        CheckConstraint("refunded_rial >= 0 AND refunded_rial <= captured_rial", name="refunded"),
        CheckConstraint(
            "reconciliation IS NULL OR (status = 'captured' AND reconciled_at IS NOT NULL"
            " AND reconciliation IN ('matched', 'reversed'))",
            name="reconciliation",
        ),
        CheckConstraint(
            "reconciliation IS NULL OR reconciliation <> 'reversed'"
            " OR refunded_rial = captured_rial",
            name="reversed_whole",
        ),
        Index(
            "ix_value_holds_open_expires_at",
            "expires_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_value_holds_shop_purchase_ref", "shop", "purchase_ref"),
        # The reconciliation sweep's captures still waiting for their purchase event.
        Index(
            "ix_value_holds_unmatched_resolved_at",
            "resolved_at",
            postgresql_where=text("status = 'captured' AND reconciliation IS NULL"),
            sqlite_where=text("status = 'captured' AND reconciliation IS NULL"),
        ),
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
    # A capture: None while it waits for the node's purchase event, then ``matched`` or
    # ``reversed``, when, and the event that matched it.
    reconciliation: Mapped[str | None] = mapped_column(String(10))
    reconciled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    purchase_event_id: Mapped[str | None] = mapped_column(String(26))


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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("value_transactions.id"), index=True)
    hold_id: Mapped[str] = mapped_column(String(26))
    lot_id: Mapped[int] = mapped_column(ForeignKey("value_lots.id"))
    kind: Mapped[str] = mapped_column(String(20))
    issuer_shop: Mapped[str] = mapped_column(String(40))
    redeemer_shop: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(BigInteger)
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


CAPTURE_FLAG_KINDS = (
    "reversed",
    "late_purchase",
    "unknown_hold",
    "not_captured",
    "already_matched",
    "shopper_mismatch",
    "receipt_mismatch",
    "amount_mismatch",
)


class CaptureFlag(Base):
    """What reconciliation found wrong between a capture and the purchase events, for mall
    management (and the shop) to see, with a reason: a capture reversed because no purchase
    event named it in time, a purchase event that arrived after that reversal, or one that
    does not match the capture it names (another shopper, receipt or amount). Insert-only;
    ``key`` makes each finding once (``event:<id>`` or ``reversed:<hold>``)."""

    __tablename__ = "value_capture_flags"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in CAPTURE_FLAG_KINDS) + ")", name="kind"
        ),
        Index("ix_value_capture_flags_shop_id", "shop", "id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The shop whose capture or purchase event it is.
    shop: Mapped[str] = mapped_column(String(40))
    # The hold named (it may not exist, or be another shop's: kept as reported).
    hold_id: Mapped[str | None] = mapped_column(String(26), index=True)
    event_id: Mapped[str | None] = mapped_column(String(26))
    receipt_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    # What the purchase event says was paid with network value, and what was captured.
    reported_rial: Mapped[int | None] = mapped_column(BigInteger)
    captured_rial: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PurchaseTotal(Base):
    """A purchase as the hub received it, for taking back what it issued when it is
    refunded: its total (the sum of its purchase events' totals under the receipt) and the
    running sum of the refunds the hub has taken in. A refund's share is computed from
    these, never from the node's own figures in the refund event. A refund of a receipt
    whose purchase the hub never received makes the row with a total of 0 (no figure:
    what was issued under the receipt is all taken back)."""

    __tablename__ = "purchase_totals"
    __table_args__ = (
        CheckConstraint("total_rial >= 0", name="total_rial"),
        CheckConstraint("refunded_rial >= 0", name="refunded_rial"),
    )

    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    receipt: Mapped[str] = mapped_column(String(64), primary_key=True)
    total_rial: Mapped[int] = mapped_column(BigInteger)
    refunded_rial: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PurchaseRefund(Base):
    """A refund counted in its purchase's running sum, once per (shop, refund id): the same
    refund again adds nothing."""

    __tablename__ = "purchase_refunds"
    __table_args__ = (CheckConstraint("amount_rial > 0", name="amount_rial"),)

    shop: Mapped[str] = mapped_column(String(40), primary_key=True)
    refund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    receipt: Mapped[str] = mapped_column(String(64))
    amount_rial: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
