"""Messages a shop's node hands the hub to send on the mall's own accounts.

A node never holds the mall's SMS key or its Telegram bot's token: whoever holds the key
sends anything at the mall's cost and reads what the account sent, and whoever holds the
token can take the bot's updates (shoppers' contacts, link codes) for itself. A shop
that pays for its own SMS sends them itself; everything else a node sends goes through
here, and the hub checks each against what it knows itself. Before it sends:

- the recipient is a member of the asking shop, as the hub's memberships index knows it
  (a phone by its pseudonym; a Telegram chat by the shopper linked to it);
- the service line carries only the kinds of message that are service (a campaign goes on
  the promotional line); a promotional message has her promotional consent at that shop
  (and, in Telegram, her yes to offers in the chat), carries her own opt-out link, and is
  never sent inside the mall's quiet hours;
- every message names the shop as the mall registered it (else the hub puts the name
  first): the mall's sender number never speaks for the mall itself;
- the shop's SMS parts today (Tehran) stay inside its budget, and no one person gets more
  than a handful of its messages a day;
- a key the node used before gets the first answer again, never a second message.

What the hub cannot check is whom the node enrols: its members and their consents at the
till are its reports. The budgets bound what a dishonest node can do with them, and every
promotion carries the link that withdraws it. The node's own checks (consents, quiet
hours) still run first; these are the mall's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import Membership, RelayedMessage, Shop, TelegramLink
from hub.domain.problems import HubError, ProblemCode
from mallnet.db import read_session_factory, transaction, utcnow
from mallnet.jalali import tehran_date
from mallnet.messaging import optout_link, segments
from mallnet.messaging.channels import (
    Channel,
    Line,
    Outgoing,
    PermanentFailure,
    Receipt,
    Status,
    TemporaryFailure,
)
from mallnet.messaging.dispatch import SendRate, outcome_unknown
from mallnet.messaging.quiet import QuietHours
from mallnet.messaging.templates import Kind
from mallnet.phone import InvalidPhone, normalize_mobile
from mallnet.sql_days import start_of_tehran_day
from mallnet.values import pseudonym

MAX_TEXT = 1_000
MAX_STATUS_IDS = 500
_KEY = re.compile(r"[\x21-\x7e]{1,160}")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")
_CHAT = re.compile(r"[1-9][0-9]{0,19}")
# A message counts against the budgets unless the provider refused it.
COUNTED = ("sending", "sent", "unknown")
# What may go on the service line (no quiet hours, no promotional consent): what a club
# tells a member about her own account. A campaign is promotional; codes are the hub's.
SERVICE_KINDS = frozenset(k.value for k in Kind) - {Kind.CAMPAIGN, Kind.SIGN_IN_CODE}


class RelayRefusal(StrEnum):
    """Why the hub did not send a node's message (``temporary``: ask again later)."""

    NOT_A_MEMBER = "NOT_A_MEMBER"
    NOT_A_SERVICE_MESSAGE = "NOT_A_SERVICE_MESSAGE"
    NO_CONSENT = "NO_CONSENT"
    NO_OPT_OUT_LINK = "NO_OPT_OUT_LINK"
    QUIET_HOURS = "QUIET_HOURS"
    BUDGET_SPENT = "BUDGET_SPENT"
    RECIPIENT_CAP = "RECIPIENT_CAP"
    SHOP_SUSPENDED = "SHOP_SUSPENDED"
    NOT_CONFIGURED = "NOT_CONFIGURED"
    THROTTLED = "THROTTLED"
    IN_PROGRESS = "IN_PROGRESS"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_REFUSED = "PROVIDER_REFUSED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


@dataclass(frozen=True)
class RelayAsk:
    """What the node asks: its message's key, and the message."""

    key: str
    kind: str
    medium: str
    line: Line
    to: str
    text: str

    def digest(self) -> str:
        what = "\x00".join((self.kind, self.medium, self.line, self.to, self.text))
        return hashlib.sha256(what.encode()).hexdigest()


