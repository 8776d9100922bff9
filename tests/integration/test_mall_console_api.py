"""The mall console's hub API (issue 17), on SQLite and on PostgreSQL: the overview's
figures and day series from the hub's own tables, the shops registry a page at a time and
its directory details changed, partnership offers with their opt-ins and the map of who
refers to whom, mall users a page at a time; each scoped, bad input a typed problem that
writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.api.schema import schema
from hub.db.models import (
    Membership,
    NodeStream,
    PartnerOffer,
    PartnerOptIn,
    Referral,
    Shop,
    Shopper,
    ValueLot,
    ValueRedemption,
    ValueTransaction,
)
from hub.services import people, registry
from mallnet.auth import Principal
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.scopes import Scope

from ..conftest import HubDatabases
from .test_hub_problems import _Request

BOOKS, SHOES, CAFE = "ketab-sara", "kafsh-arya", "cafe-nur"
ADMIN = Principal("mall:1", "console", frozenset({Scope.MALL_ADMIN, Scope.MALL_REPORTS}))
REPORTS = Principal("mall:2", "console", frozenset({Scope.MALL_REPORTS}))
MARKETING = Principal("mall:3", "console", frozenset({Scope.MALL_CAMPAIGNS}))

OVERVIEW = """query($days: Int!) { mallOverview(days: $days) { __typename
  ... on MallOverview { days firstDay lastDay shopsActive shopsSuspended shoppers memberships
    crossShopEnrolments
    liability { totalRial pooledPoints pooledPointsRial generalCreditRial targetedCreditRial }
    series { day newShoppers newMemberships crossShopEnrolments redemptions redeemedRial }
    health { slug status lastContactAt pendingEvents oldestPendingS inboxDepth } }
  ... on HubProblem { code field } } }"""
SHOP_PAGE = """query($first: Int!, $offset: Int!, $search: String) {
  shopPage(first: $first, offset: $offset, search: $search) { __typename
  ... on ShopPage { total items { slug status } } ... on HubProblem { code field } } }"""
UPDATE = """mutation($slug: String!, $input: ShopDetailsInput!) {
  updateShopDetails(slug: $slug, input: $input) { __typename
  ... on Shop { slug nameFa category floor unit } ... on HubProblem { code field } } }"""
OFFERS = """query($first: Int!, $offset: Int!) { partnerOfferPage(first: $first, offset: $offset) {
  __typename ... on PartnerOfferPage { total items { offer { id hostShop status } referrals
    optIns { originShop withdrawnAt } } } ... on HubProblem { code field } } }"""
MAP = "{ referralMap { originShop hostShop active referrals } }"
USERS = """query($first: Int!, $offset: Int!) { mallUserPage(first: $first, offset: $offset) {
  __typename ... on MallUserPage { total items { username role shop active } }
  ... on HubProblem { code field } } }"""


@pytest.fixture
async def sessions(hub_databases: HubDatabases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = (await hub_databases.new()).url
    async with engine_scope(url) as engine:
        yield session_factory(engine)


async def _execute(
    sessions: async_sessionmaker[AsyncSession], user: Principal, document: str, **variables: Any
) -> Any:
    state = SimpleNamespace(sessions=sessions, settings=Settings(network_key="console"))
    context = {"request": _Request(user), "state": state}
    return await schema.execute(document, variable_values=variables, context_value=context)


async def _ok(
    sessions: async_sessionmaker[AsyncSession], user: Principal, document: str, **variables: Any
) -> dict[str, Any]:
    result = await _execute(sessions, user, document, **variables)
    assert result.errors is None, result.errors
    return dict(result.data)


def _lot(pseudonym: str, kind: str, remaining: int, rate: int, expires: dt.datetime) -> ValueLot:
    return ValueLot(
        pseudonym=pseudonym,
        kind=kind,
        issuer_shop=BOOKS,
        amount=remaining + 40,
        remaining=remaining,
        held=0,
        rial_per_point=rate,
        accepted_shops=[],
        accepted_category=None,
        expires_at=expires,
        reason="purchase",
        origin="test",
        issue_key=f"lot:{kind}:{remaining}:{expires.isoformat()}",
        created_at=utcnow(),
    )


async def _network(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Three shops (the café suspended), two shoppers (one joined 40 days ago), three
    memberships, an offer of the shoe shop the bookshop refers to (one shopper introduced)
    and a withdrawn one the other way, some value outstanding, a capture and a refund."""
    now = utcnow()
    old = now - dt.timedelta(days=40)
    async with sessions() as session, session.begin():
        for slug in (BOOKS, SHOES, CAFE):
            await registry.register_shop(
                session, registry.ShopInput(slug, f"فروشگاه {slug}", slug.title(), "books")
            )
        await registry.set_shop_status(session, CAFE, "suspended")
        session.add(
            NodeStream(
                node=BOOKS, last_contact_at=now, pending_events=4, oldest_pending_s=120, events=9
            )
        )
        session.add_all(
            [Shopper(pseudonym="p1", created_at=now), Shopper(pseudonym="p2", created_at=old)]
        )
        session.add_all(
            [
                Membership(pseudonym="p1", shop=BOOKS, joined_at=now),
                Membership(pseudonym="p1", shop=SHOES, joined_at=now),
                Membership(pseudonym="p2", shop=BOOKS, joined_at=old),
            ]
        )
        for offer_id, host, origin, status in (
            ("offer-shoes", SHOES, BOOKS, "active"),
            ("offer-books", BOOKS, SHOES, "withdrawn"),
        ):
            session.add(
                PartnerOffer(
                    id=offer_id,
                    host_shop=host,
                    origin_shops=[origin],
                    origin_category=None,
                    min_purchase_rial=0,
                    origin_groups=[],
                    first_purchase_only=False,
                    monthly_cap=None,
                    welcome_points=10,
                    welcome_credit_rial=0,
                    status=status,
                    created_at=now if host == SHOES else old,
                )
            )
            await session.flush()
            session.add(PartnerOptIn(offer_id=offer_id, origin_shop=origin, opted_in_at=now))
        session.add(
            Referral(
                offer_id="offer-shoes",
                origin_shop=BOOKS,
                pseudonym="p1",
                event_id="e1",
                month=now.strftime("%Y-%m"),
                created_at=now,
            )
        )
        later = now + dt.timedelta(days=300)
        lots = [
            _lot("p1", "pooled_points", 60, 1_000, later),  # 60,000 Rial
            _lot("p1", "general_credit", 50_000, 1, later),
            _lot("p2", "targeted_credit", 999, 1, now - dt.timedelta(days=1)),  # expired
        ]
        session.add_all(lots)
        await session.flush()
        for key, amount in (("capture", 40_000), ("refund", -10_000)):
            transaction = ValueTransaction(
                pseudonym="p1",
                kind=key,
                shop=SHOES,
                hold_id="hold-1",
                reason=key,
                idempotency_key=key,
                created_at=now,
            )
            session.add(transaction)
            await session.flush()
            session.add(
                ValueRedemption(
                    transaction_id=transaction.id,
                    hold_id="hold-1",
                    lot_id=lots[1].id,
                    kind="general_credit",
                    issuer_shop=BOOKS,
                    redeemer_shop=SHOES,
                    units=amount,
                    amount_rial=amount,
                    created_at=now,
                )
            )


