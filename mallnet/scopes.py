"""The network's OAuth scope catalogue: the one place scope names are spelled.

The hub issues every token in the network, so this catalogue is shared by the hub and the
nodes; each GraphQL field names the scope it needs from here.
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    # Mall management (the console).
    MALL_ADMIN = "mall:admin"
    MALL_CAMPAIGNS = "mall:campaigns"
    MALL_SETTLEMENT = "mall:settlement"
    MALL_REPORTS = "mall:reports"
    # A shop node's machine client talking to the hub.
    NODE_FEDERATE = "node:federate"
    # Only its own inbox: what a suspended shop's node may still get (node clients ask for
    # it by name; a request without a scope does not include it).
    NODE_INBOX = "node:inbox"
    # Shop staff on their own node (token audience = that shop).
    SHOP_MANAGE = "shop:manage"
    SHOP_OPERATE = "shop:operate"
    SHOP_READ = "shop:read"
    # Shoppers (the app).
    SHOPPER_READ = "shopper:read"
    SHOPPER_CONSENT = "shopper:consent"


DESCRIPTIONS: dict[Scope, str] = {
    Scope.MALL_ADMIN: "Register, suspend and configure shops; see the whole network.",
    Scope.MALL_CAMPAIGNS: "Run joint campaigns and lotteries.",
    Scope.MALL_SETTLEMENT: "Close settlement periods and read every statement.",
    Scope.MALL_REPORTS: "Read network-wide reports.",
    Scope.NODE_FEDERATE: "A node pushes its events to the hub and pulls its commands.",
    Scope.NODE_INBOX: "A node pulls and acknowledges its commands, and nothing else: granted "
    "even while its shop is suspended, so the command ending its staff's sessions arrives.",
    Scope.SHOP_MANAGE: "Shop manager: club policy, staff, partnerships, adjustments.",
    Scope.SHOP_OPERATE: "Shop operator / POS: record purchases and refunds, look up members.",
    Scope.SHOP_READ: "Read-only auditor of one shop's club.",
    Scope.SHOPPER_READ: "A shopper reads their own balances, tickets and history.",
    Scope.SHOPPER_CONSENT: "A shopper changes their own consents.",
}


# Scopes a client gets only when it asks for them by name (never by asking for no scope).
ASKED_FOR_BY_NAME = frozenset({Scope.NODE_INBOX})

# The start of the token endpoint's error description when a suspended shop's node asks
# for more than ``node:inbox`` (error ``unauthorized_client``; said only to the client
# itself, after it authenticated): its node then pulls its inbox with ``node:inbox``.
SHOP_SUSPENDED = "shop_suspended"
