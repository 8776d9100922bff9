"""The hub's per-request DataLoaders: per-node and per-shopper reads of a list, each for the
whole list in one statement (see ``mallnet.loaders``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from hub.api.common import sessions
from hub.services import inbox
from hub.services.memberships import memberships_of
from mallnet.loaders import BatchReads, batch_loader, per_request


@dataclass(frozen=True)
class HubLoaders:
    inbox_depth: DataLoader[str, int]  # node -> commands waiting for it
    memberships: DataLoader[str, list[str]]  # shopper pseudonym -> shops, in joining order

    @classmethod
    def of(cls, factory: async_sessionmaker[AsyncSession]) -> HubLoaders:
        reads = BatchReads(factory)
        return cls(
            inbox_depth=batch_loader(reads, inbox.depths, "inbox depth"),
            memberships=batch_loader(reads, memberships_of, "memberships"),
        )


def loaders(info: Info) -> HubLoaders:
    """This request's loaders."""
    return per_request(info, "hub_loaders", lambda: HubLoaders.of(sessions(info)))
