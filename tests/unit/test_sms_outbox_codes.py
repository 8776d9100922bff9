"""One-time codes are never written in clear to the SMS outbox file outside development
(issue 15): sign-in codes (``kind="otp"``) and redemption codes (``kind="redemption"``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from hub.services.grants import TextedCode, deliver
from mallnet.config import Settings
from mallnet.messaging import MASK
from mallnet.messaging.setup import sender_for
from mallnet.money import toman_fa

OTP = "482913"
REDEMPTION = "90417726"
PHONE = "+989121234567"


def _outbox(tmp_path: Path, environment: Literal["development", "production"]) -> Path:
    settings = Settings(data_dir=tmp_path, environment=environment)
    sender = sender_for(settings)
    # The texts as hub.services.people and hub.services.grants.codes write them.
    asyncio.run(
        sender.send_sms(PHONE, f"کد ورود مال‌نت: {OTP}\nmallnet sign-in code: {OTP}", kind="otp")
    )
    cap = 12_500_000
    text = (
        f"کد پرداخت با اعتبار شبکه تا {toman_fa(cap)} تومان در کافه سپید: {REDEMPTION}\n"
        f"mallnet: to pay up to {cap // 10:,} toman with your network value at cafe-sepid, "
        f"code {REDEMPTION}"
    )
    expires = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    asyncio.run(deliver(sender, TextedCode(PHONE, text, expires, cap)))
    asyncio.run(sender.send_sms(PHONE, "برنده قرعه‌کشی شدید: کد جایزه 55501234", kind="lottery_win"))
    return tmp_path / "sms-outbox.jsonl"


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_production_outbox_holds_no_one_time_code(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, "production")
    written = outbox.read_text(encoding="utf-8")
    assert OTP not in written
    assert REDEMPTION not in written
    otp, redemption, win = _records(outbox)
    assert otp["text"] == f"کد ورود مال‌نت: {MASK}\nmallnet sign-in code: {MASK}"
    assert (otp["kind"], otp["to"]) == ("otp", PHONE)
    # The rest of the message stays readable: who was told what, and for how much.
    assert "۱٬۲۵۰٬۰۰۰" in redemption["text"]
    assert "1,250,000 toman" in redemption["text"]
    assert redemption["text"].endswith(f"code {MASK}")
    assert "55501234" in win["text"]  # not a one-time code: a prize reference


def test_persian_digit_codes_are_masked_too(tmp_path: Path) -> None:
    sender = sender_for(Settings(data_dir=tmp_path, environment="production"))
    asyncio.run(sender.send_sms(PHONE, "کد ورود: ۴۸۲۹۱۳", kind="otp"))
    assert _records(tmp_path / "sms-outbox.jsonl")[0]["text"] == f"کد ورود: {MASK}"


def test_development_outbox_keeps_codes_for_the_demo(tmp_path: Path) -> None:
    written = _outbox(tmp_path, "development").read_text(encoding="utf-8")
    assert OTP in written
    assert REDEMPTION in written