@dataclass(frozen=True)
class Relayed:
    provider: str
    provider_id: str | None
    cost_rial: int | None
    delivered: bool


@dataclass(frozen=True)
class NotRelayed:
    code: RelayRefusal
    reason: str
    temporary: bool
    retry_after_s: int | None = None


@dataclass(frozen=True)
class RelayLimits:
    sms_parts_per_day: int
    per_person_per_day: int
    # Telegram costs nothing, but the bot's flood limits are the whole mall's.
    telegram_per_day: int
    quiet: QuietHours
    lease_s: int


@dataclass(frozen=True)
class _Claim:
    row_id: int
    # The attempt that holds the claim: only it may settle the row.
    attempt: int
    # What goes out: the node's text, with the shop's name first if it named none.
    text: str


def checked(ask: RelayAsk) -> RelayAsk:
    """``ask`` with its phone in E.164, or :class:`HubError` naming the field at fault."""
    if not _KEY.fullmatch(ask.key):
        raise HubError(ProblemCode.INVALID_INPUT, "key: 1 to 160 printable ASCII characters", "key")
    if not _KIND.fullmatch(ask.kind):
        raise HubError(ProblemCode.INVALID_INPUT, "kind: lower-case letters and _", "kind")
    if ask.line not in ("service", "promotional"):
        raise HubError(ProblemCode.INVALID_INPUT, "line: service or promotional", "line")
    if not ask.text.strip() or len(ask.text) > MAX_TEXT or "\x00" in ask.text:
        raise HubError(
            ProblemCode.INVALID_INPUT, f"text: 1 to {MAX_TEXT} characters, no NUL", "text"
        )
    if ask.medium == "sms":
        try:
            return RelayAsk(ask.key, ask.kind, "sms", ask.line, normalize_mobile(ask.to), ask.text)
        except InvalidPhone as exc:
            raise HubError(ProblemCode.INVALID_INPUT, f"to: {exc}", "to") from exc
    if ask.medium == "telegram":
        if not _CHAT.fullmatch(ask.to):
            raise HubError(ProblemCode.INVALID_INPUT, "to: a private chat's id (digits)", "to")
        return ask
    raise HubError(ProblemCode.INVALID_INPUT, "medium: sms or telegram", "medium")


