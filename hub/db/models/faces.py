"""The hub's faces (the shopper app, the mall console) as a backend-for-frontend: the
server-side sessions behind their cookies, and the sign-ins under way.

No token is stored in clear: a session's access and refresh tokens are sealed together
under the key-encryption key (``mallnet.keywrap``), bound to the session's row; the browser
holds only the session id, of which the hub keeps the SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from mallnet.db import UTCDateTime


class FaceSession(Base):
    __tablename__ = "face_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    face: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[str] = mapped_column(String(64))
    # Indexed: ending a person's sessions finds theirs by subject.
    subject: Mapped[str] = mapped_column(String(120), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    kek_id: Mapped[str] = mapped_column(String(16))
    sealed_tokens: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Indexed: expired sessions are swept by it.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class FaceLogin(Base):
    """A sign-in under way: its state (hashed) and PKCE verifier, kept here, never sent."""

    __tablename__ = "face_logins"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    face: Mapped[str] = mapped_column(String(20))
    code_verifier: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
