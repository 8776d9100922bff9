"""Offers reach the hub as a node's events (issue 18): each applied once however often it
arrives; a node touches only its own shop's offers and grants; the shopper's list holds
her open grants and the live permanent offers of her clubs — never an expired or closed
grant, a withdrawn or ended offer, nor another shopper's grant. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import (
    MemberEnrolled,
    OfferGrantClosed,
    OfferGranted,
    OfferPublished,
    OfferWithdrawn,
    make_envelope,
)
from federation.ids import new_event_id
from hub.db.models import FederationEvent, ShopOffer, ShopOfferGrant
from hub.domain.problems import ProblemCode
from hub.services import intake, registry, shopper_offers
from hub.services.intake import IngestReport
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.secrets_store import pseudonym

from ..conftest import HubDatabases
from .test_network_value import Hub, prepare_hub

KEY = b"the network key of these tests"
BOOKS, SHOES = "ketab-sara", "kafsh-arya"
ALI, SARA = pseudonym(KEY, "+989121234567"), pseudonym(KEY, "+989351112233")
STRANGER = pseudonym(KEY, "+989120000000")


@pytest.fixture
async def hub(hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        yield Hub(session_factory(engine))


class Node:
    """A shop's node as the hub sees it: a stream of events, numbered."""

    def __init__(self, hub: Hub, shop: str) -> None:
        self.hub, self.shop, self.seq = hub, shop, 0

    def batch(self, *payloads: Any, at: dt.datetime | None = None) -> list[Any]:
        envelopes = []
        for payload in payloads:
            self.seq += 1
            envelopes.append(
                make_envelope(
                    event_id=new_event_id(),
                    node=self.shop,
                    seq=self.seq,
                    occurred_at=at or utcnow(),
                    payload=payload,
                )
            )
        return envelopes

    async def deliver(self, envelopes: list[Any]) -> IngestReport:
        return await self.hub.run(lambda s: intake.ingest(s, self.shop, envelopes, key=KEY))

    async def send(self, *payloads: Any, at: dt.datetime | None = None) -> IngestReport:
        return await self.deliver(self.batch(*payloads, at=at))

    async def enrol(self, *members: str) -> None:
        await self.send(
            *(
                MemberEnrolled(pseudonym=m, joined_via="staff", partner_sharing=False)
                for m in members
            )
        )


def published(offer_id: str, kind: str = "permanent", **change: Any) -> OfferPublished:
    texts = {
        "name_fa": f"آفر {offer_id[-4:]}",
        "name_en": f"Offer {offer_id[-4:]}",
        "summary_fa": "۱۰٪ اعتبار بیشتر برای خرید بالای ۳۰۰ هزار تومان",
        "summary_en": "10% more credit on purchases over 300,000 toman",
    }
    return OfferPublished(offer_id=offer_id, kind=kind, **{**texts, **change})


def granted(who: str, offer_id: str, grant_id: str, days: int = 7) -> OfferGranted:
    expires = utcnow() + dt.timedelta(days=days)
    return OfferGranted(pseudonym=who, offer_id=offer_id, grant_id=grant_id, expires_at=expires)


async def page_of(
    hub: Hub, who: str, first: int, after: str | None = None
) -> shopper_offers.OffersPage:
    async def read(session: AsyncSession) -> shopper_offers.OffersPage:
        return await shopper_offers.offers_for(session, who, first, after)

    return await hub.run(read)


async def listed(hub: Hub, who: str, **kwargs: Any) -> list[tuple[str, str, str | None]]:
    """(kind, shop, offer id or grant id) of everything on her list, newest first."""
    page = await hub.run(lambda s: shopper_offers.offers_for(s, who, 100, **kwargs))
    assert not page.has_more
    return [(o.kind, o.shop, o.grant_id or o.offer_id) for o in page.items]


