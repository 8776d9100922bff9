"""The mall's Telegram bot webhook: Telegram POSTs every update to ``/hooks/telegram``.

setWebhook was given ``MALLNET_TELEGRAM_WEBHOOK_SECRET``, and Telegram sends it back in the
X-Telegram-Bot-Api-Secret-Token header: a request without it is answered 401 and changes
nothing; without a secret configured the route answers 404, as if it did not exist. An
update is applied in one transaction (``telegram_bot.handle_update``, once per update id);
the bot's replies go after the commit, straight through the Telegram channel — not the
delivery log: they answer what she just did, and are worth nothing later. A reply that fails
is logged, and the update still counts as handled (Telegram would otherwise deliver it
again, and only the reply would be repeated).
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hub.services import telegram_bot
from mallnet.config import Settings
from mallnet.db import transaction
from mallnet.messaging.channels import ChannelFailure
from mallnet.messaging.telegram import TelegramChannel, check_webhook_secret, parse_update
from mallnet.ratelimit import Rule, limiter_for
from mallnet.secrets_store import network_key

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# An Update is small; a large body is no update of ours.
MAX_BODY_BYTES = 64 * 1024
# What one chat may make the bot do: a person types far slower (counted in the hub's
# limiter, in Redis when shared by several hub instances).
CHAT_RATE = Rule.of("telegram-chat", "20 per minute")


async def receive(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    expected = settings.telegram_webhook_secret
    if not expected:
        return PlainTextResponse("not found", status_code=404)
    if not check_webhook_secret(request.headers.get(SECRET_HEADER), expected):
        return PlainTextResponse("wrong secret", status_code=401)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return PlainTextResponse("too large", status_code=413)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return PlainTextResponse("not JSON", status_code=400)
    update_id = data.get("update_id") if isinstance(data, dict) else None
    event = parse_update(data) if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or event is None:
        # Answered 200 all the same, or Telegram delivers it again and again.
        return PlainTextResponse("ignored")
    if not await limiter_for(request.app.state).hit(CHAT_RATE.on(str(event.chat_id))):
        # A chat flooding the bot: its updates are dropped (answered 200, or Telegram
        # delivers them again) before any database work or reply.
        log.warning("Telegram chat over %s: update %s dropped", CHAT_RATE.item, update_id)
        return PlainTextResponse("ignored")
    key = network_key(settings)
    blocked = "my_chat_member" in data

    async def work(session: AsyncSession) -> list[telegram_bot.Reply]:
        return await telegram_bot.handle_update(session, update_id, event, key=key, blocked=blocked)

    replies = await transaction(request.app.state.sessions, work)
    await _send(settings, replies)
    return PlainTextResponse("ok")


async def _send(settings: Settings, replies: list[telegram_bot.Reply]) -> None:
    if not replies:
        return
    if not settings.telegram_bot_token:
        log.warning("no MALLNET_TELEGRAM_BOT_TOKEN: %d bot reply(ies) not sent", len(replies))
        return
    async with TelegramChannel(
        settings.telegram_bot_token,
        api_url=settings.telegram_api_url,
        read_timeout_s=settings.message_timeout_s,
        write_timeout_s=settings.message_timeout_s,
    ) as bot:
        for reply in replies:
            try:
                if reply.contact_button is not None:
                    await bot.send_contact_request(reply.chat_id, reply.text, reply.contact_button)
                else:
                    await bot.send_plain(
                        reply.chat_id, reply.text, remove_keyboard=reply.remove_keyboard
                    )
            except ChannelFailure as exc:
                log.warning("a bot reply to chat %s was not sent: %s", reply.chat_id, exc.reason)


routes = [Route("/hooks/telegram", receive, methods=["POST"])]
