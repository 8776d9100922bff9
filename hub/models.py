"""The hub's tables (SQLAlchemy models); its migrations live in ``hub/migrations``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, MetaData, String
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
