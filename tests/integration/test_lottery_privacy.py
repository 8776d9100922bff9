"""Published lottery lists name per-lottery entrant ids, never a shopper's pseudonym.

Every node holds the network key and Iranian mobiles (about 10^9) can all be hashed, so a
pseudonym in a public list tells any shop who shops elsewhere and, by the ticket count,
roughly how much. Here a lottery among two shops is drawn, and every field of every lottery
type is read over HTTP: from the hub as an anonymous caller and as a node client
(``node:federate``), and from a shop's own node as its staff. None carries a pseudonym of
an entrant; the list and the winners are there, named by entrant ids, and the draw re-runs
from that public data alone; each shopper's app shows her own entrant id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import strawberry
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.authentication import AuthCredentials, UnauthenticatedUser
from starlette.testclient import TestClient

from graphql import GraphQLObjectType, get_named_type, is_non_null_type
from hub.api.schema import schema as hub_schema
from hub.app import create_app as create_hub
from hub.db.models import LotteryEntrant, Shopper
from hub.domain import draw
from hub.services import lotteries
from mallnet.auth import Principal
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, transaction, utcnow
from mallnet.devtokens import issue
from mallnet.messaging import FileSender
from mallnet.migrations import alembic_config, upgrade
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key, pseudonym
from shop_node.api.schema import schema as node_schema
from shop_node.app import create_app as create_node_app
from shop_node.services.bootstrap import prepare_node
from shop_node.services.relay import connect
from shop_node.services.runtime import NodeRuntime

from ..conftest import HubDatabases
from ..live_server import LiveServer
from .conftest import _hub_with_two_shops

BOOKS, SHOES = "ketab-sara", "kafsh-arya"
PHONES = [f"+98912555{n:04d}" for n in range(9)]
LOTTERY_MOMENTS = ("starts_at", "ends_at", "draw_at", "created_at", "drawn_at")


def everything(schema: strawberry.Schema, type_name: str) -> str:
    """A selection of every field of ``type_name``, and of the object types under it (a
    field that needs an argument is left out: none of the lottery types has one)."""
    kind = schema._schema.get_type(type_name)
    assert isinstance(kind, GraphQLObjectType), type_name
    parts = []
    for name, field in kind.fields.items():
        if any(is_non_null_type(arg.type) for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            parts.append(f"{name} {{ {everything(schema, inner.name)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


def strings(found: Any) -> list[str]:
    """Every string in an answer (the draw record's JSON included), keys too."""
    if isinstance(found, str):
        return [found]
    if isinstance(found, dict):
        return [*found, *(s for value in found.values() for s in strings(value))]
    if isinstance(found, list):
        return [s for value in found for s in strings(value)]
    return []


def leaks(answer: Any, shoppers: list[str]) -> list[str]:
    return [s for s in strings(answer) if any(p in s.lower() for p in shoppers)]


async def _drawn_lottery(url: str, shoppers: list[str], outbox: Path) -> str:
    """A lottery among the bookshop and the shoe shop: each shopper bought at one or both
    before its end; its public value is entered and it is drawn."""
    now = utcnow()
    data = lotteries.LotteryInput(
        name_fa="قرعه‌کشی نوروز",
        name_en="Nowruz draw",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        draw_at=now + dt.timedelta(hours=1),
        shops=[BOOKS, SHOES],
        rules={"rial_per_ticket": 100_000, "bonus_per_shop": 1},
        prizes=[
            {"count": 1, "description_fa": "دوچرخه", "sponsor": SHOES},
            {"count": 2, "description_fa": "کارت هدیه"},
        ],
    )
    async with engine_scope(url) as engine:
        sessions = session_factory(engine)
        row = await transaction(sessions, lambda s: lotteries.create(s, data, "test:marketing"))
        for shop in (BOOKS, SHOES):
            await transaction(sessions, lambda s, sh=shop: lotteries.respond(s, row.id, sh, True))
        for i, who in enumerate(shoppers):
            for shop in (BOOKS, SHOES)[: 1 + i % 2]:
                await transaction(
                    sessions,
                    lambda s, w=who, sh=shop, n=i: lotteries.enter_purchase(
                        s, sh, f"E-{n}-{sh}", f"R-{n}", w, 100_000 * (n + 1), utcnow()
                    ),
                )
        await transaction(sessions, lambda s: lotteries.set_public_value(s, row.id, "TSE 2,345"))

        async def due(session: Any) -> None:
            lottery = await lotteries.get(session, row.id)
            lottery.ends_at = lottery.draw_at = utcnow() - dt.timedelta(seconds=1)

        await transaction(sessions, due)
        drawn = await lotteries.run_draw(sessions, row.id, FileSender(outbox))
        assert drawn.stage == "done"
        return row.id


def _hub_reads(lottery_id: str) -> str:
    """Every public lottery field the hub has, each with every field under it."""
    return (
        "query($id: String!) { "
        f"lotteries {{ {everything(hub_schema, 'LotteryView')} }} "
        f"lottery(lotteryId: $id) {{ {everything(hub_schema, 'LotteryView')} }} "
        f"lotteryTickets(lotteryId: $id) {{ {everything(hub_schema, 'TicketEntry')} }} }}"
    )


def test_no_public_or_node_readable_lottery_field_returns_a_pseudonym(
    network: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    settings, info = network
    # Given shoppers named as every node names them: HMAC(network key, phone).
    key = network_key(settings)
    shoppers = sorted(pseudonym(key, phone) for phone in PHONES)
    lottery_id = asyncio.run(_drawn_lottery(settings.hub_db_url, shoppers, tmp_path / "sms.jsonl"))
    query = _hub_reads(lottery_id)

    # When anyone, a shop's node, and the shop's staff on that node read all that is
    # published about the lottery,
    creds = info["creds"][BOOKS]
    hub_url = settings.public_hub_url.rstrip("/")
    body = {"query": query, "variables": {"id": lottery_id}}
    node_query = f"{{ lotteries {{ {everything(node_schema, 'NodeLottery')} }} }}"
    staff = issue(settings, audience=BOOKS, scopes=["shop:operate"], subject="staff:p")
    asyncio.run(prepare_node(settings, BOOKS))
    with (
        LiveServer(create_hub(settings), info["port"]),
        TestClient(create_node_app(BOOKS, settings)) as node,
    ):
        anonymous = httpx.post(f"{hub_url}/graphql", json=body, timeout=10).json()
        token = httpx.post(
            f"{hub_url}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "node:federate"},
            auth=(creds.client_id, creds.client_secret),
            timeout=10,
        ).json()["access_token"]
        as_node = httpx.post(
            f"{hub_url}/graphql",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        runtime: NodeRuntime = node.app.state.runtime  # type: ignore[attr-defined]
        node.portal.call(connect, runtime, creds.client_id, creds.client_secret)  # type: ignore[union-attr]
        on_node = node.post(
            "/graphql", json={"query": node_query}, headers={"Authorization": f"Bearer {staff}"}
        ).json()

    # then no string in any answer is, or holds, a pseudonym of an entrant,
    for who, answer in {"anonymous": anonymous, "node client": as_node, "staff": on_node}.items():
        assert "errors" not in answer, (who, answer)
        assert leaks(answer["data"], shoppers) == [], who
    # and the list and the winners are there, named by entrant ids, one per shopper:
    published = anonymous["data"]
    assert published == as_node["data"]
    tickets = published["lotteryTickets"]
    assert len(tickets) == len(shoppers) == published["lottery"]["entrants"]
    entrants = [t["entrantId"] for t in tickets]
    assert entrants == sorted(set(entrants))  # canonical order, each once
    winners = published["lottery"]["winners"]
    assert [w["place"] for w in winners] == [1, 2, 3]
    assert {w["entrantId"] for w in winners} <= set(entrants)
    # and anyone re-runs the draw from that public data alone;
    record = published["lottery"]["record"]
    pairs = [(t["entrantId"], t["tickets"]) for t in tickets]
    assert draw.verify({**record, "tickets": pairs}) == []
    assert [w["entrant_id"] for w in record["winners"]] == [w["entrantId"] for w in winners]
    # and the shop's staff see the winners as the hub published them.
    [seen] = [x for x in on_node["data"]["lotteries"] if x["id"] == lottery_id]
    assert [(w["place"], w["entrantId"]) for w in seen["winners"]] == [
        (w["place"], w["entrantId"]) for w in winners
    ]


async def test_a_shopper_sees_her_own_entrant_id_in_the_app(
    hub_databases: HubDatabases, tmp_path: Path
) -> None:
    url = (await hub_databases.new(_hub_with_two_shops)).url
    key = b"a network key of the test"
    shoppers = sorted(pseudonym(key, phone) for phone in PHONES)
    lottery_id = await _drawn_lottery(url, shoppers, tmp_path / "sms.jsonl")
    mine = """{ me { pseudonym lotteries { lottery { id winners { place entrantId } }
      entrantId tickets wonPlace } } }"""
    listed = "query($id: String!) { lotteryTickets(lotteryId: $id) { entrantId tickets } }"
    async with engine_scope(url) as engine:
        sessions = session_factory(engine)

        async def known(session: AsyncSession) -> None:
            session.add_all(Shopper(pseudonym=who, created_at=utcnow()) for who in shoppers)

        await transaction(sessions, known)

        async def ask(user: Principal | None, document: str, **variables: Any) -> Any:
            request = SimpleNamespace(
                auth=AuthCredentials(sorted(user.scopes) if user else []),
                user=user or UnauthenticatedUser(),
            )
            context = {"request": request, "state": SimpleNamespace(sessions=sessions)}
            result = await hub_schema.execute(
                document, variable_values=variables, context_value=context
            )
            assert result.errors is None, result.errors
            return result.data

        tickets = (await ask(None, listed, id=lottery_id))["lotteryTickets"]
        seen: dict[str, tuple[str, int, int | None]] = {}
        for who in shoppers:
            her = Principal(f"shopper:{who}", "app", frozenset({Scope.SHOPPER_READ}))
            me = (await ask(her, mine))["me"]
            assert me["pseudonym"] == who  # her own identity, to her only
            [entry] = [x for x in me["lotteries"] if x["lottery"]["id"] == lottery_id]
            seen[who] = (entry["entrantId"], entry["tickets"], entry["wonPlace"])
            won = [
                w["place"]
                for w in entry["lottery"]["winners"]
                if w["entrantId"] == entry["entrantId"]
            ]
            assert won == ([] if entry["wonPlace"] is None else [entry["wonPlace"]])
    # Each finds herself in the published list under her id, with her tickets; the ids are
    # distinct and none is her pseudonym.
    assert sorted((entrant, count) for entrant, count, _ in seen.values()) == [
        (t["entrantId"], t["tickets"]) for t in tickets
    ]
    assert all(entrant != who for who, (entrant, _, _) in seen.items())
    assert sorted(place for _, _, place in seen.values() if place is not None) == [1, 2, 3]


LEGACY = "hub_0014_lottery_entrant_ids"  # the revision that brought entrant ids


async def _hub_before_entrant_ids(url: str) -> None:
    before = ScriptDirectory.from_config(alembic_config("hub")).get_revision(LEGACY)
    assert before is not None
    assert isinstance(before.down_revision, str)
    await upgrade("hub", url, before.down_revision)


async def test_an_upgraded_hub_keeps_its_published_draws_and_names_open_entrants_anew(
    hub_databases: HubDatabases,
) -> None:
    # Given a hub from before entrant ids: one lottery drawn (its list and record published
    # under pseudonyms) and one still open, the same shoppers in both.
    url = (await hub_databases.new(_hub_before_entrant_ids)).url
    shoppers = sorted(secrets.token_hex(32) for _ in range(5))
    tickets = draw.TicketList.from_pairs((who, n + 1) for n, who in enumerate(shoppers))
    seed = draw.new_seed()
    drawn = draw.published_record(draw.draw(seed, "index 1,234", tickets, 2))
    drawn["winners"] = [  # as it was published then
        {"pseudonym": w["entrant_id"], "tickets": w["tickets"], "position": w["position"]}
        for w in drawn["winners"]
    ]
    now = utcnow()
    lottery = sa.table(
        "lotteries",
        *(sa.column(name) for name in ("id", "name_fa", "name_en", "seed_hex", "commitment")),
        *(sa.column(name) for name in ("status", "stage", "progress_pct", "created_by")),
        *(sa.column(name, sa.DateTime(timezone=True)) for name in LOTTERY_MOMENTS),
        *(sa.column(name, sa.JSON) for name in ("rules", "prizes", "record")),
        *(sa.column(name) for name in ("public_value", "list_digest", "entrants")),
    )
    entry = sa.table(
        "lottery_entries",
        *(sa.column(name) for name in ("lottery_id", "event_id", "shop", "receipt")),
        *(sa.column(name) for name in ("pseudonym", "amount_rial", "refunded_rial")),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    frozen = sa.table(
        "lottery_ticket_lists", *(sa.column(n) for n in ("lottery_id", "entrants", "data"))
    )
    async with engine_scope(url) as engine, engine.begin() as conn:
        for lottery_id, status, record in (("L-DRAWN", "drawn", drawn), ("L-OPEN", "open", None)):
            await conn.execute(
                sa.insert(lottery).values(
                    id=lottery_id,
                    name_fa="قرعه‌کشی",
                    name_en="draw",
                    seed_hex=seed.hex(),
                    commitment=draw.commit(seed),
                    status=status,
                    stage="done" if record else "waiting",
                    progress_pct=100 if record else 0,
                    created_by="test",
                    starts_at=now - dt.timedelta(days=2),
                    ends_at=now + dt.timedelta(days=1),
                    draw_at=now + dt.timedelta(days=1),
                    created_at=now - dt.timedelta(days=2),
                    drawn_at=now if record else None,
                    rules={"rial_per_ticket": 100_000},
                    prizes=[{"count": 2, "description_fa": "کارت هدیه"}],
                    record=record,
                    public_value="index 1,234" if record else None,
                    list_digest=drawn["list_digest"] if record else None,
                    entrants=len(shoppers) if record else None,
                )
            )
            for n, who in enumerate(shoppers):
                await conn.execute(
                    sa.insert(entry).values(
                        lottery_id=lottery_id,
                        event_id=f"{lottery_id}-E{n}",
                        shop=BOOKS,
                        receipt=f"R{n}",
                        pseudonym=who,
                        amount_rial=100_000 * (n + 1),
                        refunded_rial=0,
                        created_at=now - dt.timedelta(days=1),
                    )
                )
        await conn.execute(
            sa.insert(frozen).values(
                lottery_id="L-DRAWN", entrants=len(shoppers), data=draw.encode(tickets)
            )
        )

    # When it is upgraded,
    await upgrade("hub", url)

    async with engine_scope(url) as engine:
        sessions = session_factory(engine)

        async def read(session: AsyncSession) -> Any:
            done = await lotteries.get(session, "L-DRAWN")
            page = await lotteries.ticket_page(session, "L-DRAWN", 0, 100)
            mine = {who: await lotteries.tickets_of(session, who) for who in shoppers}
            return done.record, page, mine

        record, page, mine = await transaction(sessions, read)
    # then the draw published before still re-runs from what it published (its entrants
    # keep the ids it published them under: that cannot be taken back), its winners now
    # named as entrants;
    assert draw.verify({**record, "tickets": [(e, t) for _i, e, t in page]}) == []
    assert [w["entrant_id"] for w in record["winners"]] == [
        w["pseudonym"] for w in drawn["winners"]
    ]
    # and in the lottery still open each shopper has a fresh random id, shown to her.
    for who in shoppers:
        by_lottery = {e.lottery.id: e for e in mine[who]}
        assert by_lottery["L-DRAWN"].entrant_id == who
        fresh = by_lottery["L-OPEN"].entrant_id
        assert len(fresh) == 64
        assert fresh != who
        assert by_lottery["L-OPEN"].tickets == by_lottery["L-DRAWN"].tickets
    opened = {e.entrant_id for who in shoppers for e in mine[who] if e.lottery.id == "L-OPEN"}
    assert len(opened) == len(shoppers)


@pytest.mark.postgres
async def test_a_shoppers_first_purchases_at_once_give_her_one_entrant_id(
    pg_hub_databases: HubDatabases,
) -> None:
    """Two shops' intakes may meet the same new entrant at the same moment: each purchase
    enters on its first attempt (no retry here), and she has one id."""
    url = (await pg_hub_databases.new(_hub_with_two_shops)).url
    now = utcnow()
    data = lotteries.LotteryInput(
        name_fa="قرعه‌کشی",
        name_en="draw",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
        draw_at=now + dt.timedelta(hours=1),
        shops=[BOOKS, SHOES],
        rules={"rial_per_ticket": 100_000, "bonus_per_shop": 1},
        prizes=[{"count": 1, "description_fa": "دوچرخه"}],
    )
    who = secrets.token_hex(32)
    async with engine_scope(url) as engine:
        sessions = session_factory(engine)
        row = await transaction(sessions, lambda s: lotteries.create(s, data, "test:marketing"))
        for shop in (BOOKS, SHOES):
            await transaction(sessions, lambda s, sh=shop: lotteries.respond(s, row.id, sh, True))

        async def first_attempt(n: int) -> int:
            async with sessions() as session, session.begin():
                shop = (BOOKS, SHOES)[n % 2]
                return await lotteries.enter_purchase(
                    session, shop, f"E{n}", f"R{n}", who, 100_000, utcnow()
                )

        assert await asyncio.gather(*(first_attempt(n) for n in range(8))) == [1] * 8

        async def hers(session: AsyncSession) -> tuple[int, list[lotteries.Entered]]:
            ids = await session.scalar(
                sa.select(sa.func.count())
                .select_from(LotteryEntrant)
                .where(LotteryEntrant.lottery_id == row.id)
            )
            return int(ids or 0), await lotteries.tickets_of(session, who)

        ids, [entered] = await transaction(sessions, hers)
    assert ids == 1
    assert entered.tickets == 8 + 2  # 100,000 Rial eight times, one bonus per shop
