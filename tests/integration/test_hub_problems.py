"""Typed hub problems and the one transaction idiom of the hub's resolvers, on SQLite and on
PostgreSQL: a refused mutation answers with the typed problem of its code (readable as
``... on HubProblem``) and writes nothing; a problem a mutation does not declare stays a
top-level error; a race the database reports (serialization failure, deadlock) is retried,
by the resolvers that retried before and by those that did not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
import strawberry
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.authentication import AuthCredentials

from federation.envelope import MemberEnrolled, make_envelope
from federation.ids import new_event_id
from hub.api.common import run
from hub.api.problems import InvalidInput
from hub.api.schema import schema as hub_schema
from hub.db.models import FederationEvent, Shop, ValueHold
from hub.domain.problems import HubError, ProblemCode
from hub.services import grants, intake, registry
from mallnet.auth import Principal
from mallnet.authz import public
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.gql import build_schema
from mallnet.scopes import Scope

from ..conftest import HubDatabases

BOOKS = "ketab-sara"
REGISTER = """mutation($input: RegisterShopInput!) { registerShop(input: $input) {
  __typename ... on ShopRegistered { shop { slug } } ... on HubProblem { code message field } } }"""
SUSPEND = """mutation($slug: String!) { suspendShop(slug: $slug) {
  __typename ... on Shop { status } ... on ShopNotFound { code message field } } }"""
HOLD = """mutation($input: HoldInput!) { holdNetworkValue(input: $input) {
  __typename ... on NetworkHold { id } ... on HubProblem { code message field } } }"""
INGEST = """mutation($events: JSON!) { ingestEvents(events: $events) {
  __typename ... on IngestResult { accepted duplicates } ... on HubProblem { code } } }"""


class _Request:
    """What the schema reads of a request: the token's scopes and who it speaks for."""

    def __init__(self, user: Principal) -> None:
        self.auth = AuthCredentials(sorted(user.scopes))
        self.user = user


MALL_ADMIN = Principal("user:admin", "console", frozenset({Scope.MALL_ADMIN}))
NODE = Principal(f"node:{BOOKS}", f"node-{BOOKS}", frozenset({Scope.NODE_FEDERATE}), BOOKS)


