"""Two hub instances behind one address (the hub scales out statelessly) share the faces'
sessions through the database. When a session's access token has ended and requests reach
both instances at once, only one refreshes it: two refreshes with the same refresh token
would look like a stolen token replayed, and the hub would revoke the whole family."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from hub.app import create_app
from hub.db.models import FaceSession, RefreshToken
from mallnet.config import Settings

from ..conftest import HubDatabases, free_ports
from ..live_server import LiveServer
from .test_face_sessions import CSRF, ME, Hub, _hub

pytestmark = pytest.mark.postgres


def test_concurrent_refreshes_on_two_instances_keep_the_session(
    tmp_path: Path, pg_hub_databases: HubDatabases
) -> None:
    made = pg_hub_databases.new_sync(_hub)
    first, second = free_ports(2)
    settings = Settings(
        data_dir=tmp_path / "var",
        hub_url=f"http://127.0.0.1:{first}",
        hub_database_url=made.url,
    )
    with (
        LiveServer(create_app(settings), first) as one,
        LiveServer(create_app(settings), second) as two,
    ):
        hub = Hub(one.url, settings)
        assert hub.sign_in().status_code == 303
        headers = {**CSRF, "Cookie": f"mallnet-app={hub.browser.cookies['mallnet-app']}"}

        async def stale(session: Any) -> None:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            await session.execute(update(FaceSession).values(access_expires_at=past))

        hub.db(stale)

        async def burst() -> list[int]:
            async with httpx.AsyncClient(timeout=20) as http:
                calls = [
                    http.post(f"{url}/graphql", json=ME, headers=headers)
                    for url in [one.url, two.url] * 4
                ]
                return [r.status_code for r in await asyncio.gather(*calls)]

        assert asyncio.run(burst()) == [200] * 8

        async def revoked(session: Any) -> list[Any]:
            return list(
                (
                    await session.scalars(
                        select(RefreshToken.revoked_at).where(RefreshToken.revoked_at.is_not(None))
                    )
                ).all()
            )

        assert hub.db(revoked) == [], "a refresh was taken for a replay"
        hub.browser.close()
