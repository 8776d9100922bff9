"""The Celery workers' heartbeat (``/healthz`` reports its age)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models.base import Base
from mallnet.db import UTCDateTime


class WorkerHeartbeat(Base):
    """The last time each Celery worker ran the beat-scheduled heartbeat task.

    It proves the whole background chain (beat → broker → worker → database) is alive;
    ``/healthz`` reports its age.
    """

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    beats: Mapped[int] = mapped_column(Integer, default=0)
