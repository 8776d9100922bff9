"""``mallnet value verify``: the operator's audit of the network-value ledger."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import ValueLot
from hub.services import registry, value
from mallnet.config import Settings
from mallnet.db import utcnow

from ..conftest import in_transaction_sync
from .conftest import _hub_db

SHOPPER = "cd" * 32


def _verify(settings: Settings) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLNET_")}
    env |= {"MALLNET_DATA_DIR": str(settings.data_dir)}
    if settings.hub_database_url is not None:
        env |= {"MALLNET_HUB_DATABASE_URL": settings.hub_database_url}
    done = subprocess.run(
        [sys.executable, "-m", "mallnet", "value", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_verify_reports_a_sound_ledger_and_a_tampered_lot(
    network: tuple[Settings, dict[str, object]], tmp_path: Path
) -> None:
    settings, _info = network
    shop = registry.ShopInput("cafe-sepid", "کافه", "Cafe", "cafe")
    _hub_db(settings, lambda s: registry.register_shop(s, shop))
    lot = _hub_db(
        settings,
        lambda s: value.issue(
            s,
            value.IssueInput(
                pseudonym=SHOPPER,
                kind="general_credit",
                issuer="cafe-sepid",
                amount=70_000,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key="lot-1",
            ),
        ),
    )
    code, report = _verify(settings)
    assert code == 0
    assert report["problems"] == []
    assert report["totals"]["rial"]["issued"] == 70_000

    async def tamper(session: AsyncSession) -> None:  # a cache edited behind the ledger
        await session.execute(
            update(ValueLot).where(ValueLot.id == lot.id).values(remaining=69_000)
        )

    in_transaction_sync(settings.hub_db_url, tamper)
    code, report = _verify(settings)
    assert code == 1
    assert any(f"lot {lot.id}" in p for p in report["problems"])
