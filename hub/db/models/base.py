"""The declarative base every hub table maps onto, and the column types they share."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

from mallnet.db import NAMING_CONVENTION


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A surrogate integer key: BIGINT on PostgreSQL, INTEGER on SQLite, where only an
# INTEGER PRIMARY KEY is an alias of the rowid and so numbers itself.
BIG_ID = BigInteger().with_variant(Integer, "sqlite")
