"""Which channels carry the hub's or a shop's messages, from the settings.

SMS go through Kavenegar when ``MALLNET_SMS_PROVIDER=kavenegar``: on the mall's account,
or on the shop's own when ``MALLNET_SMS_SHOP_ACCOUNTS_SECRET`` names the shop (the shop
then pays). Otherwise they go to the outbox file. Telegram needs the mall's bot token;
without one, in development, Telegram messages go to a file beside the SMS outbox. Only
the hub holds the mall's key and token: a node hands what goes on the mall's account to
the hub (:func:`shop_channels`).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from mallnet.config import Settings
from mallnet.messaging import FileSender, Sender, file_sender
from mallnet.messaging.channels import Channel, Outgoing
from mallnet.messaging.dispatch import SendRate
from mallnet.messaging.file import FileChannel
from mallnet.messaging.kavenegar import KavenegarChannel
from mallnet.messaging.quiet import QuietHours, parse
from mallnet.messaging.telegram import TelegramChannel


class MessagingNotConfigured(ValueError):
    """A provider is chosen but a setting it needs is missing."""


def _sms(settings: Settings, origin: str) -> Channel:
    if settings.sms_provider == "file":
        return FileChannel(file_sender(settings))
    account = settings.sms_shop_accounts_secret.get(origin, {})
    api_key = account.get("api_key") or settings.kavenegar_api_key
    if origin == "hub" and settings.kavenegar_codes_api_key:
        # The hub's codes on an account no node holds: Kavenegar's outbox API shows what an
        # account sent, so a node with the mall's key could otherwise read sign-in codes.
        api_key = settings.kavenegar_codes_api_key
    service = account.get("service_line") or settings.sms_service_line
    promotional = account.get("promotional_line") or settings.sms_promotional_line or service
    if not api_key or not service or not promotional:
        raise MessagingNotConfigured(
            "MALLNET_SMS_PROVIDER=kavenegar needs MALLNET_KAVENEGAR_API_KEY and "
            "MALLNET_SMS_SERVICE_LINE (or the shop's own account)"
        )
    return KavenegarChannel(
        api_key=api_key,
        base_url=settings.kavenegar_url,
        service_line=service,
        promotional_line=promotional,
        timeout_s=settings.message_timeout_s,
    )


@asynccontextmanager
async def channels_for(settings: Settings, origin: str) -> AsyncIterator[dict[str, Channel]]:
    """The channels of ``origin`` ("hub" or a shop's slug), by medium, closed on exit."""
    channels: dict[str, Channel] = {"sms": _sms(settings, origin)}
    if not settings.telegram_bot_token and settings.environment == "development":
        # The embedded default, as for SMS: Telegram messages land in a file.
        outbox = FileSender(settings.data_dir / "telegram-outbox.jsonl")
        channels["telegram"] = FileChannel(outbox, medium="telegram")
    elif settings.telegram_bot_token:
        channels["telegram"] = TelegramChannel(
            token=settings.telegram_bot_token,
            api_url=settings.telegram_api_url,
            read_timeout_s=settings.message_timeout_s,
            write_timeout_s=settings.message_timeout_s,
        )
    try:
        yield channels
    finally:
        await _close(channels.values())


# A channel on the mall's account, through the hub, for a medium ("sms" or "telegram").
ThroughHub = Callable[[str], Channel]


@asynccontextmanager
async def shop_channels(
    settings: Settings, shop: str, through_hub: ThroughHub
) -> AsyncIterator[dict[str, Channel]]:
    """A shop node's channels, closed on exit. A node never holds the mall's SMS key or
    bot token: its SMS go on the shop's own account when it has one, and every other SMS
    and Telegram message on the mall's account through the hub (``through_hub``). The
    embedded files stay the default in development."""
    channels: dict[str, Channel] = {}
    if settings.sms_provider == "file":
        channels["sms"] = FileChannel(file_sender(settings))
    elif shop in settings.sms_shop_accounts_secret:
        channels["sms"] = _sms(settings, shop)
    else:
        channels["sms"] = through_hub("sms")
    if not settings.telegram_bot_token and settings.environment == "development":
        outbox = FileSender(settings.data_dir / "telegram-outbox.jsonl")
        channels["telegram"] = FileChannel(outbox, medium="telegram")
    else:
        channels["telegram"] = through_hub("telegram")
    try:
        yield channels
    finally:
        await _close(channels.values())


async def _close(channels: Iterable[Channel]) -> None:
    for channel in channels:
        close = getattr(channel, "aclose", None)
        if close is not None:
            await close()


def quiet_hours(settings: Settings) -> QuietHours:
    return parse(settings.quiet_hours)


def send_rate(settings: Settings) -> SendRate:
    sms, telegram = settings.sms_rate_per_s, settings.telegram_rate_per_s
    return SendRate.at(
        # A node's messages on the mall's account count at the node too ("mall-..."),
        # so a list of thousands does not run into the hub's own count and wait.
        {"kavenegar": sms, "telegram": telegram, "mall-sms": sms, "mall-telegram": telegram},
        settings.rate_limit_storage,
        settings.redis_key_prefix,
    )


@dataclass
class LineSender:
    """Sends one SMS now on the service line of ``origin``'s account (the hub's codes)."""

    settings: Settings
    origin: str = "hub"

    async def send_sms(self, phone: str, text: str, *, kind: str) -> None:
        channel = _sms(self.settings, self.origin)
        try:
            key = f"{kind}:{secrets.token_hex(12)}"
            await channel.send(Outgoing(self.origin, key, phone, text, "service", kind))
        finally:
            close = getattr(channel, "aclose", None)
            if close is not None:
                await close()


def sender_for(settings: Settings) -> Sender:
    """What sends the hub's codes now: the provider's service line, or the outbox file."""
    if settings.sms_provider == "file":
        return file_sender(settings)
    return LineSender(settings)
