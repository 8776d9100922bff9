"""A node's tables (SQLAlchemy models); its migrations live in ``shop_node/migrations``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mallnet.db import NAMING_CONVENTION, UTCDateTime


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
