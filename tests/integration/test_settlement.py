"""Settlement at the hub against a real database: periods fed by real captures, closing
once and all-or-nothing, late captures in the next period, statements, the audit, prepaid
funding, breakage and campaign cost sharing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import SettlementItem, SettlementPeriod, ValueRedemption
from hub.domain.value_rules import GENERAL, POOLED
from hub.services import prepaid, settlement, settlement_policy, value
from hub.services.settlement_policy import SettlementError
from mallnet.db import create_engine, engine_scope, session_factory, utcnow
from settlement.clearing import Redemption, clear
from settlement.statements import REDEEMED_HERE, SPENT_ELSEWHERE

from ..conftest import HubDatabases
from .test_network_value import Hub, new_pseudonym, prepare_hub

BOOKS, SHOES, CAFE = "ketab-sara", "kafsh-arya", "kafe-gol"


@pytest.fixture
async def hub(hub_databases: HubDatabases) -> AsyncIterator[Hub]:
    """A hub with the test shops, on SQLite and on PostgreSQL."""
    url = (await hub_databases.new(prepare_hub)).url
    async with engine_scope(url) as engine:
        service = Hub(session_factory(engine))
        yield service
        assert await service.verify() == []


async def spend(hub: Hub, issuer: str, at: str, rial: int, *, kind: str = GENERAL) -> str:
    """Someone holding value of ``issuer`` spends ``rial`` of it at ``at``: one capture,
    matched by its purchase event."""
    who = new_pseudonym()
    await hub.issue(who, kind, rial, issuer=issuer, rate=1)
    held = await hub.hold(at, who, rial)
    await hub.purchase(at, held.hold.id, purchase="R-1")
    return held.hold.id


async def close_now(
    hub: Hub, actor: str = "test:finance", now: dt.datetime | None = None
) -> SettlementPeriod:
    async def work(session: AsyncSession) -> SettlementPeriod:
        period = await settlement.cut(session, actor, now)
        return (await settlement.close(session, period.id, actor, now)).period

    return await hub.run(work)


async def set_policy(hub: Hub, document: dict[str, object]) -> None:
    await hub.run(lambda s: settlement_policy.set_policy(s, document, "test:finance"))


async def test_three_shops_close_to_hand_checked_positions(hub: Hub) -> None:
    """The bookshop's value: 100,000 spent at the shoe shop (2% fee for that pair) and
    50,000 at the café; the shoe shop's 30,000 at the bookshop; the café's 20,000 at the
    shoe shop; the shoe shop's own 5,000 at itself (nobody owes).

    Gross: books owes 150,000, shoes 30,000, café 20,000. Shoes receives 98,000 + 20,000 =
    118,000; café 50,000; books 30,000; the fund keeps 2,000. Net: books pays 120,000, shoes
    receives 88,000, café receives 30,000; -120,000 + 88,000 + 30,000 + 2,000 = 0."""
    await set_policy(hub, {"agreements": [{"issuer": BOOKS, "redeemer": SHOES, "fee_bp": 200}]})
    await spend(hub, BOOKS, SHOES, 100_000)
    await spend(hub, BOOKS, CAFE, 50_000)
    await spend(hub, SHOES, BOOKS, 30_000)
    await spend(hub, CAFE, SHOES, 20_000)
    await spend(hub, SHOES, SHOES, 5_000)

    period = await close_now(hub)

    assert period.status == "closed"
    assert period.captures == 5
    assert period.result is not None
    assert period.result["positions"] == {
        BOOKS: -120_000,
        CAFE: 30_000,
        SHOES: 88_000,
        "fund": 2_000,
    }
    got = await hub.run(lambda s: settlement.instructions(s, period.id))
    assert sorted((i.party, i.direction, i.amount_rial) for i in got) == sorted(
        [(BOOKS, "to_fund", 120_000), (CAFE, "from_fund", 30_000), (SHOES, "from_fund", 88_000)]
    )
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []

    shoes = await hub.run(lambda s: settlement.statement(s, period.id, SHOES))
    assert shoes.position_rial == 88_000
    assert shoes.lines_total_rial == 88_000
    assert shoes.gross_receivable_rial == 120_000
    assert shoes.fees_rial == 2_000
    assert shoes.gross_payable_rial == 30_000
    assert sorted((x.kind, x.issuer, x.redeemer, x.net_rial) for x in shoes.lines) == sorted(
        [
            (REDEEMED_HERE, BOOKS, SHOES, 98_000),
            (REDEEMED_HERE, CAFE, SHOES, 20_000),
            (SPENT_ELSEWHERE, SHOES, BOOKS, -30_000),
        ]
    )
    assert all(x.receipt == "R-1" and x.lot_id and x.hold_id for x in shoes.lines)
    assert [(p.payer, p.payee, p.amount_rial) for p in shoes.payments] == [("fund", SHOES, 88_000)]
    books = await hub.run(lambda s: settlement.statement(s, period.id, BOOKS))
    assert books.position_rial == books.lines_total_rial == -120_000
    assert [(p.payer, p.payee, p.amount_rial) for p in books.payments] == [(BOOKS, "fund", 120_000)]


async def items_per_redemption(hub: Hub) -> dict[int, int]:
    async def work(session: AsyncSession) -> dict[int, int]:
        everything = (await session.scalars(select(ValueRedemption.id))).all()
        settled = (
            await session.execute(
                select(SettlementItem.redemption_id, func.count()).group_by(
                    SettlementItem.redemption_id
                )
            )
        ).all()
        counts = dict.fromkeys(everything, 0)
        counts.update(dict(settled))
        return counts

    return await hub.run(work)


async def test_closing_twice_has_one_effect(hub: Hub) -> None:
    await spend(hub, BOOKS, CAFE, 40_000)
    first = await close_now(hub)

    async def again(session: AsyncSession) -> settlement.Closed:
        return await settlement.close(session, first.id, "test:someone-else")

    replay = await hub.run(again)
    assert replay.replayed
    assert replay.period.closed_by == "test:finance"
    assert replay.period.digest == first.digest
    assert await items_per_redemption(hub) == {1: 1}
    instructions = await hub.run(lambda s: settlement.instructions(s, first.id))
    assert len(instructions) == 2


async def test_a_capture_committed_after_the_close_is_settled_in_the_next_period(
    hub: Hub,
) -> None:
    await spend(hub, BOOKS, CAFE, 10_000)
    first = await close_now(hub)
    await spend(hub, SHOES, CAFE, 7_000)

    # Written before the first period ended, committed after it closed (a slow capture).
    async def backdate(session: AsyncSession) -> None:
        await session.execute(
            update(ValueRedemption)
            .where(ValueRedemption.id == 2)
            .values(created_at=first.ends_at - dt.timedelta(seconds=1))
        )

    await hub.run(backdate)
    second = await close_now(hub)

    assert second.starts_at == first.ends_at
    assert second.result is not None
    assert second.result["positions"] == {SHOES: -7_000, CAFE: 7_000, "fund": 0}
    assert await items_per_redemption(hub) == {1: 1, 2: 1}
    assert await hub.run(lambda s: settlement.verify(s, first.id)) == []
    assert await hub.run(lambda s: settlement.verify(s, second.id)) == []


async def test_a_period_that_has_not_ended_is_not_closed_and_nothing_is_written(
    hub: Hub,
) -> None:
    await spend(hub, BOOKS, CAFE, 10_000)
    period = await hub.run(lambda s: settlement.open_period(s))
    with pytest.raises(SettlementError) as refused:
        await hub.run(lambda s: settlement.close(s, period.id, "test:finance"))
    assert refused.value.code == "PERIOD_NOT_ENDED"
    assert await items_per_redemption(hub) == {1: 0}
    assert (await hub.run(lambda s: settlement.get_period(s, period.id))).status == "open"


async def test_the_beat_sweep_closes_every_ended_period_in_turn(hub: Hub) -> None:
    await spend(hub, BOOKS, CAFE, 10_000)

    async def age(session: AsyncSession) -> None:
        # The network was down for three days: the open period ended long ago.
        period = await settlement.open_period(session)
        period.starts_at -= dt.timedelta(days=3)
        period.ends_at = period.starts_at + dt.timedelta(days=1)
        await session.execute(
            update(ValueRedemption).values(created_at=period.starts_at + dt.timedelta(hours=1))
        )

    await hub.run(age)
    closed = await settlement.close_due(hub.run)
    assert len(closed) == 3  # three whole days behind: each day closed on its own
    periods = await hub.run(lambda s: settlement.periods(s))
    assert [p.status for p in periods] == ["open", "closed", "closed", "closed"]
    assert [p.captures for p in reversed(periods)] == [1, 0, 0, 0]
    assert periods[0].ends_at > utcnow() >= periods[0].starts_at
    assert await settlement.close_due(hub.run) == []


async def test_verify_finds_a_tampered_item_and_a_tampered_result(hub: Hub) -> None:
    await set_policy(hub, {"fee_bp": 100})
    await spend(hub, BOOKS, CAFE, 10_000)
    await spend(hub, SHOES, BOOKS, 3_000)
    period = await close_now(hub)
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []

    async def tamper(session: AsyncSession) -> None:
        await session.execute(
            update(SettlementItem).where(SettlementItem.redemption_id == 1).values(fee_rial=0)
        )

    await hub.run(tamper)
    problems = await hub.run(lambda s: settlement.verify(s, period.id))
    assert problems == [
        "redemption:1: settled as 10000/0 at 100 bp, recomputed 10000/100 at 100 bp"
    ]

    async def tamper_result(session: AsyncSession) -> None:
        row = await session.get(SettlementPeriod, period.id)
        assert row is not None
        assert row.result is not None
        row.result = {**row.result, "fees_rial": 0}

    await hub.run(tamper_result)
    problems = await hub.run(lambda s: settlement.verify(s, period.id))
    assert "fees_rial: stored 0, recomputed 130" in problems
    assert "the stored result does not match its digest" in problems


async def test_a_bad_policy_is_refused_and_writes_nothing(hub: Hub) -> None:
    for document, where in [
        ({"funding": "sometimes"}, "funding"),
        ({"fee_bp": 10_001}, "fee_bp"),
        ({"agreements": [{"fee_bp": 5}]}, "agreements.0"),
        ({"cost_sharing": [{"issuer": "campaign:x", "rule": "equal"}]}, "cost_sharing.0"),
        ({"agreements": [{"issuer": "no-such-shop", "fee_bp": 5}]}, "unknown shops"),
    ]:
        with pytest.raises(SettlementError) as refused:
            await set_policy(hub, document)
        assert refused.value.code == "INVALID_INPUT"
        assert where in refused.value.message
    assert await hub.run(lambda s: settlement_policy.history(s)) == []


# --- Prepaid funding ------------------------------------------------------------------------


async def test_prepaid_issuance_is_refused_when_the_balance_is_exhausted(hub: Hub) -> None:
    await set_policy(hub, {"funding": "prepaid", "when_prepaid_exhausted": "refuse"})
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 25_000, "BANK-1", "test:finance"))
    who = new_pseudonym()
    await hub.issue(who, GENERAL, 20_000, issuer=BOOKS, rate=1)
    with pytest.raises(prepaid.PrepaidExhausted, match="cannot cover 10000 Rial") as refused:
        await hub.issue(who, POOLED, 10, issuer=BOOKS, rate=1_000)  # 10,000 Rial: too much
    assert refused.value.code == "PREPAID_EXHAUSTED"
    assert (await hub.run(prepaid.balances))[BOOKS] == 5_000
    kinds = [m.kind for m in await hub.run(lambda s: prepaid.movements(s, BOOKS))]
    assert kinds == ["issue", "deposit"]  # the refused call wrote nothing

    # A purchase relayed from the node: its network value is not issued, and the refusal
    # is on the shop's prepaid account for the shop and the mall to see.
    await hub.run(
        lambda s: value.set_issuance_policy(s, BOOKS, {"credit_rules": [{"credit_bp": 1_000}]}, "t")
    )
    facts = value.PurchaseFacts(
        total_rial=600_000, paid_with_value_rial=0, points_earned=0, lines=[("books", 600_000)]
    )
    lots = await hub.run(
        lambda s: value.issue_for_purchase(s, BOOKS, "E1", "B-9", who, facts, utcnow())
    )
    assert lots == []
    moves = await hub.run(lambda s: prepaid.movements(s, BOOKS))
    assert next((m.kind, m.amount_rial, m.requested_rial) for m in moves) == ("refused", 0, 60_000)
    # The same bank reference again is the same deposit; another amount is a conflict.
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 25_000, "BANK-1", "test:finance"))
    with pytest.raises(SettlementError) as conflict:
        await hub.run(lambda s: prepaid.deposit(s, BOOKS, 1, "BANK-1", "test:finance"))
    assert conflict.value.code == "IDEMPOTENCY_CONFLICT"
    assert (await hub.run(prepaid.balances))[BOOKS] == 5_000
    assert await hub.run(prepaid.verify) == []


async def test_prepaid_flagged_issuance_goes_below_zero_and_the_close_asks_for_a_top_up(
    hub: Hub,
) -> None:
    await set_policy(hub, {"funding": "prepaid", "when_prepaid_exhausted": "flag"})
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 30_000, "BANK-7", "test:finance"))
    await spend(hub, BOOKS, CAFE, 50_000)  # issued 50,000 against 30,000 paid in
    await spend(hub, CAFE, BOOKS, 5_000)  # the café had paid nothing: flagged too
    moves = await hub.run(lambda s: prepaid.movements(s, BOOKS))
    assert [(m.kind, m.flagged) for m in moves] == [("issue", True), ("deposit", False)]
    assert await hub.run(prepaid.balances) == {BOOKS: -20_000, CAFE: -5_000}

    period = await close_now(hub)
    got = await hub.run(lambda s: settlement.instructions(s, period.id))
    # Prepaid: the issuers' value was paid for at issuance, so the fund pays each redeemer;
    # what each issued beyond its balance is a top-up it pays in.
    assert sorted((i.party, i.direction, i.amount_rial, i.kind) for i in got) == sorted(
        [
            (CAFE, "from_fund", 50_000, "settlement"),
            (BOOKS, "from_fund", 5_000, "settlement"),
            (BOOKS, "to_fund", 20_000, "prepaid_topup"),
            (CAFE, "to_fund", 5_000, "prepaid_topup"),
        ]
    )
    cafe = await hub.run(lambda s: settlement.statement(s, period.id, CAFE))
    assert cafe.covered_by_prepayment_rial == 5_000
    assert cafe.position_rial == cafe.lines_total_rial == 45_000
    assert [(p.payer, p.amount_rial, p.kind) for p in cafe.payments if p.payer == CAFE] == [
        (CAFE, 5_000, "prepaid_topup")
    ]
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []
    # Once the bookshop pays its top-up in, the next close asks it for nothing.
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 20_000, "BANK-8", "test:finance"))
    later = await close_now(hub)
    again = await hub.run(lambda s: settlement.instructions(s, later.id))
    assert [(i.party, i.amount_rial, i.kind) for i in again] == [(CAFE, 5_000, "prepaid_topup")]


async def test_prepaid_breakage_returns_to_the_issuer_at_close(hub: Hub) -> None:
    await set_policy(hub, {"funding": "prepaid", "breakage": "issuer"})
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 10_000, "BANK-2", "test:finance"))
    soon = utcnow() + dt.timedelta(seconds=1)
    await hub.issue(new_pseudonym(), GENERAL, 4_000, issuer=BOOKS, rate=1, expires_at=soon)
    assert (await hub.run(prepaid.balances))[BOOKS] == 6_000
    assert await hub.run(lambda s: value.expire_lots(s, soon + dt.timedelta(seconds=1))) == 1

    period = await close_now(hub, now=soon + dt.timedelta(seconds=2))
    assert period.result is not None
    assert period.result["breakage_to_issuer"] == {BOOKS: 4_000}
    assert (await hub.run(prepaid.balances))[BOOKS] == 10_000
    replay = await hub.run(lambda s: settlement.close(s, period.id, "test:finance", soon))
    assert replay.replayed
    assert (await hub.run(prepaid.balances))[BOOKS] == 10_000
    assert await hub.run(prepaid.verify) == []


async def test_postpaid_breakage_to_the_fund_is_billed_to_the_issuer(hub: Hub) -> None:
    await set_policy(hub, {"breakage": "fund"})
    soon = utcnow() + dt.timedelta(seconds=1)
    await hub.issue(new_pseudonym(), POOLED, 3, issuer=SHOES, rate=1_000, expires_at=soon)
    await hub.run(lambda s: value.expire_lots(s, soon + dt.timedelta(seconds=1)))

    period = await close_now(hub, now=soon + dt.timedelta(seconds=2))
    assert period.result is not None
    assert period.result["positions"] == {SHOES: -3_000, "fund": 3_000}
    shoes = await hub.run(lambda s: settlement.statement(s, period.id, SHOES))
    assert [(x.kind, x.net_rial) for x in shoes.lines] == [("breakage", -3_000)]
    assert [(p.payer, p.amount_rial) for p in shoes.payments] == [(SHOES, 3_000)]
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []


# --- Joint campaigns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "shares"),
    [
        # Ties of the remainder go to the first slug in order: kafe-gol.
        ("equal", {BOOKS: -33_333, SHOES: -33_333, CAFE: -33_334}),
        # Sales 300,000 / 100,000 / 0 in the period (below): 3 to 1 to nothing.
        ("sales_share", {BOOKS: -75_000, SHOES: -25_000}),
        ("mall", {"mall": -100_000}),
    ],
)
async def test_a_campaigns_value_is_paid_by_its_participants_by_the_declared_rule(
    hub: Hub, rule: str, shares: dict[str, int]
) -> None:
    participants = [BOOKS, SHOES, CAFE]
    await set_policy(
        hub,
        {
            "cost_sharing": [
                {
                    "issuer": "campaign:yalda",
                    "rule": rule,
                    "shops": [] if rule == "mall" else participants,
                }
            ]
        },
    )

    async def sell(session: AsyncSession) -> None:
        from hub.services import sales

        await sales.record(session, BOOKS, utcnow(), 300_000, 1)
        await sales.record(session, SHOES, utcnow(), 100_000, 1)

    await hub.run(sell)
    await spend(hub, "campaign:yalda", CAFE, 100_000)

    period = await close_now(hub)
    assert period.result is not None
    positions = period.result["positions"]
    assert positions.pop(CAFE) == 100_000 + shares.get(CAFE, 0)
    assert positions.pop("fund") == 0
    assert positions == {k: v for k, v in shares.items() if k != CAFE}
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []
    if rule == "mall":
        got = await hub.run(lambda s: settlement.instructions(s, period.id))
        assert ("mall", "to_fund", 100_000, "sponsorship") in [
            (i.party, i.direction, i.amount_rial, i.kind) for i in got
        ]
    else:
        books = await hub.run(lambda s: settlement.statement(s, period.id, BOOKS))
        assert [(x.kind, x.ref, x.net_rial) for x in books.lines] == [
            ("campaign_share", "campaign:yalda", shares[BOOKS])
        ]


# --- The property: whatever happens between closes, every capture settles exactly once --------

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("spend"),
            st.sampled_from([BOOKS, SHOES, CAFE]),
            st.sampled_from([BOOKS, SHOES, CAFE]),
            st.integers(1, 10**7),
        ),
        st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 10**7)),
        st.tuples(st.just("late"), st.integers(0, 20)),
        st.just(("close",)),
    ),
    min_size=1,
    max_size=14,
)


async def _scenario(url: str, steps: list[tuple[Any, ...]]) -> None:
    engine = create_engine(url)
    try:
        hub = Hub(session_factory(engine))
        holds: list[tuple[str, str]] = []
        for step in steps:
            if step[0] == "spend":
                holds.append((step[2], await spend(hub, step[1], step[2], step[3])))
            elif step[0] == "refund" and holds:
                shop, hold_id = holds[step[1] % len(holds)]
                await hub.refund(shop, hold_id, step[2], hub.key("refund"))
            elif step[0] == "late":
                await _commit_late(hub, step[1])
            elif step[0] == "close":
                await close_now(hub)
        await close_now(hub)
        await _check_settled_once(hub)
    finally:
        await engine.dispose()


async def _commit_late(hub: Hub, pick: int) -> None:
    """The newest capture turns out to have been written before the last close ended its
    period (a capture that committed late)."""

    async def work(session: AsyncSession) -> None:
        last_closed = await session.scalar(
            select(SettlementPeriod.ends_at)
            .where(SettlementPeriod.status == "closed")
            .order_by(SettlementPeriod.ends_at.desc())
            .limit(1)
        )
        unsettled = (
            await session.scalars(
                select(ValueRedemption.id)
                .outerjoin(SettlementItem, SettlementItem.redemption_id == ValueRedemption.id)
                .where(SettlementItem.redemption_id.is_(None))
                .order_by(ValueRedemption.id)
            )
        ).all()
        if last_closed is None or not unsettled:
            return
        await session.execute(
            update(ValueRedemption)
            .where(ValueRedemption.id == unsettled[pick % len(unsettled)])
            .values(created_at=last_closed - dt.timedelta(seconds=1))
        )

    await hub.run(work)


async def _check_settled_once(hub: Hub) -> None:
    counts = await items_per_redemption(hub)
    assert set(counts.values()) <= {1}, counts
    closed = [
        p for p in await hub.run(lambda s: settlement.periods(s, 500)) if p.status == "closed"
    ]
    totals: dict[str, int] = {}
    for period in closed:
        assert await hub.run(lambda s, p=period: settlement.verify(s, p.id)) == [], period.id
        assert period.result is not None
        assert sum(period.result["positions"].values()) == 0
        for party, amount in period.result["positions"].items():
            totals[party] = totals.get(party, 0) + amount

    # All periods together say what one clearing of every capture says.
    async def everything(session: AsyncSession) -> list[Redemption]:
        rows = await session.execute(
            select(
                ValueRedemption.id,
                ValueRedemption.issuer_shop,
                ValueRedemption.redeemer_shop,
                ValueRedemption.amount_rial,
                ValueRedemption.hold_id,
                ValueRedemption.lot_id,
            ).order_by(ValueRedemption.id)
        )
        so_far: dict[tuple[str, int], int] = {}
        lines = []
        for i, a, b, amount, hold_id, lot_id in rows.all():
            prior = so_far.get((hold_id, lot_id), 0) if amount < 0 else 0
            lines.append(Redemption(f"r{i}", a, b, amount, FEE_BP, prior))
            so_far[(hold_id, lot_id)] = so_far.get((hold_id, lot_id), 0) + amount
        return lines

    once = clear(await hub.run(everything))
    assert {k: v for k, v in totals.items() if v} == {k: v for k, v in once.positions.items() if v}


FEE_BP = 150


async def _hub_with_a_fee(url: str) -> None:
    """The template of the property test's hubs: the test shops and a 1.5% fee."""
    await prepare_hub(url)
    async with engine_scope(url) as engine:
        await Hub(session_factory(engine)).run(
            lambda s: settlement_policy.set_policy(s, {"fee_bp": FEE_BP}, "test")
        )


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
# One Rial at a 1.5% fee: the redeeming shop receives nothing and the fund keeps the Rial.
@example(steps=[("spend", BOOKS, SHOES, 1)])
# Refunded in halves: the fee comes back cumulatively, so nothing is left over.
@example(steps=[("spend", BOOKS, SHOES, 2), ("close",), ("refund", 0, 1), ("refund", 0, 1)])
def test_every_capture_is_settled_exactly_once_across_periods(
    hub_databases: HubDatabases, steps: list[tuple[Any, ...]]
) -> None:
    """A fresh hub per example: spends, partial refunds, captures that commit after a
    close, and closes in any order; then every capture sits in exactly one closed period,
    each period recomputes to what it stored, and the periods add up to a single clearing
    of everything."""

    async def run() -> None:
        url = (await hub_databases.new(_hub_with_a_fee)).url
        try:
            await _scenario(url, steps)
        finally:
            await hub_databases.drop(url)

    asyncio.run(run())


