"""Who may call the hub's GraphQL API: the scope groups fields name, and who is calling."""

from __future__ import annotations

import strawberry

from graphql import GraphQLError
from mallnet.auth import Principal
from mallnet.scopes import Scope

MALL = (Scope.MALL_ADMIN, Scope.MALL_REPORTS, Scope.MALL_CAMPAIGNS, Scope.MALL_SETTLEMENT)
# Nodes read the registry too (shop names for partnerships and statements).
SHOP_READERS = (*MALL, Scope.NODE_FEDERATE)
ANY_CLIENT = (*SHOP_READERS, Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT)


def node_of(info: strawberry.Info) -> str:
    """The calling shop node's shop (a top-level error for any other caller)."""
    user = info.context["request"].user
    if not isinstance(user, Principal) or user.shop is None:
        raise GraphQLError(
            "only a shop node's client may do this", extensions={"code": "FORBIDDEN"}
        )
    return user.shop


def signed_in_shopper(info: strawberry.Info) -> str | None:
    """The signed-in shopper's pseudonym, or None when the caller is not a shopper."""
    user = info.context["request"].user
    if not isinstance(user, Principal) or not user.subject.startswith("shopper:"):
        return None
    return user.subject.removeprefix("shopper:")


def shopper_of(info: strawberry.Info) -> str:
    """The signed-in shopper's pseudonym (a top-level error for any other caller)."""
    shopper = signed_in_shopper(info)
    if shopper is None:
        raise GraphQLError("only a signed-in shopper may do this", extensions={"code": "FORBIDDEN"})
    return shopper


def actor(info: strawberry.Info) -> str:
    """Who the token speaks for, as the records name the author of a change."""
    user = info.context["request"].user
    return user.subject if isinstance(user, Principal) else "unknown"
