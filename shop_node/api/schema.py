"""The node GraphQL schema (exported to ``graphql/node.graphql``)."""

from __future__ import annotations

import strawberry

import mallnet
from mallnet.authz import public
from mallnet.gql import ServerInfo, build_schema


@strawberry.type
class Query:
    @strawberry.field(extensions=public(), description="Which server this is.")
    def server_info(self, info: strawberry.Info) -> ServerInfo:
        shop: str = info.context["state"].shop
        return ServerInfo(role="node", version=mallnet.__version__, shop=shop)


schema = build_schema(Query)