# --- Corrections ------------------------------------------------------------------------------


async def test_a_correction_is_booked_once_by_the_next_close_and_never_edits_the_closed_one(
    hub: Hub,
) -> None:
    await spend(hub, BOOKS, CAFE, 10_000)
    first = await close_now(hub)
    journal = await hub.run(lambda s: settlement.journal(s, first.id))
    pair = next(entry for entry, _lines in journal if entry.ref == f"{BOOKS}>{CAFE}")

    # Finance finds the café was owed 1,500 more for that pair (a fee agreed too late).
    data = settlement.CorrectionInput(
        party=CAFE,
        amount_rial=1_500,
        reason="fee of 1,500 agreed after the close",
        idempotency_key="corr-1",
        corrects_entry_id=pair.id,
    )
    row, replayed = await hub.run(lambda s: settlement.post_correction(s, data, "test:finance"))
    assert not replayed
    again, replayed = await hub.run(lambda s: settlement.post_correction(s, data, "test:finance"))
    assert (again.id, replayed) == (row.id, True)
    other = settlement.CorrectionInput(CAFE, 2_000, "another", "corr-1")
    with pytest.raises(SettlementError) as conflict:
        await hub.run(lambda s: settlement.post_correction(s, other, "test:finance"))
    assert conflict.value.code == "IDEMPOTENCY_CONFLICT"
    for bad, field in [
        (settlement.CorrectionInput(CAFE, 0, "zero", "corr-2"), "amountRial"),
        (settlement.CorrectionInput(CAFE, 5, "  ", "corr-3"), "reason"),
        (settlement.CorrectionInput("nobody-here", 5, "who?", "corr-4"), "party"),
        (
            settlement.CorrectionInput(CAFE, 5, "which?", "corr-5", corrects_entry_id=999),
            "correctsEntryId",
        ),
    ]:
        with pytest.raises(SettlementError) as refused:
            await hub.run(lambda s, b=bad: settlement.post_correction(s, b, "test:finance"))
        assert refused.value.field == field

    second = await close_now(hub)
    assert second.result is not None
    assert second.result["positions"] == {CAFE: 1_500, "fund": -1_500}
    booked = [e for e, _ in await hub.run(lambda s: settlement.journal(s, second.id))]
    assert [(e.ref, e.kind, e.corrects_entry_id) for e in booked if e.kind == "correction"] == [
        (f"correction:{row.id}", "correction", pair.id)
    ]
    cafe = await hub.run(lambda s: settlement.statement(s, second.id, CAFE))
    assert [(x.kind, x.net_rial, x.memo) for x in cafe.lines] == [
        ("correction", 1_500, "fee of 1,500 agreed after the close")
    ]
    assert await hub.run(lambda s: settlement.verify(s, second.id)) == []
    # The first period is as it was; a third close books nothing again.
    assert await hub.run(lambda s: settlement.verify(s, first.id)) == []
    third = await close_now(hub)
    assert third.result is not None
    assert third.result["positions"] == {"fund": 0}


