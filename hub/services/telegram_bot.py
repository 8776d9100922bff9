"""The mall's Telegram bot: linking a shopper's chat, from the app or by signing up in the
chat, and what she says there afterwards.

One bot serves the whole mall, and the hub keeps who is behind each chat
(``telegram_links``). Every node where she is a member gets a copy of the link by a
``command.link_telegram``, so its service messages reach her chat; her memberships are
found by pseudonym, so linking a chat links every club she belongs to at once.

Two ways in:

* The app asks for a link (:func:`offer_link`): ``t.me/<bot>?start=<code>``, good once for
  15 minutes. The hub keeps only the code's SHA-256 (128 random bits need no key), so its
  table links nobody's chat. Opening the link sends ``/start <code>``.
* ``/start`` alone is a sign-up: the bot asks for her phone with Telegram's contact
  button. Telegram sends a contact as her own only when it is the account's own (verified)
  number; anyone can forward someone else's card too, and that one is refused — otherwise
  anyone could sign up, and read the messages of, any number they know.

Every update is handled once: Telegram delivers an update again when our answer is late or
lost, so its ``update_id`` is stored in the transaction of what it did, and a repeat finds
it and does nothing (no second reply either). The replies themselves are returned to the
caller, which sends them after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import LinkTelegram
from hub.db.models import Membership, Shopper, TelegramLink, TelegramLinkCode, TelegramUpdate
from hub.domain.problems import HubError, ProblemCode
from hub.services import inbox
from mallnet.db import utcnow
from mallnet.messaging.optout import is_opt_in, is_opt_out, keyword_form
from mallnet.messaging.telegram import (
    BotEvent,
    ContactShared,
    Start,
    Stop,
    Text,
    deep_link,
    new_link_code,
)
from mallnet.phone import mask
from mallnet.secrets_store import pseudonym

log = logging.getLogger(__name__)

SHOPPERS: Table = Shopper.__table__  # type: ignore[assignment]
LINK_LIFETIME = dt.timedelta(minutes=15)
# Telegram keeps an update it could not deliver for at most a day; a few days of ids cover
# every repeat it may send.
UPDATES_KEPT = dt.timedelta(days=3)

# Her answer to "offers here?", in ``keyword_form`` (the opt-out and opt-in keywords of
# SMS replies count too).
YES = frozenset({"بله", "بلی", "آره", "yes", "y"})
NO = frozenset({"خیر", "نه", "no", "n"})

LINKED = (
    "✅ این چت به باشگاه‌های مشتریان شما در مال وصل شد. برای قطع اتصال /stop را بفرستید.\n"
    "Your chat is now linked to your mall club memberships. Send /stop to unlink."
)
LINK_INVALID = (
    "این لینک معتبر نیست، زمانش گذشته یا پیش‌تر به کار رفته است. از اپ مال لینک تازه بگیرید.\n"
    "This link is not valid: it expired or was used already. Get a new one in the mall app."
)
ASK_CONTACT = (
    "برای عضویت، شمارهٔ موبایل خودتان را با دکمهٔ زیر بفرستید.\n"
    "To join, share your own mobile number with the button below."
)
CONTACT_BUTTON = "ارسال شمارهٔ من / Share my number"
ALREADY_LINKED = (
    "این چت به حساب شما وصل است. برای قطع اتصال /stop را بفرستید.\n"
    "This chat is already linked. Send /stop to unlink."
)
NOT_OWN_CONTACT = (
    "فقط شمارهٔ خودتان پذیرفته می‌شود، با دکمهٔ «ارسال شمارهٔ من»؛ شمارهٔ دیگران نه.\n"
    "Only your own number is accepted, with the “Share my number” button; "
    "someone else's contact is not."
)
NOT_A_MOBILE = (
    "فقط شماره‌های موبایل ایران (۰۹…) پذیرفته می‌شوند.\n"
    "Only Iranian mobile numbers (09…) are accepted."
)
ASK_OFFERS = (
    "می‌خواهید پیشنهادها و خبر کمپین‌ها را اینجا بگیرید؟ «بله» یا «خیر» بفرستید.\n"
    "Do you want offers and campaign news here? Reply بله/YES or خیر/NO."
)
SIGNED_UP = (
    "✅ شمارهٔ شما ثبت شد و این چت به باشگاه‌های مشتریان شما در مال وصل شد.\n"
    "Your number is registered and this chat is linked to your mall club memberships.\n\n"
    + ASK_OFFERS
)
OFFERS_ON = (
    "پیشنهادها و خبر کمپین‌ها را اینجا می‌فرستیم. برای توقف «خیر» بفرستید.\n"
    "You will get offers and campaign news here. Reply NO to stop them."
)
OFFERS_OFF = (
    "پیشنهادی اینجا نمی‌فرستیم؛ فقط پیام‌های خرید و حساب شما. برای دریافت «بله» بفرستید.\n"
    "No offers here: only messages about your purchases and balances. Reply YES for offers."
)
UNLINKED = (
    "اتصال این چت قطع شد و پیامی از باشگاه‌ها اینجا نمی‌آید. برای اتصال دوباره /start را بفرستید.\n"
    "This chat is unlinked: no more club messages here. Send /start to link it again."
)
NOT_LINKED = "این چت به حسابی وصل نیست.\nThis chat is not linked to any account."
HOW_TO_LINK = (
    "این چت هنوز وصل نیست. /start را بفرستید تا با شمارهٔ موبایلتان عضو شوید، "
    "یا از اپ مال لینک تلگرام بگیرید.\n"
    "This chat is not linked yet. Send /start to join with your mobile number, "
    "or get a Telegram link in the mall app."
)
HELP = (
    "برای پیشنهادها «بله» یا «خیر» بفرستید؛ برای قطع اتصال /stop.\n"
    "Reply YES or NO for offers here; /stop to unlink."
)


class TelegramBotError(HubError):
    """An expected failure of the bot's use cases in the app."""


