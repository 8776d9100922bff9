"""What the authorisation server keeps: the keys it signs tokens with, authorization codes
and refresh tokens, and the records that slow sign-in guessing (SMS codes, failed
passwords)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import BIG_ID, Base
from mallnet.db import UTCDateTime


class SigningKey(Base):
    """A key the hub signs access tokens with. A retired key signs nothing new but stays
    published in the JWKS until every token it signed has expired.

    The private key is never stored in clear: its JWK is sealed with AES-256-GCM under a
    key-encryption key (``mallnet.keywrap``), whose id is kept beside it for rotation."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    kek_id: Mapped[str] = mapped_column(String(16))
    sealed_private_jwk: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuthorizationCode(Base):
    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(100), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    # Indexed: disabling an account or resetting its password revokes by subject.
    subject: Mapped[str] = mapped_column(String(120), index=True)
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
    # Indexed: disabling an account or resetting its password revokes by subject.
    subject: Mapped[str] = mapped_column(String(120), index=True)
    audience: Mapped[str] = mapped_column(String(60))
    shop: Mapped[str | None] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The authorization code the family began with: a replayed code revokes it.
    origin_code_hash: Mapped[str | None] = mapped_column(String(100), index=True)


class OneTimeCode(Base):
    """A sign-in code sent by SMS: hashed, short-lived, single-use, few attempts."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        Index("ix_one_time_codes_phone_created_at", "phone", "created_at"),
        Index("ix_one_time_codes_ip_created_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The keyed digest of the asking browser's id; tries from elsewhere are counted apart.
    asker: Mapped[str | None] = mapped_column(String(64))
    stranger_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SignInFailure(Base):
    """A failed password sign-in, counted per username and per address to slow guessing."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