# --- What a lot was paid with decides how it settles, whatever the policy says later ----------


async def test_value_issued_before_a_switch_to_prepaid_is_still_billed(hub: Hub) -> None:
    await spend(hub, BOOKS, CAFE, 10_000)  # postpaid: nothing drawn at issuance
    await set_policy(hub, {"funding": "prepaid"})
    period = await close_now(hub)
    got = await hub.run(lambda s: settlement.instructions(s, period.id))
    assert sorted((i.party, i.direction, i.amount_rial) for i in got) == sorted(
        [(CAFE, "from_fund", 10_000), (BOOKS, "to_fund", 10_000)]
    )
    assert await hub.run(prepaid.balances) == {}
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []


async def test_value_paid_in_advance_is_not_billed_again_after_a_switch_to_postpaid(
    hub: Hub,
) -> None:
    await set_policy(hub, {"funding": "prepaid"})
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 10_000, "BANK-3", "test:finance"))
    await spend(hub, BOOKS, CAFE, 10_000)
    await set_policy(hub, {"funding": "postpaid"})
    period = await close_now(hub)
    got = await hub.run(lambda s: settlement.instructions(s, period.id))
    assert [(i.party, i.direction, i.amount_rial) for i in got] == [(CAFE, "from_fund", 10_000)]
    assert await hub.run(prepaid.balances) == {BOOKS: 0}
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []


