"""The hub's own messages (sign-in codes here) in its delivery log, on SQLite and
PostgreSQL: sent at once on the service line (Kavenegar's local fake), logged with the code
masked; a provider that refuses leaves no usable code, a typed refusal and a failed row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db.models import Message, OneTimeCode
from hub.services import abuse, people
from hub.services.hub_messages import hub_sender
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory
from mallnet.migrations import upgrade

from ..conftest import HubDatabases
from ..fakes.kavenegar import API_KEY, SERVICE_LINE, FakeKavenegar

SARA = "09121234567"


@pytest.fixture
def hub_settings(tmp_path: Path, hub_databases: HubDatabases) -> Settings:
    async def migrated(url: str) -> None:
        await upgrade("hub", url)

    settings, _hub = hub_databases.settings_for(migrated, tmp_path / "var", "http://127.0.0.1:9")
    return settings


async def _send(settings: Settings) -> Any:
    async with engine_scope(settings.hub_db_url) as engine:
        sessions = session_factory(engine)
        # As the sign-in page does: the log is written after the code's transaction.
        sender = hub_sender(settings, sessions, deferred=True)
        try:
            async with sessions() as session, session.begin():
                await people.send_code(
                    session, sender, SARA, "10.0.0.1", limits=abuse.Limits.in_memory()
                )
        except people.SignInError as exc:
            outcome: Any = exc
        else:
            outcome = "sent"
        finally:
            await sender.record()
        async with sessions() as session:
            rows = list(await session.scalars(select(Message).order_by(Message.id)))
            codes = await session.scalar(select(func.count()).select_from(OneTimeCode))
    return outcome, rows, codes


async def test_a_sign_in_code_goes_on_the_service_line_and_is_logged_masked(
    hub_settings: Settings,
) -> None:
    with FakeKavenegar() as kavenegar:
        settings = hub_settings.model_copy(
            update={
                "sms_provider": "kavenegar",
                "kavenegar_url": kavenegar.url,
                "kavenegar_api_key": API_KEY,
                "sms_service_line": SERVICE_LINE,
            }
        )
        outcome, rows, codes = await _send(settings)
        [sms] = kavenegar.sent_to(SARA)
    assert outcome == "sent"
    assert codes == 1
    assert sms.sender == SERVICE_LINE
    code = sms.message.rsplit(" ", 1)[-1]
    assert code.isdigit()
    [row] = rows
    assert (row.kind, row.line, row.status, row.provider) == ("otp", "service", "sent", "kavenegar")
    assert code not in row.text
    assert "••••••" in row.text


async def test_a_refused_sms_keeps_no_code_and_says_so(hub_settings: Settings) -> None:
    with FakeKavenegar() as kavenegar:
        kavenegar.fail_next(1, code=418)  # Kavenegar: not enough credit
        settings = hub_settings.model_copy(
            update={
                "sms_provider": "kavenegar",
                "kavenegar_url": kavenegar.url,
                "kavenegar_api_key": API_KEY,
                "sms_service_line": SERVICE_LINE,
            }
        )
        outcome, rows, codes = await _send(settings)
        assert kavenegar.sent_to(SARA) == []
    assert isinstance(outcome, people.SignInError)
    assert outcome.code == "SMS_NOT_SENT"
    assert codes == 0  # no code waits that nobody received
    [row] = rows
    assert row.status == "failed"
    assert "418" in (row.reason or "")


async def test_the_hubs_codes_go_on_their_own_account(hub_settings: Settings) -> None:
    """With MALLNET_KAVENEGAR_CODES_API_KEY the hub texts its codes on an account the nodes
    do not hold (the mall's key, which nodes have, is refused by this fake)."""
    with FakeKavenegar(api_key="codes-account-key-7F3A9C21B8E04D56") as kavenegar:
        settings = hub_settings.model_copy(
            update={
                "sms_provider": "kavenegar",
                "kavenegar_url": kavenegar.url,
                "kavenegar_api_key": API_KEY,
                "kavenegar_codes_api_key": "codes-account-key-7F3A9C21B8E04D56",
                "sms_service_line": SERVICE_LINE,
            }
        )
        outcome, rows, _codes = await _send(settings)
        assert outcome == "sent"
        assert len(kavenegar.sent_to(SARA)) == 1
    assert rows[-1].status == "sent"
