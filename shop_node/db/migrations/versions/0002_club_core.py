"""club core: members, policy, ledger, purchases, refunds

Revision ID: node_0002
Revises: node_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "node_0002"
down_revision = "node_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("card_code", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("membership_type", sa.String(length=16), nullable=False),
        sa.Column(
            "company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("consent_sms", sa.Boolean(), nullable=False),
        sa.Column("consent_promotional", sa.Boolean(), nullable=False),
        sa.Column("consent_partner_sharing", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_via", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "(membership_type = 'employee') = (company_id IS NOT NULL)",
            name=op.f("ck_members_employee_company"),
        ),
        sa.CheckConstraint(
            "joined_via IN ('purchase', 'staff', 'partner')", name=op.f("ck_members_joined_via")
        ),
        sa.CheckConstraint(
            "membership_type IN ('individual', 'company', 'employee')",
            name=op.f("ck_members_membership_type"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["members.id"], name=op.f("fk_members_company_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("card_code", name=op.f("uq_members_card_code")),
        sa.UniqueConstraint("phone", name=op.f("uq_members_phone")),
    )
    op.create_index(op.f("ix_members_company_id"), "members", ["company_id"], unique=False)
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_versions")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("asset", sa.String(length=8), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("asset IN ('points', 'rial')", name=op.f("ck_accounts_asset")),
        sa.CheckConstraint(
            "(member_id IS NULL) = (balance IS NULL)", name=op.f("ck_accounts_member_balance")
        ),
        sa.CheckConstraint(
            "balance IS NULL OR balance >= 0", name=op.f("ck_accounts_balance_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_accounts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
    )
    op.create_index(op.f("ix_accounts_member_id"), "accounts", ["member_id"], unique=False)
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('welcome', 'purchase', 'frequency', 'spend', 'refund', 'expiry', 'adjustment')",
            name=op.f("ck_ledger_transactions_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_ledger_transactions_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_transactions_reverses_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transactions_idempotency_key")),
    )
    op.create_index(
        "ix_ledger_transactions_member_id_id",
        "ledger_transactions",
        ["member_id", "id"],
        unique=False,
    )
    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_lots_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_lots_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_lots_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
    )
    op.create_index(op.f("ix_lots_account_id"), "lots", ["account_id"], unique=False)
    op.create_index(op.f("ix_lots_expires_at"), "lots", ["expires_at"], unique=False)
    op.create_table(
        "purchases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("total_rial", sa.BigInteger(), nullable=False),
        sa.Column("credit_spent_rial", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("tier_code", sa.String(length=40), nullable=False),
        sa.Column("visit_number", sa.Integer(), nullable=False),
        sa.Column("earned_points", sa.BigInteger(), nullable=False),
        sa.Column("earned_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("frequency_points", sa.BigInteger(), nullable=False),
        sa.Column("frequency_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "credit_spent_rial >= 0 AND credit_spent_rial <= total_rial",
            name=op.f("ck_purchases_spent"),
        ),
        sa.CheckConstraint("total_rial > 0", name=op.f("ck_purchases_total_positive")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_purchases_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["policy_version"],
            ["policy_versions.version"],
            name=op.f("fk_purchases_policy_version_policy_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_purchases_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_purchases_receipt_id")),
    )
    op.create_index(
        "ix_purchases_member_id_occurred_at",
        "purchases",
        ["member_id", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("asset", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_postings_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_postings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_postings_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_postings_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    op.create_index(
        "ix_postings_account_id_lot_id", "postings", ["account_id", "lot_id"], unique=False
    )
    op.create_index(op.f("ix_postings_lot_id"), "postings", ["lot_id"], unique=False)
    op.create_index(
        op.f("ix_postings_transaction_id"), "postings", ["transaction_id"], unique=False
    )
    op.create_table(
        "purchase_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "purchase_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_group", sa.String(length=40), nullable=False),
        sa.Column("amount_rial", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_rial > 0", name=op.f("ck_purchase_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_purchase_lines_purchase_id_purchases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_lines")),
        sa.UniqueConstraint("purchase_id", "line_no", name=op.f("uq_purchase_lines_purchase_id")),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("refund_key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "purchase_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount_rial", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reversed_points", sa.BigInteger(), nullable=False),
        sa.Column("reversed_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("returned_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_points", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column("lapsed_points", sa.BigInteger(), nullable=False),
        sa.Column("lapsed_credit_rial", sa.BigInteger(), nullable=False),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.CheckConstraint("amount_rial > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_refunds_purchase_id_purchases")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_refunds_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("refund_key", name=op.f("uq_refunds_refund_key")),
    )
    op.create_index(op.f("ix_refunds_purchase_id"), "refunds", ["purchase_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_refunds_purchase_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_table("purchase_lines")
    op.drop_index(op.f("ix_postings_transaction_id"), table_name="postings")
    op.drop_index(op.f("ix_postings_lot_id"), table_name="postings")
    op.drop_index("ix_postings_account_id_lot_id", table_name="postings")
    op.drop_table("postings")
    op.drop_index("ix_purchases_member_id_occurred_at", table_name="purchases")
    op.drop_table("purchases")
    op.drop_index(op.f("ix_lots_expires_at"), table_name="lots")
    op.drop_index(op.f("ix_lots_account_id"), table_name="lots")
    op.drop_table("lots")
    op.drop_index("ix_ledger_transactions_member_id_id", table_name="ledger_transactions")
    op.drop_table("ledger_transactions")
    op.drop_index(op.f("ix_accounts_member_id"), table_name="accounts")
    op.drop_table("accounts")
    op.drop_table("policy_versions")
    op.drop_index(op.f("ix_members_company_id"), table_name="members")
    op.drop_table("members")
