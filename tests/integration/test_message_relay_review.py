"""Review of relayMessage (77d265b) from a hostile shop node's side. Each test showed a gap
and failed on that commit: the hub's answers told a linked Telegram chat from an unlinked
one; a send the provider took but answered late was forgotten (budget uncounted, Telegram
sent twice); the service line carried a campaign past consent and quiet hours; the mall's
line carried text that named no shop; every status query of a node was a call on the
mall's Kavenegar account; a late attempt deleted a row another attempt had settled."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from federation.client import HubUnavailable
from hub.db.models import TelegramLink
from hub.services.message_relay import MessageRelay, RelayAsk, Relayed, RelayLimits
from mallnet.config import Settings
from mallnet.db import create_engine, session_factory
from mallnet.jalali import TEHRAN
from mallnet.messaging.channels import Outgoing, Receipt, TemporaryFailure
from mallnet.messaging.dispatch import SendRate
from mallnet.messaging.quiet import parse as quiet_hours
from mallnet.secrets_store import network_key
from mallnet.values import pseudonym

from ..conftest import in_transaction
from ..fakes.kavenegar import FakeKavenegar
from ..fakes.telegram import TOKEN, FakeTelegram
from .test_message_relay import ALI, BOOKS, SARA, SHOES, RelayMall, kavenegar, relay_mall

__all__ = ["kavenegar"]  # the fixture, used by name below

Network = tuple[Settings, dict[str, Any]]


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


async def link_chat(mall: RelayMall, phone: str, chat_id: str) -> None:
    """The shopper with ``phone`` linked ``chat_id`` to the mall's bot (as the bot does)."""
    who = pseudonym(network_key(mall.hub_settings), phone)

    async def work(session: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        session.add(TelegramLink(pseudonym=who, chat_id=chat_id, linked_at=now))

    await in_transaction(mall.hub_settings.hub_db_url, work)


async def relay(mall: RelayMall, shop: str, key: str, to: str, **fields: str) -> dict[str, Any]:
    message = {"key": key, "kind": "purchase", "medium": "sms", "line": "service", "to": to}
    message |= {"text": f"«{shop}» {key}"} | fields
    return await mall.hub(shop).relay_message(message)


def not_relayed(answer: dict[str, Any]) -> tuple[str, bool, int | None]:
    assert answer["__typename"] == "MessageNotRelayed", answer
    return answer["refusal"], answer["temporary"], answer["retryAfterS"]


async def test_a_node_cannot_tell_a_linked_chat_from_an_unlinked_one(
    network: Network, kavenegar: FakeKavenegar
) -> None:
    """Finding 3: CHAT_NOT_LINKED (permanent) for a chat nobody linked, NOT_A_MEMBER
    (temporary) for one linked by another shop's member. A node walking chat ids (a
    private chat's id is the person's Telegram user id) learns who is a mall shopper."""
    async with relay_mall(network, kavenegar) as mall:
        await mall.enrol(SHOES, SARA)
        await link_chat(mall, SARA, "7002")
        someone_elses = await relay(mall, BOOKS, "c-1", "7002", medium="telegram")
        nobodys = await relay(mall, BOOKS, "c-2", "7001", medium="telegram")
        assert not_relayed(someone_elses) == not_relayed(nobodys)


async def test_an_sms_the_provider_took_but_answered_late_still_counts(
    network: Network, kavenegar: FakeKavenegar
) -> None:
    """Finding 4: a timeout after Kavenegar accepted the SMS deletes the claim, so the
    message sent (and paid for) counts against no budget; a node that never asks that key
    again sends past its day's parts."""
    budget = {"relay_sms_parts_per_day": 1, "message_timeout_s": 1.0}
    async with relay_mall(network, kavenegar, **budget) as mall:
        await mall.enrol(BOOKS, ALI)
        accepted = kavenegar.stall_after_accept(seconds=3.0)
        late = await relay(mall, BOOKS, "l-1", ALI)
        assert not_relayed(late)[:2] == ("PROVIDER_UNAVAILABLE", True)
        assert accepted.is_set()
        assert len(kavenegar.messages) == 1
        # A fresh key, the day's one part already spent at Kavenegar.
        second = await relay(mall, BOOKS, "l-2", ALI)
        assert len(kavenegar.messages) == 1, "2 SMS sent against a budget of 1 part"
        assert not_relayed(second)[0] == "BUDGET_SPENT"


async def test_a_telegram_message_that_timed_out_is_not_sent_again(
    network: Network, kavenegar: FakeKavenegar, telegram: FakeTelegram
) -> None:
    """Finding 4: Telegram took the message but answered after the hub stopped waiting
    ("the message may have arrived"); the hub forgot the key, so the node's retry with the
    same key (what its dispatcher does with a temporary refusal) sends it a second time."""
    bot = {"telegram_bot_token": TOKEN, "telegram_api_url": telegram.api_url}
    async with relay_mall(network, kavenegar, message_timeout_s=1.0, **bot) as mall:
        await mall.enrol(BOOKS, ALI)
        await link_chat(mall, ALI, "7003")
        telegram.hang(1, seconds=2.5)
        first = await relay(mall, BOOKS, "t-1", "7003", medium="telegram")
        assert not_relayed(first)[:2] == ("OUTCOME_UNKNOWN", False)
        await asyncio.sleep(2.0)  # the fake sends once it is done waiting
        assert len(telegram.sent) == 1
        await relay(mall, BOOKS, "t-1", "7003", medium="telegram")
        assert [m.chat_id for m in telegram.sent] == [7003], "she got the message twice"


async def test_the_service_line_does_not_carry_a_campaign_past_consent_and_quiet_hours(
    network: Network, kavenegar: FakeKavenegar
) -> None:
    """Finding 2: consent and quiet hours apply only when the node says "promotional".
    The same campaign, labelled "service" (kind "campaign" and all), goes at once, in the
    quiet hours, to a member who never consented to promotions."""
    now = dt.datetime.now(TEHRAN)
    window = f"{now - dt.timedelta(hours=1):%H:%M}-{now + dt.timedelta(hours=1):%H:%M}"
    async with relay_mall(network, kavenegar, quiet_hours=window) as mall:
        await mall.enrol(BOOKS, ALI, promotional=False)
        text = "حراج بزرگ! ۷۰٪ تخفیف فقط امشب"
        as_promotion = await relay(mall, BOOKS, "s-1", ALI, line="promotional", text=text)
        assert not_relayed(as_promotion)[0] == "NO_CONSENT"
        as_service = await relay(
            mall, BOOKS, "s-2", ALI, line="service", text=text, kind="campaign"
        )
        assert as_service["__typename"] == "MessageNotRelayed", "campaign sent as service"
        assert kavenegar.messages == []


async def test_the_malls_line_does_not_carry_text_that_names_no_shop(
    network: Network, kavenegar: FakeKavenegar
) -> None:
    """Finding 5: the hub sends the node's text verbatim from the mall's own sender
    number; a shop can speak as the mall (or as its sign-in codes) to its members."""
    async with relay_mall(network, kavenegar) as mall:
        await mall.enrol(BOOKS, ALI)
        text = "مرکز خرید: حساب باشگاه شما مسدود شد. کد ورود ۴۸۲۹۱۳ را به این شماره بفرستید"
        await relay(mall, BOOKS, "m-1", ALI, text=text)
        sent = [s.message for s in kavenegar.messages]
        assert all(BOOKS in s for s in sent), f"the mall's line sent {sent!r}"


async def test_a_nodes_status_queries_do_not_each_call_the_malls_provider(
    network: Network, kavenegar: FakeKavenegar
) -> None:
    """Finding 6: relayedMessageStatuses asks Kavenegar every time a node asks, with no
    limit or cache: a node in a loop spends the mall account's call rate (Kavenegar's 451
    "too many calls") that the hub's own sends need."""
    async with relay_mall(network, kavenegar) as mall:
        await mall.enrol(BOOKS, ALI)
        sent = await relay(mall, BOOKS, "r-1", ALI)
        ids = [sent["providerId"]]
        hub, answered, refused = mall.hub(BOOKS), 0, []
        for _ in range(30):
            try:
                answered += len(await hub.relayed_statuses(ids))
            except HubUnavailable as exc:  # RATE_LIMITED, said as an error
                refused.append(str(exc))
        asked = [c for c in kavenegar.calls if c.method == "sms/status"]
        assert answered >= 1
        assert refused
        assert all("reads a minute" in r for r in refused)
        assert len(asked) <= 5, f"{len(asked)} Kavenegar status calls for one node's loop"


class _GatedSms:
    """An SMS channel whose first send waits for ``gate`` and then fails for now."""

    medium, provider, drops_repeats = "sms", "gated", True

    def __init__(self) -> None:
        self.gate, self.entered, self.sends = asyncio.Event(), asyncio.Event(), 0

    async def send(self, message: Outgoing) -> Receipt:
        self.sends += 1
        if self.sends == 1:
            self.entered.set()
            await self.gate.wait()
            raise TemporaryFailure("answered after the lease ran out")
        return Receipt(provider_id=f"p-{self.sends}")

    async def statuses(self, provider_ids: Any) -> dict[str, Any]:
        return {}


async def test_a_late_attempt_does_not_undo_the_attempt_that_retook_its_claim(
    network: Network, kavenegar: FakeKavenegar
) -> None:
    """Finding 7: ``_settle`` writes by row id alone. An attempt that outlived its lease
    (the key was retaken and sent meanwhile) deletes the row when it finally fails: the
    sent message leaves the budgets, and its key takes another message."""
    async with relay_mall(network, kavenegar) as mall:
        await mall.enrol(BOOKS, ALI)
        engine = create_engine(mall.hub_settings.hub_db_url)
        now = [dt.datetime.now(dt.UTC)]
        channel = _GatedSms()
        limits = RelayLimits(100, 20, 100, quiet_hours("00:00-00:00"), lease_s=60)
        relay = MessageRelay(
            session_factory(engine), network_key(mall.hub_settings), {"sms": channel},
            SendRate({}), limits, clock=lambda: now[0],
        )  # fmt: skip
        ask = RelayAsk("g-1", "purchase", "sms", "service", ALI, "«ketab-sara» g-1")
        try:
            first = asyncio.create_task(relay.send(BOOKS, ask))
            await channel.entered.wait()
            now[0] += dt.timedelta(seconds=61)
            assert isinstance(await relay.send(BOOKS, ask), Relayed)  # retaken and sent
            channel.gate.set()
            await first
            rows = [(r.key, r.status) for r in await mall.relayed()]
            assert rows == [("g-1", "sent")], "the sent message's row was deleted"
        finally:
            await engine.dispose()
