"""What every part of the hub's GraphQL API shares: scope groups, the caller's shop,
the session factory and the typed problem."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql import GraphQLError
from hub.domain.problems import HubError
from mallnet.auth import Principal
from mallnet.authz import guard_fields
from mallnet.db import transaction
from mallnet.scopes import Scope

MALL = (Scope.MALL_ADMIN, Scope.MALL_REPORTS, Scope.MALL_CAMPAIGNS, Scope.MALL_SETTLEMENT)
# Nodes read the registry too (shop names for partnerships and statements).
SHOP_READERS = (*MALL, Scope.NODE_FEDERATE)
ANY_CLIENT = (*SHOP_READERS, Scope.SHOPPER_READ)


def node_of(info: strawberry.Info) -> str:
    user = info.context["request"].user
    if not isinstance(user, Principal) or user.shop is None:
        raise GraphQLError(
            "only a shop node's client may do this", extensions={"code": "FORBIDDEN"}
        )
    return user.shop


def sessions(info: strawberry.Info) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = info.context["state"].sessions
    return factory


@strawberry.type(description="An expected failure, with a stable code.")
class HubProblem:
    code: str
    message: str
    field: str | None


guard_fields(HubProblem, *ANY_CLIENT)


def problem(exc: HubError) -> HubProblem:
    return HubProblem(code=exc.code, message=exc.message, field=exc.field)


T = TypeVar("T")


async def run(
    info: strawberry.Info, work: Callable[[AsyncSession], Awaitable[T]]
) -> T | HubProblem:
    """Run a use case in one transaction; its expected failure is the typed problem (and
    nothing it did is kept)."""
    try:
        return await transaction(sessions(info), work)
    except HubError as exc:
        return problem(exc)
