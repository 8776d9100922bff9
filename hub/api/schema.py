"""The hub GraphQL schema (exported to ``graphql/hub.graphql``): the root, assembled from
one module per area (they mirror ``hub.services``).

Resolvers parse, authorise (each field names its scopes), call one service and map the
result; a use case runs in one retried transaction (``hub.api.common``) and its expected
failures come back as typed problems (``hub.api.problems``).
"""

from __future__ import annotations

import strawberry

import mallnet
from hub.api.campaigns import CampaignMutation, CampaignQuery
from hub.api.consents import ConsentMutation, ConsentQuery
from hub.api.console_lists import ConsoleListQuery
from hub.api.federation import FederationMutation, FederationQuery
from hub.api.grants import GrantMutation, GrantQuery
from hub.api.message_relay import MessageRelayMutation, MessageRelayQuery
from hub.api.messages import HubMessageQuery
from hub.api.overview import OverviewQuery
from hub.api.partnerships import PartnershipMutation, PartnershipQuery
from hub.api.people import PeopleQuery
from hub.api.registry import RegistryMutation, RegistryQuery
from hub.api.relay_log import RelayLogQuery
from hub.api.settlement import SettlementMutation, SettlementQuery
from hub.api.staff import StaffMutation, StaffQuery
from hub.api.telegram import TelegramMutation
from hub.api.value import ValueMutation, ValueQuery
from hub.api.value_report import ValueReportQuery
from mallnet.authz import public
from mallnet.gql import ServerInfo, build_schema


@strawberry.type
class ServerQuery:
    @strawberry.field(extensions=public(), description="Which server this is.")
    def server_info(self) -> ServerInfo:
        return ServerInfo(role="hub", version=mallnet.__version__, shop=None)


# The order of the areas is the order of the fields in the SDL.
@strawberry.type
class Query(
    ValueQuery,
    GrantQuery,
    SettlementQuery,
    CampaignQuery,
    ServerQuery,
    PeopleQuery,
    ConsentQuery,
    PartnershipQuery,
    FederationQuery,
    RegistryQuery,
    StaffQuery,
    OverviewQuery,
    ConsoleListQuery,
    ValueReportQuery,
    HubMessageQuery,
    MessageRelayQuery,
    RelayLogQuery,
):
    pass


@strawberry.type
class Mutation(
    ValueMutation,
    GrantMutation,
    SettlementMutation,
    CampaignMutation,
    ConsentMutation,
    TelegramMutation,
    PartnershipMutation,
    FederationMutation,
    RegistryMutation,
    StaffMutation,
    MessageRelayMutation,
):
    pass


schema = build_schema(Query, Mutation)
