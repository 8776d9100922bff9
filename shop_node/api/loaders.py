"""The node's per-request DataLoaders: a member's balances, tier and company, what was
refunded of a purchase and what offers gave at it, each read for a whole page in one
statement (``mallnet.loaders``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from mallnet.loaders import BatchReads, batch_loader, per_request
from shop_node.api.access import runtime
from shop_node.db import models
from shop_node.services import members, offer_till, purchases, till
from shop_node.services.ledger import MemberAccounts, balances_of
from shop_node.services.runtime import NodeRuntime


@dataclass(frozen=True)
class NodeLoaders:
    balances: DataLoader[int, MemberAccounts]
    tier: DataLoader[int, purchases.TierStanding]
    member: DataLoader[int, models.Member]
    refunded: DataLoader[int, int]
    offers: DataLoader[int, list[offer_till.GivenAt]]

    @classmethod
    def of(cls, node: NodeRuntime) -> NodeLoaders:
        reads = BatchReads(node.read_sessions)

        async def tiers(
            session: AsyncSession, ids: Sequence[int]
        ) -> dict[int, purchases.TierStanding]:
            return await purchases.tier_standings(session, node, ids)

        return cls(
            balances=batch_loader(reads, balances_of, "ledger accounts"),
            tier=batch_loader(reads, tiers, "tier standing"),
            member=batch_loader(reads, members.members_by_id, "member"),
            refunded=batch_loader(reads, till.refunded_by_purchase, "refunds"),
            offers=batch_loader(reads, offer_till.rewards_by_purchase, "offer rewards"),
        )


def loaders(info: Info) -> NodeLoaders:
    """This request's loaders."""
    return per_request(info, "node_loaders", lambda: NodeLoaders.of(runtime(info)))