@dataclass(frozen=True)
class LinkOffer:
    """What the app shows: the link to open in Telegram, and until when it works."""

    link: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Reply:
    """A message the bot sends once the update's transaction has committed."""

    chat_id: int
    text: str
    # The label of a button sharing her own contact, shown under the message.
    contact_button: str | None = None
    # Take away a keyboard an earlier message showed (the contact button).
    remove_keyboard: bool = False


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def offer_link(
    session: AsyncSession, identity: str, bot_username: str | None, now: dt.datetime | None = None
) -> LinkOffer:
    """A one-time link that links the Telegram chat opening it to the signed-in shopper
    ``identity`` (``bot_username`` None: the mall has no bot)."""
    now = now or utcnow()
    if not bot_username:
        raise TelegramBotError(
            ProblemCode.TELEGRAM_NOT_CONFIGURED,
            "the mall has not set up its Telegram bot; messages come by SMS",
        )
    code = new_link_code()
    try:
        link = deep_link(bot_username, code)
    except ValueError:
        log.warning("MALLNET_TELEGRAM_BOT_USERNAME is not a Telegram username: no links made")
        raise TelegramBotError(
            ProblemCode.TELEGRAM_NOT_CONFIGURED,
            "the mall's Telegram bot is not set up correctly; messages come by SMS",
        ) from None
    # Her links that ran out are of no use to anyone: they go as she asks for a new one.
    await session.execute(
        delete(TelegramLinkCode).where(
            TelegramLinkCode.pseudonym == identity, TelegramLinkCode.expires_at < now
        )
    )
    session.add(
        TelegramLinkCode(
            code_digest=code_digest(code),
            pseudonym=identity,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    await session.flush()
    return LinkOffer(link, now + LINK_LIFETIME)


async def handle_update(
    session: AsyncSession,
    update_id: int,
    event: BotEvent,
    *,
    key: bytes,
    blocked: bool = False,
    now: dt.datetime | None = None,
) -> list[Reply]:
    """Apply one webhook update (``blocked``: the Stop is her blocking the bot, so nothing
    is sent back); returns the replies to send after the commit. A repeat of an update
    already handled does nothing and returns none."""
    now = now or utcnow()
    if not await _first_delivery(session, update_id, now):
        return []
    if isinstance(event, Start):
        if event.code is not None:
            return await _start_with_code(session, event.chat_id, event.code, now)
        if await _link_of_chat(session, event.chat_id) is not None:
            return [Reply(event.chat_id, ALREADY_LINKED)]
        return [Reply(event.chat_id, ASK_CONTACT, contact_button=CONTACT_BUTTON)]
    if isinstance(event, ContactShared):
        return await _sign_up(session, event, key, now)
    if isinstance(event, Stop):
        return await _stop(session, event.chat_id, blocked)
    return await _answer(session, event)


async def _first_delivery(session: AsyncSession, update_id: int, now: dt.datetime) -> bool:
    """Whether ``update_id`` is new; it is recorded in this transaction. Two deliveries at
    once: the second insert fails on the key, and its retried transaction finds the row."""
    if await session.get(TelegramUpdate, update_id) is not None:
        log.info("Telegram update %s was handled already", update_id)
        return False
    await session.execute(
        delete(TelegramUpdate).where(TelegramUpdate.handled_at < now - UPDATES_KEPT)
    )
    session.add(TelegramUpdate(update_id=update_id, handled_at=now))
    await session.flush()
    return True


async def _start_with_code(
    session: AsyncSession, chat_id: int, code: str, now: dt.datetime
) -> list[Reply]:
    """``/start <code>`` from the app's link: a live, unused code links the chat."""
    row = await session.get(TelegramLinkCode, code_digest(code), with_for_update=True)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return [Reply(chat_id, LINK_INVALID)]
    row.used_at = now
    # Her deliberate act in the app: every club she belongs to now hears of the chat,
    # also those she joined since she last linked it.
    await _link(session, row.pseudonym, chat_id, now, retell=True)
    return [Reply(chat_id, LINKED, remove_keyboard=True)]


async def _sign_up(
    session: AsyncSession, event: ContactShared, key: bytes, now: dt.datetime
) -> list[Reply]:
    """Her own contact, from the contact button: she becomes a shopper (if she was not
    one), her chat is linked to every club she belongs to, and she is asked about offers."""
    if not event.is_own:
        log.info("refused a contact that is not the sender's own (chat %s)", event.chat_id)
        return [Reply(event.chat_id, NOT_OWN_CONTACT)]
    if event.phone is None:
        return [Reply(event.chat_id, NOT_A_MOBILE)]
    identity = pseudonym(key, event.phone)
    await _shopper(session, identity, event.phone, now)
    shops = await _link(session, identity, event.chat_id, now)
    log.info("%s signed up in Telegram; linked at %d shop(s)", mask(event.phone), len(shops))
    return [Reply(event.chat_id, SIGNED_UP, remove_keyboard=True)]


async def _shopper(session: AsyncSession, identity: str, phone: str, now: dt.datetime) -> None:
    """The shopper row, as ``people.sign_in_shopper`` makes it: one upsert (a node's intake
    may be writing the same new shopper), the phone kept. Telegram's contact button shares
    only the account's own number, which Telegram verified: as good as a sign-in code."""
    conn = await session.connection()
    stmt = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(SHOPPERS).values(
        pseudonym=identity, phone=phone, created_at=now, last_sign_in_at=now
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["pseudonym"],
            set_={"phone": stmt.excluded.phone, "last_sign_in_at": stmt.excluded.last_sign_in_at},
        )
    )


async def _link(
    session: AsyncSession, identity: str, chat: int, now: dt.datetime, *, retell: bool = False
) -> list[str]:
    """Link ``chat`` to ``identity``: it replaces her earlier chat, and moves away from
    whoever had it (whose nodes drop it). Every node where she is a member is told, with
    her answer about offers; returns those shops. When nothing changed, nothing is told
    unless ``retell`` (a chat repeating its contact must not fill every club's inbox)."""
    chat_id = str(chat)
    previous = await _link_of_chat(session, chat, lock=True)
    if previous is not None and previous.pseudonym != identity:
        await session.delete(previous)
        await session.flush()  # the chat's unique key is free before it is taken again
        await _tell_nodes(session, previous.pseudonym, None)
    mine = await session.get(TelegramLink, identity, with_for_update=True)
    if mine is not None and mine.chat_id == chat_id:
        return await _tell_nodes(session, identity, chat_id, mine.promotional) if retell else []
    if mine is None:
        session.add(TelegramLink(pseudonym=identity, chat_id=chat_id, linked_at=now))
    else:
        # Her answer about offers is hers, not the chat's: it stays.
        mine.chat_id, mine.linked_at = chat_id, now
    await session.flush()
    promotional = mine.promotional if mine is not None else False
    return await _tell_nodes(session, identity, chat_id, promotional)


async def _tell_nodes(
    session: AsyncSession, identity: str, chat_id: str | None, promotional: bool = False
) -> list[str]:
    shops: Sequence[str] = (
        await session.scalars(
            select(Membership.shop)
            .where(Membership.pseudonym == identity)
            .order_by(Membership.shop)
        )
    ).all()
    for shop in shops:
        link = LinkTelegram(pseudonym=identity, chat_id=chat_id, promotional=promotional)
        await inbox.enqueue(session, shop, link)
    return list(shops)


async def _stop(session: AsyncSession, chat: int, blocked: bool) -> list[Reply]:
    """/stop, or she blocked the bot: the link goes, at the hub and at every node (a
    blocked bot cannot send her anything, so it says nothing)."""
    link = await _link_of_chat(session, chat, lock=True)
    if link is None:
        return [] if blocked else [Reply(chat, NOT_LINKED, remove_keyboard=True)]
    identity = link.pseudonym
    await session.delete(link)
    await session.flush()
    await _tell_nodes(session, identity, None)
    return [] if blocked else [Reply(chat, UNLINKED, remove_keyboard=True)]


async def _answer(session: AsyncSession, event: Text) -> list[Reply]:
    """Anything else she writes: a yes or no about offers in a linked chat; otherwise
    what she can do."""
    link = await _link_of_chat(session, event.chat_id, lock=True)
    if link is None:
        return [Reply(event.chat_id, HOW_TO_LINK)]
    answer = offers_answer(event.text)
    if answer is None:
        return [Reply(event.chat_id, HELP)]
    if link.promotional != answer:
        link.promotional = answer
        # Her clubs send offers to the chat only with her yes here (their own promotional
        # consent is for SMS): each hears her answer.
        await _tell_nodes(session, link.pseudonym, link.chat_id, answer)
    return [Reply(event.chat_id, OFFERS_ON if answer else OFFERS_OFF, remove_keyboard=True)]


def offers_answer(text: str) -> bool | None:
    """Her yes (True) or no (False) to offers in the chat, or None for anything else."""
    if len(text) > 40:
        return None
    word = keyword_form(text)
    if word in YES or is_opt_in(text):
        return True
    if word in NO or is_opt_out(text):
        return False
    return None


async def _link_of_chat(
    session: AsyncSession, chat: int, *, lock: bool = False
) -> TelegramLink | None:
    query = select(TelegramLink).where(TelegramLink.chat_id == str(chat))
    found: TelegramLink | None = await session.scalar(query.with_for_update() if lock else query)
    return found
