"""Per-request DataLoaders: the per-row reads of one GraphQL request, batched.

A page of 100 members asking for each one's balances used to cost 100 sessions, each a
transaction (on SQLite a ``BEGIN IMMEDIATE``, i.e. the write lock). A loader gathers the
keys its field resolvers ask for in one turn of the event loop and reads them with one
statement. All loaders of a request share one session (``BatchReads``), and each batch is
its own short, read-only transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader
from strawberry.types import Info

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class BatchReads:
    """One session for a request's batched reads."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        # Loaders dispatch their batches as concurrent tasks; a session serves one at a time.
        self._lock = asyncio.Lock()

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self._lock:
            if self._session is None:
                self._session = self._sessions()
            try:
                return await work(self._session)
            finally:
                # End the transaction with the batch, not with the request: SQLite's write
                # lock and PostgreSQL's snapshot are not held while the response is built,
                # and no connection is left to close. close() rolls back (nothing was
                # written) and detaches the rows read, loaded as they are; the session is
                # used again by the next batch.
                await self._session.close()


def batch_loader(
    reads: BatchReads,
    read: Callable[[AsyncSession, Sequence[K]], Awaitable[Mapping[K, V]]],
    what: str,
) -> DataLoader[K, V]:
    """A loader of ``read``'s answers by key; a key it has no answer for fails its field
    with a ``LookupError`` (as the per-row read did)."""

    async def load(keys: list[K]) -> list[V | BaseException]:
        found = await reads.run(lambda session: read(session, list(dict.fromkeys(keys))))
        return [found[k] if k in found else LookupError(f"no {what} for {k!r}") for k in keys]

    # No cache across the request: a document's second mutation must not be answered
    # with what its first one read. Repeated keys in one batch are read once all the same.
    return DataLoader(load_fn=load, cache=False)


def per_request(info: Info, name: str, make: Callable[[], T]) -> T:
    """The request's own ``name``, made on first use: the GraphQL context is a new dict for
    every request (``mallnet.gql.GraphQLApp.get_context``, or a test's ``context_value``)."""
    context: dict[str, Any] = info.context
    found = context.get(name)
    if found is None:
        found = context[name] = make()
    return found
