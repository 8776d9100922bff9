"""Sign-in limits hold under concurrency on PostgreSQL (the counters are the limiter's, atomic
per hit: concurrent transactions cannot all pass a nearly spent limit)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.services import abuse, people
from mallnet.db import engine_scope, session_factory
from mallnet.messaging import FileSender
from mallnet.migrations import upgrade

pytestmark = pytest.mark.postgres


async def test_concurrent_code_requests_cannot_exceed_the_per_phone_limit(
    pg_url: str, tmp_path: Path
) -> None:
    await upgrade("hub", pg_url)
    sender = FileSender(tmp_path / "sms.jsonl")
    limits = abuse.Limits.in_memory()
    async with engine_scope(pg_url) as engine:
        sessions = session_factory(engine)

        async def ask(index: int) -> str:
            try:
                async with sessions() as session, session.begin():
                    await people.send_code(
                        session, sender, "09121234567", f"10.0.0.{index}", limits=limits
                    )
            except people.SignInError as exc:
                return exc.code
            return "sent"

        results = await asyncio.gather(*(ask(i) for i in range(20)))
    assert results.count("sent") == people.SENDS_PER_PHONE
    assert results.count("RATE_LIMITED") == 20 - people.SENDS_PER_PHONE
    assert len((tmp_path / "sms.jsonl").read_text().splitlines()) == people.SENDS_PER_PHONE


async def test_concurrent_wrong_passwords_are_all_counted(pg_url: str) -> None:
    await upgrade("hub", pg_url)
    limits = abuse.Limits.in_memory()
    async with engine_scope(pg_url) as engine:
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await people.create_user(session, "boss", "long enough secret", "mall_admin", None)

        async def guess() -> str:
            try:
                async with sessions() as session, session.begin():
                    person = await people.sign_in_user(
                        session, "boss", "wrong", "10.0.0.1", limits=limits
                    )
            except people.SignInError as exc:
                return exc.code
            return "wrong" if person is None else "in"

        results = await asyncio.gather(*(guess() for _ in range(15)))
    assert results.count("wrong") == people.FAILURES_PER_USERNAME
    assert results.count("RATE_LIMITED") == 15 - people.FAILURES_PER_USERNAME