@pytest.fixture
async def sessions(hub_databases: HubDatabases) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated hub, with nothing registered, on each backend."""
    url = (await hub_databases.new()).url
    async with engine_scope(url) as engine:
        yield session_factory(engine)


async def _execute(
    sessions: async_sessionmaker[AsyncSession],
    user: Principal,
    document: str,
    schema: strawberry.Schema = hub_schema,
    **variables: Any,
) -> dict[str, Any]:
    # The hub's state as the app keeps it: the sessions, and the settings (the network key
    # intake checks reported phones with).
    state = SimpleNamespace(sessions=sessions, settings=Settings(network_key="hub-problems"))
    context = {"request": _Request(user), "state": state}
    result = await schema.execute(document, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return dict(result.data)


def _shop(slug: str) -> dict[str, str]:
    return {"slug": slug, "nameFa": slug, "nameEn": slug, "category": "books"}


async def _count(sessions: async_sessionmaker[AsyncSession], table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def _race(sqlstate: str) -> DBAPIError:
    """What the driver raises when the database aborts a transaction for a race."""

    class Orig(Exception):
        pass

    orig = Orig(f"the database aborted the transaction ({sqlstate})")
    orig.sqlstate = sqlstate  # type: ignore[attr-defined]
    return DBAPIError("UPDATE ...", None, orig)


async def test_a_refused_mutation_answers_with_the_typed_problem_of_its_code(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await _execute(sessions, MALL_ADMIN, REGISTER, input=_shop(BOOKS))
    assert first["registerShop"] == {"__typename": "ShopRegistered", "shop": {"slug": BOOKS}}

    again = (await _execute(sessions, MALL_ADMIN, REGISTER, input=_shop(BOOKS)))["registerShop"]
    assert again == {
        "__typename": "ShopExists",
        "code": "SHOP_EXISTS",
        "message": f"shop {BOOKS!r} is already registered",
        "field": "slug",
    }
    bad = {**_shop("kafsh-arya"), "category": "rockets"}
    invalid = (await _execute(sessions, MALL_ADMIN, REGISTER, input=bad))["registerShop"]
    assert (invalid["__typename"], invalid["code"], invalid["field"]) == (
        "InvalidInput",
        "INVALID_INPUT",
        "category",
    )
    assert await _count(sessions, Shop) == 1  # neither refusal wrote a shop

    missing = (await _execute(sessions, MALL_ADMIN, SUSPEND, slug="nowhere"))["suspendShop"]
    assert missing == {
        "__typename": "ShopNotFound",
        "code": "SHOP_NOT_FOUND",
        "message": "no shop 'nowhere' is registered",
        "field": "slug",
    }


async def test_a_refused_hold_writes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _execute(sessions, MALL_ADMIN, REGISTER, input=_shop(BOOKS))
    hold = {
        "pseudonym": "not-a-pseudonym",
        "amountRial": 10_000,
        "purchaseRef": "r-1",
        "idempotencyKey": "k-1",
    }
    unasked = (await _execute(sessions, NODE, HOLD, input=hold))["holdNetworkValue"]
    assert (unasked["__typename"], unasked["code"], unasked["field"]) == (
        "GrantRequired",
        "GRANT_REQUIRED",
        "grant",
    )
    answer = (await _execute(sessions, NODE, HOLD, input={**hold, "grant": "123456"}))[
        "holdNetworkValue"
    ]
    assert (answer["__typename"], answer["code"], answer["field"]) == (
        "InvalidInput",
        "INVALID_INPUT",
        "pseudonym",
    )
    # The shopper's own grant (made in the app after the PIN), for a shopper with nothing.
    async with sessions() as session, session.begin():
        assert await grants.set_pin(session, "a" * 64, "2580") is None
        made = await grants.issue_app_grant(session, "a" * 64, "2580")
        assert isinstance(made, grants.IssuedGrant)
    poor = {**hold, "pseudonym": "a" * 64, "grant": made.code}
    short = (await _execute(sessions, NODE, HOLD, input=poor))["holdNetworkValue"]
    assert (short["__typename"], short["code"]) == ("InsufficientValue", "INSUFFICIENT_VALUE")
    assert await _count(sessions, ValueHold) == 0


# A field of its own, to show what ``run`` does with a problem its union does not declare.
@strawberry.type
class _Done:
    done: bool


@strawberry.type
class _Query:
    @strawberry.field(extensions=public())
    def ok(self) -> bool:
        return True


@strawberry.type
class _Mutation:
    @strawberry.mutation(extensions=public())
    async def refuse(
        self, info: strawberry.Info, code: str
    ) -> Annotated[_Done | InvalidInput, strawberry.union("RefuseResult")]:
        async def work(session: AsyncSession) -> _Done:
            raise HubError(ProblemCode[code], f"refused with {code}", "code")

        return await run(info, work)


_schema = build_schema(_Query, _Mutation)
REFUSE = (
    "mutation($code: String!) { refuse(code: $code) { __typename ... on HubProblem { code } } }"
)


async def test_a_problem_the_field_does_not_declare_stays_an_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    declared = await _execute(sessions, NODE, REFUSE, _schema, code="INVALID_INPUT")
    assert declared["refuse"] == {"__typename": "InvalidInput", "code": "INVALID_INPUT"}

    context = {"request": _Request(NODE), "state": SimpleNamespace(sessions=sessions)}
    result = await _schema.execute(
        REFUSE, variable_values={"code": "NOT_FOUND"}, context_value=context
    )
    assert result.data is None
    assert result.errors is not None
    assert [e.message for e in result.errors] == ["refused with NOT_FOUND"]


async def _flaky(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, sqlstate: str
) -> list[int]:
    """Make ``owner.name`` fail once as the database does on a race, then work; returns the
    calls made."""
    real: Callable[..., Awaitable[Any]] = getattr(owner, name)
    calls: list[int] = []

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(calls) + 1)
        if len(calls) == 1:
            raise _race(sqlstate)
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)
    return calls


async def test_ingest_is_retried_after_a_deadlock(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    await _execute(sessions, MALL_ADMIN, REGISTER, input=_shop(BOOKS))
    calls = await _flaky(monkeypatch, intake, "ingest", "40P01")
    enrolled = MemberEnrolled(pseudonym="b" * 64, joined_via="purchase", partner_sharing=False)
    event = make_envelope(
        event_id=new_event_id(), node=BOOKS, seq=1, occurred_at=utcnow(), payload=enrolled
    )
    answer = await _execute(sessions, NODE, INGEST, events=[event.model_dump(mode="json")])
    assert calls == [1, 2]
    assert answer["ingestEvents"] == {"__typename": "IngestResult", "accepted": 1, "duplicates": 0}
    assert await _count(sessions, FederationEvent) == 1


async def test_a_mutation_that_did_not_retry_now_does(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    # registerShop ran in a transaction of its own, without a retry, before the resolvers
    # shared one idiom.
    calls = await _flaky(monkeypatch, registry, "register_shop", "40001")
    answer = await _execute(sessions, MALL_ADMIN, REGISTER, input=_shop(BOOKS))
    assert calls == [1, 2]
    assert answer["registerShop"] == {"__typename": "ShopRegistered", "shop": {"slug": BOOKS}}
    assert await _count(sessions, Shop) == 1