async def test_overview_counts_the_network_and_its_days(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _network(sessions)
    found = (await _ok(sessions, REPORTS, OVERVIEW, days=30))["mallOverview"]
    assert found["__typename"] == "MallOverview"
    assert (found["shopsActive"], found["shopsSuspended"]) == (2, 1)
    assert (found["shoppers"], found["memberships"], found["crossShopEnrolments"]) == (2, 3, 1)
    assert found["liability"] == {
        "totalRial": 110_000,
        "pooledPoints": 60,
        "pooledPointsRial": 60_000,
        "generalCreditRial": 50_000,
        "targetedCreditRial": 0,
    }
    series = found["series"]
    assert len(series) == 30
    assert series[-1]["day"] == found["lastDay"]
    assert series[0]["day"] == found["firstDay"]
    today = series[-1]
    # The shopper and membership of 40 days ago fall outside the 30 days.
    assert today == {
        "day": found["lastDay"],
        "newShoppers": 1,
        "newMemberships": 2,
        "crossShopEnrolments": 1,
        "redemptions": 1,
        "redeemedRial": 30_000,
    }
    assert sum(day["newShoppers"] for day in series) == 1
    health = found["health"]
    assert next(shop["slug"] for shop in health) == BOOKS  # the lagging node first
    assert health[0]["pendingEvents"] == 4
    assert health[0]["oldestPendingS"] == 120
    never = {shop["slug"]: shop for shop in health}[CAFE]
    assert never["lastContactAt"] is None
    assert never["status"] == "suspended"
    longer = (await _ok(sessions, ADMIN, OVERVIEW, days=90))["mallOverview"]
    assert len(longer["series"]) == 90
    assert sum(d["newShoppers"] for d in longer["series"]) == 2


async def test_overview_bounds_and_scopes(sessions: async_sessionmaker[AsyncSession]) -> None:
    for days in (0, 91, 100_000):
        found = (await _ok(sessions, ADMIN, OVERVIEW, days=days))["mallOverview"]
        assert found == {"__typename": "InvalidInput", "code": "INVALID_INPUT", "field": "days"}
    refused = await _execute(sessions, MARKETING, OVERVIEW, days=7)
    assert refused.errors is not None
    assert refused.data is None


async def test_shop_page_and_directory_details(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _network(sessions)
    page = (await _ok(sessions, ADMIN, SHOP_PAGE, first=2, offset=0))["shopPage"]
    assert page["total"] == 3
    assert [s["slug"] for s in page["items"]] == [CAFE, SHOES]
    page = (await _ok(sessions, ADMIN, SHOP_PAGE, first=2, offset=2))["shopPage"]
    assert [s["slug"] for s in page["items"]] == [BOOKS]
    found = (await _ok(sessions, ADMIN, SHOP_PAGE, first=10, offset=0, search="ARYA"))["shopPage"]
    assert [s["slug"] for s in found["items"]] == [SHOES]
    persian = await _ok(sessions, ADMIN, SHOP_PAGE, first=10, offset=0, search="فروشگاه k")
    assert [s["slug"] for s in persian["shopPage"]["items"]] == [SHOES, BOOKS]
    literal = (await _ok(sessions, ADMIN, SHOP_PAGE, first=10, offset=0, search="%"))["shopPage"]
    assert literal["total"] == 0  # a LIKE wildcard is searched as itself
    for first, offset, field in ((0, 0, "first"), (101, 0, "first"), (10, -1, "offset")):
        bad = (await _ok(sessions, ADMIN, SHOP_PAGE, first=first, offset=offset))["shopPage"]
        assert (bad["__typename"], bad["field"]) == ("InvalidInput", field)
    # mall:reports does not manage the registry.
    assert (await _execute(sessions, REPORTS, SHOP_PAGE, first=5, offset=0)).errors

    details = {"nameFa": "کتاب سرا", "nameEn": "Ketab Sara", "category": "cafe", "floor": "2"}
    changed = await _ok(sessions, ADMIN, UPDATE, slug=BOOKS, input=details | {"unit": " "})
    assert changed["updateShopDetails"] == {
        "__typename": "Shop",
        "slug": BOOKS,
        "nameFa": "کتاب سرا",
        "category": "cafe",
        "floor": "2",
        "unit": None,
    }
    refused = await _ok(sessions, ADMIN, UPDATE, slug=BOOKS, input=details | {"category": "zoo"})
    assert refused["updateShopDetails"] == {
        "__typename": "InvalidInput",
        "code": "INVALID_INPUT",
        "field": "category",
    }
    missing = await _ok(sessions, ADMIN, UPDATE, slug="no-such-shop", input=details)
    assert missing["updateShopDetails"]["__typename"] == "ShopNotFound"
    async with sessions() as session:
        shop = await session.scalar(select(Shop).where(Shop.slug == BOOKS))
        assert shop is not None
        assert shop.category == "cafe"
    assert (await _execute(sessions, REPORTS, UPDATE, slug=BOOKS, input=details)).errors


async def test_partnership_page_and_map(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _network(sessions)
    page = (await _ok(sessions, REPORTS, OFFERS, first=1, offset=0))["partnerOfferPage"]
    assert page["total"] == 2
    assert page["items"] == [
        {
            "offer": {"id": "offer-shoes", "hostShop": SHOES, "status": "active"},
            "referrals": 1,
            "optIns": [{"originShop": BOOKS, "withdrawnAt": None}],
        }
    ]
    rest = (await _ok(sessions, REPORTS, OFFERS, first=1, offset=1))["partnerOfferPage"]
    assert [row["offer"]["id"] for row in rest["items"]] == ["offer-books"]
    links = (await _ok(sessions, REPORTS, MAP))["referralMap"]
    assert links == [
        {"originShop": SHOES, "hostShop": BOOKS, "active": False, "referrals": 0},
        {"originShop": BOOKS, "hostShop": SHOES, "active": True, "referrals": 1},
    ]
    assert (await _execute(sessions, MARKETING, MAP)).errors


async def test_mall_user_page(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _network(sessions)
    async with sessions() as session, session.begin():
        for name, role in (
            ("boss", "mall_admin"),
            ("mina", "mall_marketing"),
            ("fati", "mall_finance"),
        ):
            await people.create_user(session, name, f"{name} long password", role, None)
        await people.create_user(session, "ali", "ali long password", "manager", BOOKS)
    page = (await _ok(sessions, ADMIN, USERS, first=2, offset=0))["mallUserPage"]
    assert page["total"] == 3  # the shop's manager is not a mall user
    assert page["items"] == [
        {"username": "boss", "role": "MALL_ADMIN", "shop": None, "active": True},
        {"username": "fati", "role": "MALL_FINANCE", "shop": None, "active": True},
    ]
    rest = (await _ok(sessions, ADMIN, USERS, first=2, offset=2))["mallUserPage"]
    assert [u["username"] for u in rest["items"]] == ["mina"]
    assert (await _execute(sessions, REPORTS, USERS, first=2, offset=0)).errors
