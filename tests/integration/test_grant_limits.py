"""The limits around redemption grants over time, on SQLite and PostgreSQL hubs (review of
the grants, findings 1, 3 and 5; the attacks over HTTP are in test_redemption_grants.py):
a shop's budget of wrong codes and its lock, the daily cap of texts per shop, the rate of
hasNetworkValue per shop, and a PIN's lockout that doubles instead of starting over."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.authentication import AuthCredentials

from hub.api.schema import schema as hub_schema
from hub.db.models import Membership, RedemptionShopGuard
from hub.domain.problems import ProblemCode, Refusal
from hub.services import abuse, grants, registry, value
from mallnet.auth import Principal
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import upgrade
from mallnet.scopes import Scope
from mallnet.secrets_store import pseudonym

from ..conftest import HubDatabases

T = TypeVar("T")
BOOKS, SHOES = "ketab-sara", "kafsh-arya"
KEY = b"grant-limits-network-key-32bytes"
ALI = pseudonym(KEY, "+989121234567")
PIN = "2580"
HAS_VALUE = "query($p: String!) { hasNetworkValue(pseudonym: $p) }"
FAILURES = """{ redemptionCodeFailures { shop failuresTotal lockouts lockedUntil
  lastFailureAt } }"""
Run = Callable[[Callable[[AsyncSession], Awaitable[T]]], Awaitable[T]]


async def _two_shops(url: str) -> None:
    await upgrade("hub", url)
    async with engine_scope(url) as engine, session_factory(engine)() as session:
        for slug in (BOOKS, SHOES):
            async with session.begin():
                await registry.register_shop(session, registry.ShopInput(slug, slug, slug, "books"))


@pytest.fixture
async def sessions(hub_databases: HubDatabases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = (await hub_databases.new(_two_shops)).url
    async with engine_scope(url) as engine:
        yield session_factory(engine)


def _runner(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with sessions() as session, session.begin():
            return await work(session)

    return run


async def _give(run: Any, who: str, key: str) -> None:
    await run(
        lambda s: value.issue(
            s,
            value.IssueInput(
                pseudonym=who,
                kind="general_credit",
                issuer=SHOES,
                amount=300_000,
                expires_at=utcnow() + dt.timedelta(days=30),
                reason="test",
                origin="test",
                key=key,
            ),
        )
    )


def _hold(n: int) -> value.HoldInput:
    return value.HoldInput(
        pseudonym=ALI, amount_rial=10_000, purchase_ref=f"R-{n}", idempotency_key=f"K-{n}"
    )


async def _guard(run: Any, shop: str) -> RedemptionShopGuard | None:
    found: RedemptionShopGuard | None = await run(
        lambda s: s.scalar(select(RedemptionShopGuard).where(RedemptionShopGuard.shop == shop))
    )
    return found


class _Request:
    def __init__(self, user: Principal) -> None:
        self.auth = AuthCredentials(sorted(user.scopes))
        self.user = user


def _node(shop: str) -> Principal:
    return Principal(f"node:{shop}", f"node-{shop}", frozenset({Scope.NODE_FEDERATE}), shop)


MALL_REPORTS = Principal("user:reports", "console", frozenset({Scope.MALL_REPORTS}))


async def _execute(
    sessions: async_sessionmaker[AsyncSession], user: Principal, document: str, **variables: Any
) -> Any:
    state = SimpleNamespace(sessions=sessions, settings=Settings(network_key="grant-limits"))
    context = {"request": _Request(user), "state": state}
    return await hub_schema.execute(document, variable_values=variables, context_value=context)


async def test_a_shops_wrong_codes_are_budgeted_per_hour_then_locked(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    run = _runner(sessions)
    await _give(run, ALI, "lot-ali")
    start = utcnow() - dt.timedelta(hours=3)
    grant = await run(lambda s: grants.grant_for_tools(s, ALI, now=start))
    wrong = f"{(int(grant.code) + 1) % 10**8:08d}"

    # Under the budget, spread over an hour, a wrong code is only refused.
    for n in range(grants.SHOP_FAILURES - 1):
        at = start + dt.timedelta(minutes=n)
        refused = await run(
            lambda s, n=n, at=at: grants.hold_with_grant(s, BOOKS, _hold(n), wrong, at)
        )
        assert isinstance(refused, Refusal)
        assert refused.error.code is ProblemCode.GRANT_INVALID
    # The budget's last wrong code locks the shop, and says so in the log.
    at = start + dt.timedelta(minutes=30)
    with caplog.at_level("WARNING", logger="hub.services.grants"):
        refused = await run(lambda s: grants.hold_with_grant(s, BOOKS, _hold(99), wrong, at))
    assert isinstance(refused, Refusal)
    assert [r.levelname for r in caplog.records if BOOKS in r.getMessage()] == ["WARNING"]
    # Locked: the right code too, until the lock ends; the other shop is not.
    later = at + grants.SHOP_LOCK - dt.timedelta(seconds=1)
    with pytest.raises(grants.GrantError, match="too many wrong redemption codes") as locked:
        await run(lambda s: grants.hold_with_grant(s, BOOKS, _hold(100), grant.code, later))
    assert locked.value.code is ProblemCode.TOO_MANY_ATTEMPTS
    guard = await _guard(run, BOOKS)
    assert guard is not None
    assert (guard.failures_total, guard.lockouts) == (grants.SHOP_FAILURES, 1)
    assert guard.locked_until == at + grants.SHOP_LOCK
    assert await _guard(run, SHOES) is None

    # Mall management sees it; a node does not.
    seen = await _execute(sessions, MALL_REPORTS, FAILURES)
    assert seen.errors is None, seen.errors
    assert seen.data == {
        "redemptionCodeFailures": [
            {
                "shop": BOOKS,
                "failuresTotal": grants.SHOP_FAILURES,
                "lockouts": 1,
                "lockedUntil": (at + grants.SHOP_LOCK).isoformat(),
                "lastFailureAt": at.isoformat(),
            }
        ]
    }
    hidden = await _execute(sessions, _node(BOOKS), FAILURES)
    assert hidden.errors is not None
    assert "scope" in hidden.errors[0].message.lower()

    # After the lock the shop's codes are heard again, with a fresh budget.
    fresh = await run(lambda s: grants.grant_for_tools(s, ALI))
    held = await run(lambda s: grants.hold_with_grant(s, BOOKS, _hold(101), fresh.code))
    assert isinstance(held, value.HoldOutcome)


async def test_a_shop_texts_at_most_its_daily_cap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = _runner(sessions)
    limits = abuse.Limits.in_memory()  # the hub's SMS budget (1,000 an hour) is not reached
    start = utcnow() - dt.timedelta(hours=12)
    # Within every ten minutes' limit (and three codes per shopper), all day long.
    for n in range(grants.SMS_PER_SHOP_DAY):
        at = start + dt.timedelta(minutes=11 * (n // grants.SMS_PER_SHOP))
        phone = f"+98912{n:07d}"
        await run(
            lambda s, phone=phone, at=at: grants.text_code(
                s, KEY, BOOKS, phone, pseudonym(KEY, phone), now=at, limits=limits
            )
        )
    phone = "+989129999999"
    with pytest.raises(grants.GrantError, match="today") as capped:
        await run(
            lambda s: grants.text_code(s, KEY, BOOKS, phone, pseudonym(KEY, phone), limits=limits)
        )
    assert capped.value.code is ProblemCode.RATE_LIMITED
    # Another shop's texts are its own.
    sent = await run(
        lambda s: grants.text_code(s, KEY, SHOES, phone, pseudonym(KEY, phone), limits=limits)
    )
    assert isinstance(sent, grants.TextedCode)


async def test_has_network_value_is_rate_limited_per_shop(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    run = _runner(sessions)
    await _give(run, ALI, "lot-ali")
    await run(lambda s: _join(s, ALI, BOOKS))
    asked = [
        await _execute(sessions, _node(BOOKS), HAS_VALUE, p=ALI)
        for _ in range(grants.LOOKUPS_PER_SHOP)
    ]
    assert {(a.errors, a.data["hasNetworkValue"]) for a in asked} == {(None, True)}
    too_many = await _execute(sessions, _node(BOOKS), HAS_VALUE, p=ALI)
    assert too_many.errors is not None
    assert too_many.errors[0].extensions == {"code": "RATE_LIMITED"}
    assert "try again" in too_many.errors[0].message
    # The other shop asks as before (she is not its member: no).
    other = await _execute(sessions, _node(SHOES), HAS_VALUE, p=ALI)
    assert (other.errors, other.data) == (None, {"hasNetworkValue": False})
    # The window passes: the bookshop is answered again.
    later = utcnow() + grants.LOOKUP_WINDOW
    assert await run(lambda s: grants.has_value_here(s, BOOKS, ALI, later)) is True


async def _join(session: AsyncSession, who: str, shop: str) -> None:
    session.add(Membership(pseudonym=who, shop=shop, joined_at=utcnow()))


async def test_a_pin_lockout_doubles_instead_of_starting_over(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Review of the grants, finding 5: with a stolen token, the lock reset the count every
    15 minutes (about 480 guesses a day: a 4-digit PIN in about ten days). Now the count
    runs on until the right PIN, and each further wrong one locks twice as long (at most a
    day): about a dozen guesses the first day, one a day after."""
    run = _runner(sessions)
    start = utcnow() - dt.timedelta(days=3)
    await run(lambda s: grants.set_pin(s, ALI, PIN, now=start))

    async def guess(pin: str, at: dt.datetime) -> grants.IssuedGrant | Refusal:
        made: grants.IssuedGrant | Refusal = await run(
            lambda s: grants.issue_app_grant(s, ALI, pin, now=at)
        )
        return made

    for _n in range(grants.PIN_ATTEMPTS):
        refused = await guess("9999", start)
        assert isinstance(refused, Refusal)
    assert refused.error.code is ProblemCode.TOO_MANY_ATTEMPTS
    assert "15 minutes" in refused.error.message

    # Each later wrong PIN, once the lock is over, locks twice as long as the last.
    at, lock = start, grants.PIN_LOCK
    for _ in range(3):
        at += lock
        refused = await guess("9999", at)
        assert isinstance(refused, Refusal)
        assert refused.error.code is ProblemCode.TOO_MANY_ATTEMPTS, refused.error.message
        lock *= 2
        assert f"{int(lock.total_seconds() // 60)} minutes" in refused.error.message
        # Within it even the right PIN is refused.
        with pytest.raises(grants.GrantError, match="too many wrong PINs"):
            await guess(PIN, at + lock - dt.timedelta(seconds=1))

    # The lock grows no longer than a day.
    for _ in range(8):
        at += lock
        refused = await guess("9999", at)
        assert isinstance(refused, Refusal)
        lock = min(lock * 2, grants.PIN_LOCK_MAX)
    assert lock == grants.PIN_LOCK_MAX == dt.timedelta(days=1)
    assert "1440 minutes" in refused.error.message

    # The right PIN after the lock: a grant, and the count starts over.
    at += lock
    assert isinstance(await guess(PIN, at), grants.IssuedGrant)
    refused = await guess("9999", at)
    assert isinstance(refused, Refusal)
    assert (refused.error.code, refused.error.message) == (
        ProblemCode.PIN_INVALID,
        "wrong PIN; 4 tries left",
    )
