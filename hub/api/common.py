"""The one way a hub resolver runs a use case: the request's session factory, and one
database transaction per use case, retried when the database reports a race (a
serialization failure, a deadlock, a key another transaction took meanwhile: see
``mallnet.db.transaction``), its expected failure answered with a typed problem."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types.union import StrawberryUnion

from hub.api.problems import problem_of
from hub.domain.problems import HubError
from mallnet.db import read_session_factory, transaction

T = TypeVar("T")


def sessions(info: strawberry.Info) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = info.context["state"].sessions
    return factory


async def write(
    info: strawberry.Info, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 4
) -> T:
    """Run a use case that has no expected failure in one transaction (retried on races)."""
    return await transaction(sessions(info), work, attempts=attempts)


async def run(
    info: strawberry.Info, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 4
) -> T | Any:
    """Run a use case in one transaction (retried on races); its expected failure comes
    back as the typed problem the field's union declares, and nothing it did is kept. A
    problem the field does not declare was not expected there: it stays an error."""
    try:
        return await write(info, work, attempts=attempts)
    except HubError as exc:
        answer = problem_of(exc)
        declared = info.return_type
        if not (isinstance(declared, StrawberryUnion) and type(answer) in declared.types):
            exc.add_note(f"{info.field_name} does not declare the problem {exc.code.name}")
            raise
        return answer


async def read(info: strawberry.Info, work: Callable[[AsyncSession], Awaitable[T]]) -> T | Any:
    """Run a read (it writes nothing) in a session that takes no write lock on SQLite (a
    snapshot under WAL, as ``mallnet.db.read_session_factory`` says); bad input comes back
    as the typed problem (the field must declare it, as for ``run``)."""
    engine = sessions(info).kw["bind"]
    try:
        async with read_session_factory(engine)() as session:
            return await work(session)
    except HubError as exc:
        return problem_of(exc)