async def counts(hub: Hub) -> tuple[int, int, int]:
    async def count(session: AsyncSession) -> tuple[int, int, int]:
        found = [
            int(await session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (FederationEvent, ShopOffer, ShopOfferGrant)
        ]
        return found[0], found[1], found[2]

    return await hub.run(count)


async def test_each_event_is_applied_and_her_list_shows_what_reached_her(hub: Hub) -> None:
    # Given the bookshop's node: Ali a member, a permanent and a one-time offer published
    books = Node(hub, BOOKS)
    await books.enrol(ALI)
    loyal, comeback, grant = new_event_id(), new_event_id(), new_event_id()
    start = utcnow()
    ends = start + dt.timedelta(days=30)
    await books.send(published(loyal, ends_at=ends), at=start - dt.timedelta(hours=2))
    report = await books.send(
        published(comeback, "one_time", name_en="Come back"), at=start - dt.timedelta(hours=1)
    )
    assert len(report.accepted) == 1

    # When the one-time offer is granted to Ali
    await books.send(granted(ALI, comeback, grant), at=start)

    # Then her list: the grant (newest) with the offer's texts, then the permanent offer
    page = await page_of(hub, ALI, 10)
    assert [(o.kind, o.grant_id or o.offer_id) for o in page.items] == [
        ("one_time", grant),
        ("permanent", loyal),
    ]
    first, second = page.items
    assert (first.name_en, first.shop, first.shop_name_en) == ("Come back", BOOKS, BOOKS)
    assert first.summary_fa.startswith("۱۰٪")
    assert first.until is not None
    assert first.until > start + dt.timedelta(days=6)
    assert second.until == ends
    assert page.has_more is False

    # A change of the permanent offer's texts shows; withdrawing the one-time offer hides
    # its grant; closing what is left empties nothing else
    await books.send(published(loyal, name_en="Loyal, now 15%"))
    assert (await page_of(hub, ALI, 10)).items[1].name_en == "Loyal, now 15%"
    await books.send(OfferWithdrawn(offer_id=comeback))
    assert await listed(hub, ALI) == [("permanent", BOOKS, loyal)]
    await books.send(OfferWithdrawn(offer_id=loyal))
    assert await listed(hub, ALI) == []


async def test_a_replayed_batch_changes_nothing(hub: Hub) -> None:
    books = Node(hub, BOOKS)
    await books.enrol(ALI)
    offer, grant = new_event_id(), new_event_id()
    batch = books.batch(
        published(offer, "one_time"),
        granted(ALI, offer, grant),
        OfferGrantClosed(pseudonym=ALI, grant_id=grant, reason="used"),
    )
    first = await books.deliver(batch[:2])
    assert len(first.accepted) == 2
    before = (await counts(hub), await listed(hub, ALI))
    assert before[1] == [("one_time", BOOKS, grant)]

    # The same events again (the relay did not hear the answer): duplicates, no effect
    again = await books.deliver(batch[:2])
    assert (again.accepted, len(again.duplicates)) == ([], 2)
    assert (await counts(hub), await listed(hub, ALI)) == before

    # The closing, twice: used once, then the grant is gone from her list
    await books.deliver(batch[2:])
    replay = await books.deliver(batch)
    assert len(replay.duplicates) == 3
    assert await listed(hub, ALI) == []
    closed = await hub.run(lambda s: s.scalar(select(ShopOfferGrant.close_reason)))
    assert closed == "used"


async def test_a_node_cannot_touch_another_shops_offers_or_grants(hub: Hub) -> None:
    # Given the bookshop's permanent offer and its grant to Ali, a member of both shops
    books, shoes = Node(hub, BOOKS), Node(hub, SHOES)
    await books.enrol(ALI)
    await shoes.enrol(ALI)
    offer, grant = new_event_id(), new_event_id()
    await books.send(published(offer), published(other := new_event_id(), "one_time"))
    await books.send(granted(ALI, other, grant))
    mine = [("one_time", BOOKS, grant), ("permanent", BOOKS, offer)]
    assert await listed(hub, ALI) == mine

    # When the shoe shop's node names the bookshop's ids: withdraws its offer, closes its
    # grant, grants its one-time offer
    report = await shoes.send(
        OfferWithdrawn(offer_id=offer),
        OfferGrantClosed(pseudonym=ALI, grant_id=grant, reason="withdrawn"),
        granted(ALI, other, new_event_id()),
    )

    # Then nothing of the bookshop's changed: no offer of the shoe shop has those ids
    assert len(report.ignored) == 2  # the withdrawal and the closing; the grant is kept
    assert await listed(hub, ALI) == mine
    # and an offer id the shoe shop publishes is its own offer, withdrawn on its own
    await shoes.send(published(offer, name_en="Shoes' own"))
    assert ("permanent", SHOES, offer) in await listed(hub, ALI)
    await shoes.send(OfferWithdrawn(offer_id=offer))
    assert await listed(hub, ALI) == mine


async def test_expired_closed_and_ended_are_not_listed(hub: Hub) -> None:
    books = Node(hub, BOOKS)
    await books.enrol(ALI)
    one_time, ended, later = new_event_id(), new_event_id(), new_event_id()
    short, closed = new_event_id(), new_event_id()
    now = utcnow()
    await books.send(
        published(one_time, "one_time"),
        published(ended, ends_at=now + dt.timedelta(hours=1)),
        published(later, ends_at=now + dt.timedelta(days=9)),
        granted(ALI, one_time, short, days=2),
        granted(ALI, one_time, closed, days=5),
        OfferGrantClosed(pseudonym=ALI, grant_id=closed, reason="expired"),
    )
    assert {item[2] for item in await listed(hub, ALI)} == {ended, later, short}
    # Three days on: the grant expired, the first permanent offer ended
    assert await listed(hub, ALI, now=now + dt.timedelta(days=3)) == [("permanent", BOOKS, later)]


async def test_a_shopper_sees_only_her_own_grants_and_her_clubs_offers(hub: Hub) -> None:
    books, shoes = Node(hub, BOOKS), Node(hub, SHOES)
    await books.enrol(ALI, SARA)
    await shoes.enrol(SARA)
    offer, grant, theirs = new_event_id(), new_event_id(), new_event_id()
    await books.send(published(offer, "one_time"), granted(ALI, offer, grant))
    await shoes.send(published(theirs))
    assert await listed(hub, ALI) == [("one_time", BOOKS, grant)]
    assert await listed(hub, SARA) == [("permanent", SHOES, theirs)]
    # A suspended shop's offers are not shown
    await hub.run(lambda s: registry.set_shop_status(s, SHOES, "suspended"))
    assert await listed(hub, SARA) == []


async def test_a_grant_for_no_member_is_accepted_and_not_applied(hub: Hub) -> None:
    books = Node(hub, BOOKS)
    offer, grant = new_event_id(), new_event_id()
    report = await books.send(
        published(offer, "one_time"),
        granted(STRANGER, offer, grant),
        OfferGrantClosed(pseudonym=STRANGER, grant_id=grant, reason="used"),
    )
    assert len(report.accepted) == 3
    assert len(report.ignored) == 2
    assert (await counts(hub))[1:] == (1, 0)
    assert await listed(hub, STRANGER) == []


async def test_a_grant_id_used_for_another_member_refuses_the_batch(hub: Hub) -> None:
    books = Node(hub, BOOKS)
    await books.enrol(ALI, SARA)
    offer, grant = new_event_id(), new_event_id()
    await books.send(published(offer, "one_time"), granted(ALI, offer, grant))
    before = await counts(hub)
    for payload in (
        granted(SARA, offer, grant),
        OfferGrantClosed(pseudonym=SARA, grant_id=grant, reason="used"),
    ):
        batch = books.batch(published(new_event_id()), payload)
        with pytest.raises(intake.RefusedEvent) as refused:
            await books.deliver(batch)
        assert refused.value.code is ProblemCode.INVALID_BATCH
        assert batch[1].event_id in refused.value.message
        books.seq -= 2  # nothing of it was kept: the node sends the numbers again
    assert await counts(hub) == before
    assert await listed(hub, ALI) == [("one_time", BOOKS, grant)]


async def test_the_latest_word_of_the_stream_counts(hub: Hub) -> None:
    # A publication that arrives after a later withdrawal (batches out of order) does not
    # bring the offer back; published again later in the stream, it is live again.
    books = Node(hub, BOOKS)
    await books.enrol(ALI)
    offer = new_event_id()
    early, late = books.batch(published(offer)), books.batch(OfferWithdrawn(offer_id=offer))
    await books.deliver(early)
    await books.deliver(late)
    assert await listed(hub, ALI) == []
    late_change = books.batch(published(offer, name_en="Changed"))
    await books.deliver(late_change)
    assert await listed(hub, ALI) == [("permanent", BOOKS, offer)]


async def test_her_list_is_paged_newest_first_without_gaps_or_repeats(hub: Hub) -> None:
    books, shoes = Node(hub, BOOKS), Node(hub, SHOES)
    await books.enrol(ALI)
    await shoes.enrol(ALI)
    one_time = new_event_id()
    await books.send(published(one_time, "one_time"))
    base = utcnow() - dt.timedelta(hours=1)
    expected = []
    for minute in range(7):
        at = base + dt.timedelta(minutes=minute // 2)  # two items share each moment
        if minute % 2:
            offer = new_event_id()
            await shoes.send(published(offer), at=at)
            expected.append((at, 0, offer))
        else:
            grant = new_event_id()
            await books.send(granted(ALI, one_time, grant), at=at)
            expected.append((at, 1, grant))
    want = [key for _, _, key in sorted(expected, reverse=True)]
    seen: list[str] = []
    after = None
    while True:
        page = await page_of(hub, ALI, 3, after)
        seen += [o.grant_id or o.offer_id for o in page.items]
        if not page.has_more:
            break
        after = page.end_cursor
    assert seen == want
    for bad, field in (("not-a-cursor", "after"), ("e30", "after")):
        with pytest.raises(shopper_offers.OffersError) as refused:
            await page_of(hub, ALI, 3, bad)
        assert (refused.value.code, refused.value.field) == (ProblemCode.INVALID_INPUT, field)
    with pytest.raises(shopper_offers.OffersError, match="between 1 and 100"):
        await page_of(hub, ALI, 101)