async def test_value_paid_in_advance_and_spent_at_its_own_shop_goes_back_to_the_prepayment(
    hub: Hub,
) -> None:
    await set_policy(hub, {"funding": "prepaid"})
    await hub.run(lambda s: prepaid.deposit(s, BOOKS, 10_000, "BANK-4", "test:finance"))
    await spend(hub, BOOKS, BOOKS, 10_000)
    assert await hub.run(prepaid.balances) == {BOOKS: 0}
    period = await close_now(hub)
    assert period.result is not None
    assert period.result["own_spent"] == {BOOKS: 10_000}
    assert await hub.run(prepaid.balances) == {BOOKS: 10_000}
    again = await hub.run(lambda s: settlement.close(s, period.id, "test:finance"))
    assert again.replayed
    assert await hub.run(prepaid.balances) == {BOOKS: 10_000}
    assert await hub.run(prepaid.verify) == []


async def test_a_refund_after_a_fee_change_reverses_the_fee_its_capture_paid(hub: Hub) -> None:
    hold_id = await spend(hub, BOOKS, CAFE, 10_000)  # at face value
    first = await close_now(hub)
    await set_policy(hub, {"fee_bp": 1_000})
    await hub.refund(CAFE, hold_id, 10_000, "refund-1")
    second = await close_now(hub)
    totals: dict[str, int] = {}
    for period in (first, second):
        assert period.result is not None
        for party, amount in period.result["positions"].items():
            totals[party] = totals.get(party, 0) + amount
        assert await hub.run(lambda s, p=period: settlement.verify(s, p.id)) == []
    assert totals == {BOOKS: 0, CAFE: 0, "fund": 0}


