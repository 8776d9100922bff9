"""The shopper links her Telegram chat to the mall's bot from the app (``linkTelegram``,
scope ``shopper:consent``: a chat to reach her on is a consent of hers, as her SMS
consents are). The token says whose chat it will be: no argument names a shopper."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import shopper_of
from hub.api.common import run
from hub.api.problems import TelegramNotConfigured
from hub.services import telegram_bot
from mallnet.authz import guard_fields, requires
from mallnet.config import Settings
from mallnet.scopes import Scope


@strawberry.type(description="A one-time link that links the Telegram chat opening it.")
class TelegramLinkOffer:
    link: str = strawberry.field(description="https://t.me/<the mall's bot>?start=<code>")
    expires_at: dt.datetime = strawberry.field(
        description="Until when the link works (it works once)."
    )


guard_fields(TelegramLinkOffer, Scope.SHOPPER_CONSENT)

LinkTelegramResult = Annotated[
    TelegramLinkOffer | TelegramNotConfigured, strawberry.union("LinkTelegramResult")
]


@strawberry.type
class TelegramMutation:
    @strawberry.mutation(
        extensions=requires(Scope.SHOPPER_CONSENT),
        description="A link to the mall's Telegram bot for the signed-in shopper: opened in"
        " Telegram within 15 minutes, it links that chat to her clubs (every shop's messages"
        " to her then reach it too, until she sends /stop).",
    )
    async def link_telegram(self, info: strawberry.Info) -> LinkTelegramResult:
        identity = shopper_of(info)
        settings: Settings = info.context["state"].settings
        username = settings.telegram_bot_username if settings.telegram_bot_token else None

        async def work(session: AsyncSession) -> TelegramLinkOffer:
            offer = await telegram_bot.offer_link(session, identity, username)
            return TelegramLinkOffer(link=offer.link, expires_at=offer.expires_at)

        return await run(info, work)
