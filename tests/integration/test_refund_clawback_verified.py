"""A refund takes back what its purchase issued by the hub's own figures (issue 14,
intake verifies): the purchase's total as the hub received it, and the running sum of
what the hub has already seen refunded of that receipt. The node's
``purchase_total_rial`` and ``refunded_before_rial`` are not believed: a node that
inflated them would make a full refund take back almost nothing, and the shopper would
keep pooled points and campaign rewards other shops paid for."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import PurchaseRefunded
from hub.db.models import ValueLot
from hub.domain.value_rules import POOLED
from hub.services import intake, value
from mallnet.db import engine_scope, session_factory
from mallnet.secrets_store import pseudonym

from ..conftest import HubDatabases
from .test_intake_verifies import (
    ALI,
    BOOKS,
    KEY,
    _batch,
    _ingest,
    _issued,
    _policy_and_campaign,
    _purchase,
)
from .test_network_value import Hub, prepare_hub


@pytest.fixture
async def hub(hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    """A hub with the test shops, on SQLite and on PostgreSQL."""
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        service = Hub(session_factory(engine))
        yield service
        assert await service.verify() == []


def _refund(
    receipt: str, refund_id: str, amount: int, *, total: int, before: int
) -> PurchaseRefunded:
    return PurchaseRefunded(
        receipt_id=receipt,
        refund_id=refund_id,
        pseudonym=pseudonym(KEY, ALI),
        amount_rial=amount,
        purchase_total_rial=total,
        refunded_before_rial=before,
    )


async def _remaining(hub: Hub, receipt: str) -> dict[str, int]:
    """What is left of each issuer's lots of the receipt."""

    async def read(session: AsyncSession) -> dict[str, int]:
        rows = await session.scalars(
            select(ValueLot).where(ValueLot.origin == value.purchase_origin(BOOKS, receipt))
        )
        found: dict[str, int] = {}
        for lot in rows:
            found[lot.issuer_shop] = found.get(lot.issuer_shop, 0) + lot.remaining
        return found

    return await hub.run(read)


async def _bought(hub: Hub) -> str:
    """A purchase of 1,000,000 Rial (100 club points): 50 pooled points from the
    bookshop and 50 more from the campaign, all available."""
    campaign = await _policy_and_campaign(hub)
    await _ingest(hub, BOOKS, _batch(BOOKS, [_purchase("R-1", ALI, 1_000_000, 100)]))
    assert await _issued(hub, "R-1") == {BOOKS: 50, f"campaign:{campaign}": 50}
    assert await _remaining(hub, "R-1") == {BOOKS: 50, f"campaign:{campaign}": 50}
    return campaign


async def test_a_full_refund_with_an_inflated_total_takes_it_all_back(hub: Hub) -> None:
    campaign = await _bought(hub)
    # When the node refunds all 1,000,000 Rial but says the purchase was 10^12 Rial
    inflated = _refund("R-1", "F-1", 1_000_000, total=10**12, before=0)
    await _ingest(hub, BOOKS, _batch(BOOKS, [inflated], 2))
    # Then the hub takes back all of it by its own record of the purchase: nothing of the
    # shop's pooled points or of the campaign's reward stays with the shopper
    assert await _remaining(hub, "R-1") == {BOOKS: 0, f"campaign:{campaign}": 0}


@pytest.mark.parametrize("reported_before", [0, 10**12])
async def test_two_partial_refunds_take_it_all_back_whatever_the_node_says_was_refunded(
    hub: Hub,
    reported_before: int,
) -> None:
    campaign = await _bought(hub)
    # When two refunds, 399,999 and 600,001 Rial, make up the whole purchase, each telling
    # the hub that nothing (or 10^12 Rial) was refunded before it
    first = _refund("R-1", "F-1", 399_999, total=1_000_000, before=0)
    await _ingest(hub, BOOKS, _batch(BOOKS, [first], 2))
    # (the first takes its share, rounded down: 19 of 50)
    assert await _remaining(hub, "R-1") == {BOOKS: 31, f"campaign:{campaign}": 31}
    second = _refund("R-1", "F-2", 600_001, total=1_000_000, before=reported_before)
    await _ingest(hub, BOOKS, _batch(BOOKS, [second], 3))
    # Then the hub counts what it saw refunded itself, and the two take back all of it
    assert await _remaining(hub, "R-1") == {BOOKS: 0, f"campaign:{campaign}": 0}


