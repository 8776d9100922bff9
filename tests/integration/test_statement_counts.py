"""The statements a page costs do not grow with the page: members with their balances,
tier and company on a node; the federation status of many nodes and a page of shoppers
with their memberships at the hub. Each is counted as the SQL actually sent to the
database, at two sizes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.authentication import AuthCredentials

from federation.envelope import EnrolMember
from hub.api.schema import schema as hub_schema
from hub.db.models import Membership, NodeStream, Shopper
from hub.services import inbox
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import upgrade
from mallnet.scopes import Scope
from shop_node.domain.earning import Line
from shop_node.services import members, purchases

from ..conftest import service_problem
from ..node_client import NodeClient

# What the dashboard's member list asks for, plus the fields that used to cost a
# transaction each per row.
MEMBERS_PAGE = """
query Page($first: Int!) {
  members(first: $first) {
    totalCount
    items {
      id name phone membershipType joinedAtJalali
      balances { points creditRial }
      tier { current { code } basis metric next { code } toNext }
      company { id name cardCode }
    }
  }
}
"""
FEDERATION_STATUS = """
{ federationStatus { node contiguousSeq highestSeq events lastContactAt pendingEvents
                     oldestPendingS inboxDepth } }
"""
COMMAND = EnrolMember(pseudonym="a" * 64, origin_shop="ketab-sara", agreement_id="offer-1")
SHOPPERS = "{ shoppers(first: 200) { pseudonym memberships } }"
# The most statements either read may send, whatever the page size (see the counts below).
MEMBERS_PAGE_MOST = 10
HUB_LIST_MOST = 4


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs (BEGIN IMMEDIATE too, on
    SQLite: it is a round trip of its own there)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


# --- the node: members(first: 100) with balances, tier and company ---------------------


async def _seed_members(runtime: Any, first: int, count: int) -> None:
    """Members ``first`` .. ``first + count - 1``: one company in ten and its employees,
    each with a purchase (the larger ones reach the silver tier), so every field of the
    page has data to batch."""
    companies = list(range(first, first + max(1, count // 10)))
    cards = {}
    for i in companies:
        company = await members.enrol_member(
            runtime,
            members.MemberInput(phone=_phone(i), name=f"Company {i}", membership_type="company"),
            "test",
        )
        cards[i] = company.card_code
    for i in range(first + len(companies), first + count):
        employer = companies[i % len(companies)]
        await members.enrol_member(
            runtime,
            members.MemberInput(
                phone=_phone(i),
                name=f"Employee {i} of Company {employer}",
                membership_type="employee",
                company_card_code=cards[employer],
            ),
            "test",
        )
    for i in range(first, first + count):
        amount = _spent(i)
        await purchases.record_purchase(
            runtime,
            purchases.PurchaseInput(
                receipt_id=f"R-{i}",
                total_rial=amount,
                lines=[Line("books", amount)],
                phone=_phone(i),
            ),
            "test",
        )


def _phone(i: int) -> str:
    return f"0912{1_000_000 + i}"


def _spent(i: int) -> int:
    return 100_000 * (1 + i % 20)


def _members_page(node: NodeClient, seeded: int, more: int) -> tuple[dict[str, Any], list[str]]:
    node.call(_seed_members, node.runtime, seeded, more)
    # Count the worst case, the same for both sizes: the policy version is asked again.
    node.runtime.policies.forget_version()
    with statements_sent(node.runtime.engine) as sent:
        response = node.http.post(
            "/graphql",
            json={"query": MEMBERS_PAGE, "variables": {"first": 100}},
            headers={"Authorization": f"Bearer {node.token}"},
        )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]["members"], _without_revocation_reads(list(sent))


def _without_revocation_reads(sent: list[str]) -> list[str]:
    """The statements less the node's read of staff revocations (and its BEGIN): the sign-in
    check refreshes that cache every few seconds, whichever request it falls on, so a
    loaded machine counted it in one page and not the other."""
    kept: list[str] = []
    for statement in sent:
        if "FROM staff_revocations" in statement:
            if kept and kept[-1] == "BEGIN":
                kept.pop()
            continue
        kept.append(statement)
    return kept


def _check_page(page: dict[str, Any], count: int) -> None:
    """The batched answers are each member's own (not merely as many)."""
    assert page["totalCount"] == count
    items = page["items"]
    assert len(items) == min(count, 100)
    for item in items:
        number = int(item["phone"][-7:]) - 1_000_000
        spent = _spent(number)
        # Books earn 10% credit and a point per 10,000 Rial (the first purchase is at
        # bronze); the welcome gift is 20 points and 10,000 Rial, not counted for the tier.
        assert item["balances"] == {
            "points": spent // 10_000 + 20,
            "creditRial": spent // 10 + 10_000,
        }
        assert item["tier"]["basis"] == "earned_points"
        assert item["tier"]["metric"] == spent // 10_000
        silver = spent // 10_000 >= 100
        assert item["tier"]["current"]["code"] == ("silver" if silver else "bronze")
        assert item["tier"]["next"] == (None if silver else {"code": "silver"})
        assert item["tier"]["toNext"] == (None if silver else 100 - spent // 10_000)
        if item["membershipType"] == "COMPANY":
            assert item["company"] is None
        else:
            assert item["company"] is not None, item
            assert item["name"].endswith(" of " + item["company"]["name"])


# --- the hub: federationStatus of many nodes ------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated hub database on each backend."""
    if request.param == "sqlite" or service_problem("postgres") is not None:
        url = Settings(data_dir=tmp_path / "var").hub_db_url
    else:
        url = str(request.getfixturevalue("pg_url"))
    asyncio.run(upgrade("hub", url))
    return url


class _Request:
    """What the schema reads of a request: the token's scopes."""

    def __init__(self, scopes: list[str]) -> None:
        self.auth = AuthCredentials(scopes)
        self.user = None


async def _seed_streams(session: AsyncSession, first: int, count: int) -> None:
    """Nodes ``first`` .. ``first + count - 1``: node i has i + 1 commands in its inbox, and
    odd nodes have acknowledged their first one."""
    now = utcnow()
    for i in range(first, first + count):
        node = f"shop-{i:03d}"
        session.add(
            NodeStream(
                node=node,
                contiguous_seq=i,
                highest_seq=i + 1,
                events=i * 2,
                last_contact_at=now - dt.timedelta(seconds=i),
                pending_events=i % 3,
                oldest_pending_s=i % 5,
            )
        )
        for _ in range(i + 1):
            await inbox.enqueue(session, node, COMMAND)
        if i % 2 == 1:
            first = await inbox.pull(session, node, 1)
            await inbox.ack(session, node, int(first[0]["seq"]))


async def _hub_query(
    engine: AsyncEngine, query: str, scope: Scope
) -> tuple[dict[str, Any], list[str]]:
    """Run ``query`` against the hub schema as a caller with ``scope``; what it answered,
    and the statements it sent."""
    context = {
        "request": _Request([scope]),
        "state": SimpleNamespace(sessions=session_factory(engine)),
    }
    with statements_sent(engine) as sent:
        result = await hub_schema.execute(query, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data, list(sent)


async def _federation_status(
    engine: AsyncEngine, seeded: int, more: int
) -> tuple[list[dict[str, Any]], list[str]]:
    async with session_factory(engine)() as session, session.begin():
        await _seed_streams(session, seeded, more)
    data, sent = await _hub_query(engine, FEDERATION_STATUS, Scope.MALL_REPORTS)
    return data["federationStatus"], sent


def _check_status(rows: list[dict[str, Any]], count: int) -> None:
    assert [r["node"] for r in rows] == [f"shop-{i:03d}" for i in range(count)]
    for i, row in enumerate(rows):
        acked = 1 if i % 2 == 1 else 0
        assert row["inboxDepth"] == i + 1 - acked, row
        assert (row["contiguousSeq"], row["highestSeq"], row["events"]) == (i, i + 1, i * 2)
        assert (row["pendingEvents"], row["oldestPendingS"]) == (i % 3, i % 5)


async def test_federation_status_costs_the_same_for_3_and_30_nodes(hub_url: str) -> None:
    async with engine_scope(hub_url) as engine:
        few, few_sent = await _federation_status(engine, 0, 3)
        many, many_sent = await _federation_status(engine, 3, 27)
    _check_status(few, 3)
    _check_status(many, 30)
    # Was 8 and 62 statements on SQLite (7 and 61 on PostgreSQL): two per node for its
    # inbox depth. Now the streams, then the depths of all nodes in one statement, each in
    # its own short transaction: 4 on SQLite (with BEGIN IMMEDIATE), 2 on PostgreSQL.
    assert len(many_sent) == len(few_sent), many_sent
    assert len(many_sent) <= HUB_LIST_MOST, many_sent


async def _seed_shoppers(session: AsyncSession, first: int, count: int) -> None:
    """Shoppers ``first`` .. ``first + count - 1``: shopper i belongs to i % 4 shops."""
    now = utcnow()
    for i in range(first, first + count):
        pseudonym = f"{i:064x}"
        session.add(Shopper(pseudonym=pseudonym, created_at=now - dt.timedelta(seconds=i)))
        for k in range(i % 4):
            session.add(
                Membership(
                    pseudonym=pseudonym, shop=f"shop-{k}", joined_at=now + dt.timedelta(seconds=k)
                )
            )


async def _shoppers(
    engine: AsyncEngine, seeded: int, more: int
) -> tuple[list[dict[str, Any]], list[str]]:
    async with session_factory(engine)() as session, session.begin():
        await _seed_shoppers(session, seeded, more)
    data, sent = await _hub_query(engine, SHOPPERS, Scope.MALL_REPORTS)
    return data["shoppers"], sent


async def test_shoppers_memberships_cost_the_same_for_3_and_30_shoppers(hub_url: str) -> None:
    async with engine_scope(hub_url) as engine:
        few, few_sent = await _shoppers(engine, 0, 3)
        many, many_sent = await _shoppers(engine, 3, 27)
    for rows, count in ((few, 3), (many, 30)):
        assert [int(r["pseudonym"], 16) for r in rows] == list(range(count))  # newest first
        for i, row in enumerate(rows):
            assert row["memberships"] == [f"shop-{k}" for k in range(i % 4)], row
    # Was 8 and 62 statements on SQLite (4 and 31 on PostgreSQL): a session per shopper.
    # Now the page, then all memberships in one statement: 4 on SQLite, 2 on PostgreSQL.
    assert len(many_sent) == len(few_sent), many_sent
    assert len(many_sent) <= HUB_LIST_MOST, many_sent


def test_a_page_of_members_costs_the_same_for_10_and_100_members(node: NodeClient) -> None:
    few, few_sent = _members_page(node, 0, 10)
    _check_page(few, 10)
    many, many_sent = _members_page(node, 10, 90)
    _check_page(many, 100)
    # Was 61 and 583 statements on SQLite (31 and 292 on PostgreSQL): a transaction per
    # member per field. Now the page and its count, then one batch each for balances, tier
    # (with the policy version) and companies: 10 on SQLite, 6 on PostgreSQL.
    assert len(many_sent) == len(few_sent), many_sent
    assert len(many_sent) <= MEMBERS_PAGE_MOST, many_sent