async def test_verify_finds_tampered_payment_instructions_and_sales(hub: Hub) -> None:
    await set_policy(
        hub,
        {
            "cost_sharing": [
                {"issuer": "campaign:nowruz", "rule": "sales_share", "shops": [BOOKS, SHOES]}
            ]
        },
    )

    async def sell(session: AsyncSession) -> None:
        from hub.services import sales

        await sales.record(session, BOOKS, utcnow(), 100_000, 1)
        await sales.record(session, SHOES, utcnow(), 300_000, 1)

    await hub.run(sell)
    await spend(hub, "campaign:nowruz", CAFE, 40_000)
    period = await close_now(hub)
    assert period.result is not None
    assert period.result["campaign_shares"] == {"campaign:nowruz": {BOOKS: 10_000, SHOES: 30_000}}
    assert await hub.run(lambda s: settlement.verify(s, period.id)) == []

    async def tamper(session: AsyncSession) -> None:
        # Same total moved: only a per-row comparison sees it.
        rows = await settlement.instructions(session, period.id)
        by_party = {r.party: r for r in rows}
        by_party[BOOKS].amount_rial += 5_000
        by_party[SHOES].amount_rial -= 5_000

    await hub.run(tamper)
    problems = await hub.run(lambda s: settlement.verify(s, period.id))
    assert any(p.startswith("payment instructions: stored") for p in problems)

    async def resell(session: AsyncSession) -> None:
        from hub.services import sales

        await sales.record(session, BOOKS, utcnow(), 900_000, 1)

    await hub.run(resell)
    problems = await hub.run(lambda s: settlement.verify(s, period.id))
    assert any(p.startswith("sales_rial: stored") for p in problems)


async def test_a_day_of_sales_counts_in_the_period_its_midnight_falls_in(hub: Hub) -> None:
    from hub.services import sales
    from settlement.periods import TEHRAN

    midnight = dt.datetime(2026, 12, 1, tzinfo=TEHRAN)
    next_midnight = midnight + dt.timedelta(days=1)

    async def sell(session: AsyncSession) -> None:
        await sales.record(session, BOOKS, midnight + dt.timedelta(hours=10), 100, 1)
        await sales.record(session, BOOKS, next_midnight + dt.timedelta(hours=10), 7, 1)

    await hub.run(sell)
    noon = midnight + dt.timedelta(hours=12)
    # A day cut at noon: the morning's period has the day, the afternoon's does not.
    assert await hub.run(lambda s: sales.between(s, midnight, noon)) == {BOOKS: 100}
    assert await hub.run(lambda s: sales.between(s, noon, next_midnight)) == {}
    assert await hub.run(
        lambda s: sales.between(s, noon, next_midnight + dt.timedelta(hours=1))
    ) == {BOOKS: 7}
