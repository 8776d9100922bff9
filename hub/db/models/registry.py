"""The network's registry: its shops, the OAuth clients that act for them (nodes, the
console, the shopper app, services) and the staff who sign in with a password."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class Shop(Base):
    """A shop of the network, as the mall knows it (its members stay on its node)."""

    __tablename__ = "shops"
    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
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

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Every token and session issued before this moment is void (set when the account is
    # disabled, its password reset or its role changed): the hub refuses access tokens
    # older than it, whatever their expiry.
    sessions_revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StaffChange(Base):
    """What was done to a staff or mall account, by whom and when (insert-only): created,
    disabled, enabled, password reset, role changed."""

    __tablename__ = "staff_changes"
    __table_args__ = (
        CheckConstraint(
            "action IN ('created', 'disabled', 'enabled', 'password_reset', 'role_changed')",
            name="action",
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    # Who did it: a mall user ("mall:7") or a shop manager through their node
    # ("staff:12"), and the OAuth client that carried the request.
    actor: Mapped[str] = mapped_column(String(120))
    client_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
