"""The hub GraphQL schema (exported to ``graphql/hub.graphql``)."""

from __future__ import annotations

import strawberry

import mallnet
from mallnet.authz import public
from mallnet.gql import ServerInfo, build_schema


@strawberry.type
class Query:
    @strawberry.field(extensions=public(), description="Which server this is.")
    def server_info(self) -> ServerInfo:
        return ServerInfo(role="hub", version=mallnet.__version__, shop=None)


schema = build_schema(Query)
