"""The demo's messaging story: what each club's messages are called, Sara's Telegram chat,
a birthday today at the bookshop, and a promotional send to a list at the shoe shop.

With nothing configured, SMS go to ``var/sms-outbox.jsonl`` and Telegram messages to
``var/telegram-outbox.jsonl``; the worker's beat sends every queued message within seconds,
and each shop's dashboard shows its delivery log (Messages).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import jdatetime
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mallnet.jalali import tehran_date
from shop_node.db.models import Member, TelegramChat
from shop_node.domain.errors import MemberExists
from shop_node.services import broadcast, members
from shop_node.services.member_search import MemberFilter
from shop_node.services.runtime import NodeRuntime

ACTOR = "demo:manager"
# Sara's chat with the mall's bot (the demo has no bot: her messages land in the file).
SARA_PHONE, SARA_CHAT = "+989121234567", "700100200"
# Nazanin's birthday is today, whatever day the demo runs: the bookshop's gift comes.
NAZANIN = "09127770001"


def messaging_policy(name_fa: str, name_en: str, gift: dict[str, int] | None) -> dict[str, Any]:
    """The club policy's ``messaging`` section for a demo shop."""
    section: dict[str, Any] = {"sender_name_fa": name_fa, "sender_name_en": name_en}
    if gift is not None:
        section["birthday_gift"] = gift
    return section


async def link_saras_chat(runtime: NodeRuntime) -> bool:
    """Sara linked her Telegram chat (in the app, as the hub's bot would tell each club):
    her service messages here go there too. True when newly linked."""

    async def work(session: AsyncSession) -> bool:
        member = await session.scalar(select(Member).where(Member.phone == SARA_PHONE))
        if member is None or await session.get(TelegramChat, member.id) is not None:
            return False
        session.add(TelegramChat(member_id=member.id, chat_id=SARA_CHAT, linked_at=runtime.clock()))
        return True

    return await runtime.transaction(work)


async def birthday_today(runtime: NodeRuntime) -> None:
    """Nazanin, a member of the bookshop's club since last year, has her birthday today
    (the Jalali day of 30 years ago): beat's birthday job gives her the club's gift, once.
    (A birthday given less than 30 days before brings no gift: hers was given a year ago.)"""
    today = jdatetime.date.fromgregorian(date=tehran_date(runtime.clock()))
    born = f"{today.year - 30}/{today.month:02d}/{min(today.day, 29):02d}"
    with contextlib.suppress(MemberExists):
        member = await members.enrol_member(
            runtime,
            members.MemberInput(phone=NAZANIN, name="نازنین صالحی", birthday=born),
            ACTOR,
        )
        a_year_ago = runtime.clock() - dt.timedelta(days=365)

        async def joined_last_year(session: AsyncSession) -> None:
            await session.execute(
                update(Member)
                .where(Member.id == member.id)
                .values(joined_at=a_year_ago, birthday_set_at=a_year_ago)
            )

        await runtime.transaction(joined_last_year)


async def yalda_send(runtime: NodeRuntime) -> str:
    """The shoe shop's manager sends a promotional text to the whole list: members without
    promotional consent are skipped, and at night in Tehran the messages wait until
    morning. Queued now; beat sends them."""
    created = await broadcast.create(
        runtime,
        MemberFilter(),
        "شب یلدا: ۲۰٪ تخفیف بوت‌های زمستانی، تا جمعه.",
        "fa",
        "demo-yalda-send",
        ACTOR,
    )
    done = await broadcast.send(runtime, created.progress.broadcast.id)
    return (
        f"kafsh-arya sent a promotional text to its list: {done.queued} queued, "
        f"{done.skipped_no_consent} without consent skipped, {done.held} held for quiet hours"
    )
