"""Settlement of the shared fund: policy versions, periods, what each close settles, its
balanced journal, corrections, positions and payment instructions; and the shops'
prepaid balances with the fund (prepaid funding)."""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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
