"""People over GraphQL: who the token speaks for (``viewer``), the signed-in shopper's own
network identity, wallet, history, lotteries and offers (``me``), and the network's
shoppers for mall management — pseudonymous, the phone masked."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types.nodes import SelectedField

from hub.api.access import ANY_CLIENT, signed_in_shopper
from hub.api.common import sessions
from hub.api.loaders import loaders
from hub.api.lottery_views import ShopperLottery, shopper_lotteries
from hub.api.shopper_offers import ShopperOfferPage, ShopperOffersResult, offers_page
from hub.api.wallet import NetworkValueEntry, NetworkWallet, value_history, wallet
from hub.db import models
from hub.services import people
from mallnet.auth import Principal
from mallnet.authz import guard_fields, requires
from mallnet.gql_limits import page_size
from mallnet.phone import mask
from mallnet.scopes import Scope


@strawberry.type(description="Who the token speaks for.")
class Viewer:
    subject: str
    client_id: str
    scopes: list[str]
    shop: str | None


@strawberry.type(description="The shopper's network card: what a till types or scans.")
class NetworkCard:
    number: str = strawberry.field(
        description="The shopper's mobile in local form, e.g. 09121234567."
    )
    qr_payload: str = strawberry.field(
        description='What the QR code carries: "mallnet:card:" and the mobile in E.164, '
        "e.g. mallnet:card:+989121234567."
    )


@strawberry.type(description="A shopper as the network knows them: a pseudonym.")
class NetworkShopper:
    pseudonym: str
    phone_masked: str | None = strawberry.field(
        description="Only for shoppers who signed in to the app; masked even then."
    )
    created_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    # Only ``me`` sets it: the shopper's own card, never shown in mall management's lists.
    own_card: strawberry.Private[people.NetworkCard | None] = None
    # What ``me`` already read in its own session (one round of the database, not three).
    prefetched_wallet: strawberry.Private[NetworkWallet | None] = None
    prefetched_history: strawberry.Private[
        tuple[int, int | None, list[NetworkValueEntry]] | None
    ] = None

    @strawberry.field(
        description="The signed-in shopper's own network card (in me only; null elsewhere, "
        "and when the hub has no phone for her)."
    )
    def card(self) -> NetworkCard | None:
        if self.own_card is None:
            return None
        return NetworkCard(number=self.own_card.number, qr_payload=self.own_card.qr_payload)

    @strawberry.field(description="Pooled points, network credit and club balances.")
    async def wallet(self, info: strawberry.Info) -> NetworkWallet:
        if self.prefetched_wallet is not None:
            return self.prefetched_wallet
        async with sessions(info)() as session:
            return await wallet(session, self.pseudonym)

    @strawberry.field(description="Every change of network value, newest first, with shops.")
    async def value_history(
        self, info: strawberry.Info, first: int = 50, before: int | None = None
    ) -> list[NetworkValueEntry]:
        if self.prefetched_history is not None and self.prefetched_history[:2] == (first, before):
            return self.prefetched_history[2]
        async with sessions(info)() as session:
            return await value_history(session, self.pseudonym, first, before)

    @strawberry.field(description="The lotteries this shopper has tickets in, and results.")
    async def lotteries(self, info: strawberry.Info) -> list[ShopperLottery]:
        async with sessions(info)() as session:
            return await shopper_lotteries(session, self.pseudonym)

    @strawberry.field(
        extensions=requires(Scope.SHOPPER_READ),
        description="Offers for her, newest first: the one-time offers her shops granted "
        "her (open, not expired) and the live permanent offers of the shops whose clubs she "
        "belongs to. In me only (empty elsewhere). first: 1-100; after: the endCursor of the "
        "page before.",
    )
    async def offers(
        self, info: strawberry.Info, first: int = 50, after: str | None = None
    ) -> ShopperOffersResult:
        if signed_in_shopper(info) != self.pseudonym:
            return ShopperOfferPage(items=[], has_more=False, end_cursor=None)
        return await offers_page(info, self.pseudonym, first, after)

    @strawberry.field(description="The shops whose clubs this shopper belongs to.")
    async def memberships(self, info: strawberry.Info) -> list[str]:
        return await loaders(info).memberships.load(self.pseudonym)

    @classmethod
    def of(cls, row: models.Shopper) -> NetworkShopper:
        return cls(
            pseudonym=row.pseudonym,
            phone_masked=None if row.phone is None else mask(row.phone),
            created_at=row.created_at,
            last_sign_in_at=row.last_sign_in_at,
        )


guard_fields(NetworkShopper, Scope.SHOPPER_READ, Scope.MALL_ADMIN, Scope.MALL_REPORTS)
guard_fields(NetworkCard, Scope.SHOPPER_READ)
guard_fields(Viewer, *ANY_CLIENT)


@strawberry.type
class PeopleQuery:
    @strawberry.field(extensions=requires(*ANY_CLIENT), description="The caller's identity.")
    def viewer(self, info: strawberry.Info) -> Viewer:
        user = info.context["request"].user
        assert isinstance(user, Principal)
        return Viewer(
            subject=user.subject,
            client_id=user.client_id,
            scopes=sorted(user.scopes),
            shop=user.shop,
        )

    @strawberry.field(
        extensions=requires(Scope.SHOPPER_READ),
        description="The signed-in shopper's own network identity, wallet and history.",
    )
    async def me(self, info: strawberry.Info) -> NetworkShopper | None:
        identity = signed_in_shopper(info)
        if identity is None:
            return None
        wanted = {
            f.name: f for f in info.selected_fields[0].selections if isinstance(f, SelectedField)
        }
        async with sessions(info)() as session:
            row = await people.get_shopper(session, identity)
            if row is None:
                return None
            shopper = NetworkShopper.of(row)
            shopper.own_card = people.network_card(row)
            # The app asks for its wallet and history together: read them in this session
            # (the field resolvers would each open their own, concurrently).
            if "wallet" in wanted:
                shopper.prefetched_wallet = await wallet(session, identity)
            if "valueHistory" in wanted:
                args = wanted["valueHistory"].arguments
                first, before = int(args.get("first", 50)), args.get("before")
                history = await value_history(session, identity, first, before)
                shopper.prefetched_history = (first, before, history)
        return shopper

    @strawberry.field(
        extensions=requires(Scope.MALL_ADMIN, Scope.MALL_REPORTS),
        description="Shoppers of the network, pseudonymous, newest first.",
    )
    async def shoppers(self, info: strawberry.Info, first: int = 50) -> list[NetworkShopper]:
        async with sessions(info)() as session:
            rows = await people.list_shoppers(session, page_size(first, 200))
        return [NetworkShopper.of(row) for row in rows]