async def test_refunds_beyond_the_purchase_take_nothing_more(
    hub: Hub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    campaign = await _bought(hub)
    await _ingest(hub, BOOKS, _batch(BOOKS, [_refund("R-1", "F-1", 500_000, total=0, before=0)], 2))
    assert await _remaining(hub, "R-1") == {BOOKS: 25, f"campaign:{campaign}": 25}
    # A refund of more than is left of the purchase takes what is left, and says so
    with caplog.at_level("WARNING", logger="hub.services.value.issuance"):
        too_much = _refund("R-1", "F-2", 900_000, total=0, before=0)
        await _ingest(hub, BOOKS, _batch(BOOKS, [too_much], 3))
    assert await _remaining(hub, "R-1") == {BOOKS: 0, f"campaign:{campaign}": 0}
    assert [r.getMessage() for r in caplog.records] == [
        "refund F-2 of R-1 at ketab-sara: 900,000 Rial refunded of 500,000 left of its"
        " 1,000,000 Rial; what it issued is all taken back"
    ]


async def test_a_refund_of_a_purchase_the_hub_never_received_takes_it_all_back(
    hub: Hub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given value under a receipt whose purchase event the hub never took in (issued before
    # the hub recorded purchase totals, or its event set aside)
    ali = pseudonym(KEY, ALI)
    lot = await hub.issue(
        ali, POOLED, 40, issuer=BOOKS, rate=1_000, origin="receipt:ketab-sara:R-9"
    )
    # When the node refunds a part of it, claiming a huge total
    with caplog.at_level("WARNING", logger="hub.services.value.issuance"):
        await _ingest(
            hub, BOOKS, _batch(BOOKS, [_refund("R-9", "F-9", 1_000, total=10**12, before=0)])
        )
    # Then the hub has no figure of its own to take a share by: it takes it all back
    assert (await hub.lot(lot.id)).remaining == 0
    assert [r.getMessage() for r in caplog.records] == [
        "refund F-9 of R-9 at ketab-sara: the hub received no total for that purchase;"
        " what it issued is all taken back"
    ]


async def test_a_refund_id_used_again_by_another_event_is_refused(hub: Hub) -> None:
    campaign = await _bought(hub)
    # Given a refund of 1 Rial (it takes back nothing, rounded down)
    await _ingest(hub, BOOKS, _batch(BOOKS, [_refund("R-1", "F-1", 1, total=0, before=0)], 2))
    # When another event names the same refund id for the rest of the purchase
    again = _refund("R-1", "F-1", 999_999, total=0, before=0)
    with pytest.raises(intake.RefusedEvent, match="refund id F-1 was already used"):
        await _ingest(hub, BOOKS, _batch(BOOKS, [again], 3))
    # Then it is refused (set aside by the node's relay), and nothing of it is applied
    assert await _remaining(hub, "R-1") == {BOOKS: 50, f"campaign:{campaign}": 50}


async def test_a_second_purchase_event_under_the_same_receipt_is_refused(hub: Hub) -> None:
    campaign = await _bought(hub)
    # When another purchase event names the same receipt with a huge total (it would
    # dilute every refund's share of what the first issued)
    inflating = _purchase("R-1", ALI, 10**12, 0)
    with pytest.raises(intake.RefusedEvent, match="receipt R-1 was already recorded"):
        await _ingest(hub, BOOKS, _batch(BOOKS, [inflating], 2))
    # Then it is refused, and a full refund still takes it all back
    await _ingest(
        hub, BOOKS, _batch(BOOKS, [_refund("R-1", "F-1", 1_000_000, total=0, before=0)], 2)
    )
    assert await _remaining(hub, "R-1") == {BOOKS: 0, f"campaign:{campaign}": 0}