@dataclass
class MessageRelay:
    """Sends nodes' messages through the hub's channels, after the mall's checks."""

    sessions: async_sessionmaker[AsyncSession]
    network_key: bytes
    channels: Mapping[str, Channel]
    rate: SendRate
    limits: RelayLimits
    clock: Callable[[], dt.datetime] = utcnow

    async def send(self, shop: str, ask: RelayAsk) -> Relayed | NotRelayed:
        ask = checked(ask)
        channel = self.channels.get(ask.medium)
        if channel is None:
            why = f"the mall has no {ask.medium} channel set up"
            return NotRelayed(RelayRefusal.NOT_CONFIGURED, why, temporary=False)
        if ask.line == "service" and ask.kind not in SERVICE_KINDS:
            why = f"a {ask.kind} message is not a service message: send it as promotional"
            return NotRelayed(RelayRefusal.NOT_A_SERVICE_MESSAGE, why, temporary=False)

        async def claim(session: AsyncSession) -> _Claim | Relayed | NotRelayed:
            return await self._claim(session, shop, ask, channel)

        taken = await transaction(self.sessions, claim)
        if not isinstance(taken, _Claim):
            return taken
        if not await self.rate.take(channel.provider):
            # Not tried now; a claim taken again keeps what an earlier attempt counted.
            await self._settle(taken, "retry" if taken.attempt > 1 else None)
            why = "the mall's account is at its send rate"
            return NotRelayed(RelayRefusal.THROTTLED, why, temporary=True, retry_after_s=1)
        outgoing = Outgoing(shop, ask.key, ask.to, taken.text, ask.line, ask.kind)
        try:
            receipt = await channel.send(outgoing)
        except TemporaryFailure as exc:
            if outcome_unknown(channel, exc):
                await self._settle(taken, "unknown")
                why = f"{exc.reason}: not sent again, it may have arrived"
                return NotRelayed(RelayRefusal.OUTCOME_UNKNOWN, why, temporary=False)
            # The provider may have taken it (a late answer): where it drops a repeat the
            # claim stays, counted, for the node's retry to take again; else it goes.
            await self._settle(taken, "retry" if channel.drops_repeats else None)
            wait = None if exc.retry_after_s is None else int(exc.retry_after_s) + 1
            return NotRelayed(RelayRefusal.PROVIDER_UNAVAILABLE, exc.reason, True, wait)
        except PermanentFailure as exc:
            await self._settle(taken, ("failed", exc.reason))
            return NotRelayed(RelayRefusal.PROVIDER_REFUSED, exc.reason, temporary=False)
        await self._settle(taken, receipt, provider=channel.provider)
        return Relayed(channel.provider, receipt.provider_id, receipt.cost_rial, receipt.delivered)

    async def statuses(self, shop: str, provider_ids: Sequence[str]) -> dict[str, Status]:
        """Delivery reports of the shop's own relayed SMS among ``provider_ids``."""
        if len(provider_ids) > MAX_STATUS_IDS:
            raise HubError(
                ProblemCode.INVALID_INPUT, f"at most {MAX_STATUS_IDS} ids at once", "providerIds"
            )
        channel = self.channels.get("sms")
        if channel is None or not provider_ids:
            return {}

        async def own(session: AsyncSession) -> list[str]:
            found = await session.scalars(
                select(RelayedMessage.provider_id).where(
                    RelayedMessage.shop == shop,
                    RelayedMessage.medium == "sms",
                    RelayedMessage.provider_id.in_(list(set(provider_ids))),
                )
            )
            return [str(i) for i in found]

        # A read: on SQLite it takes no write lock (mallnet.db.read_session_factory).
        async with read_session_factory(self.sessions.kw["bind"])() as session:
            mine = await own(session)
        if not mine:
            return {}
        try:
            found = dict(await channel.statuses(mine))
        except TemporaryFailure:
            return {}
        arrived = [i for i, status in found.items() if status.state == "delivered"]
        if arrived:
            # The mall's log shows them delivered too (what it paid for arrived).

            async def mark(session: AsyncSession) -> None:
                await session.execute(
                    update(RelayedMessage)
                    .where(
                        RelayedMessage.shop == shop,
                        RelayedMessage.medium == "sms",
                        RelayedMessage.status == "sent",
                        RelayedMessage.provider_id.in_(arrived),
                    )
                    .values(delivered=True)
                )

            await transaction(self.sessions, mark)
        return found

    async def _claim(
        self, session: AsyncSession, shop: str, ask: RelayAsk, channel: Channel
    ) -> _Claim | Relayed | NotRelayed:
        # The shop's row serialises its claims (PostgreSQL; SQLite writes one at a time), so
        # two at once cannot both fit the budget's last parts.
        found = await session.execute(
            select(Shop.status, Shop.name_fa, Shop.name_en)
            .where(Shop.slug == shop)
            .with_for_update(key_share=True)
        )
        status, name_fa, name_en = found.one()
        now = self.clock()  # after the lock: waiting for it spends no lease
        if status != "active":
            why = "the shop is suspended: the mall sends nothing for it"
            return NotRelayed(RelayRefusal.SHOP_SUSPENDED, why, temporary=True, retry_after_s=600)
        row = await session.scalar(
            select(RelayedMessage).where(RelayedMessage.shop == shop, RelayedMessage.key == ask.key)
        )
        if row is not None:
            earlier = self._again(row, ask, channel, now)
            if earlier is not None:
                return earlier
        # A claim taken again is checked again: she may have withdrawn consent, or the
        # quiet hours begun, since the attempt that died.
        whose = await self._whose(session, shop, ask)
        if isinstance(whose, NotRelayed):
            return whose
        if ask.line == "promotional" and self.limits.quiet.is_quiet(now):
            wait = int((self.limits.quiet.next_open(now) - now).total_seconds()) + 1
            why = f"promotional messages wait out the mall's quiet hours ({self.limits.quiet})"
            return NotRelayed(RelayRefusal.QUIET_HOURS, why, temporary=True, retry_after_s=wait)
        lease = now + dt.timedelta(seconds=self.limits.lease_s)
        if row is not None:
            row.attempts += 1
            row.lease_until = lease
            return _Claim(row.id, row.attempts, _named(ask.text, shop, name_fa, name_en))
        text = _named(ask.text, shop, name_fa, name_en)
        parts = segments.count(text).parts if ask.medium == "sms" else 0
        over = await self._over_budget(session, shop, whose, now, ask.medium, parts)
        if over is not None:
            return over
        claimed = RelayedMessage(
            shop=shop,
            key=ask.key,
            digest=ask.digest(),
            kind=ask.kind,
            medium=ask.medium,
            line=ask.line,
            recipient=ask.to,
            pseudonym=whose,
            parts=parts,
            tehran_day=tehran_date(now),
            status="sending",
            attempts=1,
            lease_until=lease,
            delivered=False,
            created_at=now,
        )
        session.add(claimed)
        await session.flush()
        return _Claim(claimed.id, 1, text)

    def _again(
        self, row: RelayedMessage, ask: RelayAsk, channel: Channel, now: dt.datetime
    ) -> Relayed | NotRelayed | None:
        """The answer to a key asked before, or None when its claim may be taken again (an
        attempt that died mid-send, on a provider that drops a repeat): never a second
        message."""
        if row.digest != ask.digest():
            raise HubError(
                ProblemCode.IDEMPOTENCY_CONFLICT, "this key came before with another message", "key"
            )
        if row.status == "sent":
            assert row.provider is not None
            return Relayed(row.provider, row.provider_id, row.cost_rial, row.delivered)
        if row.status == "failed":
            return NotRelayed(RelayRefusal.PROVIDER_REFUSED, row.reason or "", temporary=False)
        if row.status == "sending" and row.lease_until is not None and row.lease_until > now:
            why = "the hub is sending this message now"
            return NotRelayed(RelayRefusal.IN_PROGRESS, why, temporary=True, retry_after_s=30)
        if row.status == "sending" and channel.drops_repeats:
            return None
        row.status, row.lease_until = "unknown", None
        why = "an earlier attempt was cut off mid-send: sending again could reach her twice"
        return NotRelayed(RelayRefusal.OUTCOME_UNKNOWN, why, temporary=False)

    async def _whose(self, session: AsyncSession, shop: str, ask: RelayAsk) -> str | NotRelayed:
        """The pseudonym of the member ``ask`` is for, or why the hub will not send it. A
        chat nobody linked is answered as one linked by someone who is not the shop's
        member: a node learns nothing of who else uses the mall's bot."""
        not_a_member = NotRelayed(
            RelayRefusal.NOT_A_MEMBER,
            "the hub knows of no member of this shop at this address",
            temporary=True,  # her enrolment may still be on its way (rarely: events go first)
            retry_after_s=60,
        )
        link: TelegramLink | None = None
        if ask.medium == "telegram":
            link = await session.scalar(select(TelegramLink).where(TelegramLink.chat_id == ask.to))
            if link is None:
                return not_a_member
            who = link.pseudonym
        else:
            who = pseudonym(self.network_key, ask.to)
        membership = await session.get(Membership, (who, shop))
        if membership is None:
            return not_a_member
        if ask.line == "promotional":
            if not (membership.promotional and (link is None or link.promotional)):
                why = "she has not consented to this shop's promotional messages"
                return NotRelayed(RelayRefusal.NO_CONSENT, why, temporary=False)
            path = optout_link.PATH.format(
                shop=shop, token=optout_link.token(self.network_key, shop, who)
            )
            if path not in ask.text:
                why = f"a promotion carries her own opt-out link ({optout_link.PATH})"
                return NotRelayed(RelayRefusal.NO_OPT_OUT_LINK, why, temporary=False)
        return who

    async def _over_budget(
        self, session: AsyncSession, shop: str, who: str, now: dt.datetime, medium: str, parts: int
    ) -> NotRelayed | None:
        day = tehran_date(now)
        counted = (
            RelayedMessage.shop == shop,
            RelayedMessage.tehran_day == day,
            RelayedMessage.status.in_(COUNTED),
        )
        used = await session.scalar(
            select(func.coalesce(func.sum(RelayedMessage.parts), 0)).where(*counted)
        )
        tomorrow = start_of_tehran_day(day + dt.timedelta(days=1))
        wait = max(1, int((tomorrow - now).total_seconds()))
        if parts and int(used or 0) + parts > self.limits.sms_parts_per_day:
            why = f"the shop's {self.limits.sms_parts_per_day} SMS parts for today are spent"
            return NotRelayed(RelayRefusal.BUDGET_SPENT, why, temporary=True, retry_after_s=wait)
        if medium == "telegram":
            chats = await session.scalar(
                select(func.count())
                .select_from(RelayedMessage)
                .where(*counted, RelayedMessage.medium == "telegram")
            )
            if int(chats or 0) >= self.limits.telegram_per_day:
                why = f"the shop sent its {self.limits.telegram_per_day} Telegram messages today"
                return NotRelayed(RelayRefusal.BUDGET_SPENT, why, True, retry_after_s=wait)
        to_her = await session.scalar(
            select(func.count())
            .select_from(RelayedMessage)
            .where(*counted, RelayedMessage.pseudonym == who)
        )
        if int(to_her or 0) >= self.limits.per_person_per_day:
            why = f"{self.limits.per_person_per_day} messages to this person today already"
            return NotRelayed(RelayRefusal.RECIPIENT_CAP, why, temporary=True, retry_after_s=wait)
        return None

    async def _settle(
        self,
        claim: _Claim,
        outcome: Receipt | tuple[str, str] | str | None,
        *,
        provider: str | None = None,
    ) -> None:
        """Write what became of a claimed message, if the claim is still this attempt's
        (one that outlived its lease may have been taken again, and sent): sent (a
        receipt), refused for good (("failed", the provider's reason)), "unknown" (it may
        have arrived, and would arrive twice), "retry" (the provider may have taken it: the
        claim stays, counted, its lease over, for the next attempt), or None (certainly not
        sent: the claim goes, and with it what it counted against the budgets)."""
        now = self.clock()
        m = RelayedMessage
        mine = (m.id == claim.row_id, m.attempts == claim.attempt, m.status == "sending")

        async def work(session: AsyncSession) -> None:
            if outcome is None:
                await session.execute(delete(m).where(*mine))
                return
            values: dict[str, object] = {"lease_until": None}
            if outcome == "retry":
                values["lease_until"] = now
            elif outcome == "unknown":
                values["status"] = "unknown"
            elif isinstance(outcome, tuple):
                values |= {"status": "failed", "reason": outcome[1][:300]}
            elif isinstance(outcome, Receipt):
                values |= {
                    "status": "sent",
                    "sent_at": now,
                    "provider": provider,
                    "provider_id": outcome.provider_id,
                    "cost_rial": outcome.cost_rial,
                    "delivered": outcome.delivered,
                }
            await session.execute(update(m).where(*mine).values(**values))

        await transaction(self.sessions, work)


def _named(text: str, shop: str, name_fa: str, name_en: str) -> str:
    """``text`` as it goes on the mall's line: naming the shop as the mall registered it."""
    if any(name and name in text for name in (name_fa, name_en)):
        return text
    return f"«{name_fa or shop}» {text}"
