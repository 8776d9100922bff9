"""The shops registry over GraphQL: mall management registers, suspends and reactivates
shops (``mall:admin``); every client of the network reads the registry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.access import SHOP_READERS
from hub.api.common import run, sessions
from hub.api.problems import InvalidInput, ShopExists, ShopNotFound
from hub.db import models
from hub.services import directory, registry
from mallnet.authz import guard_fields, requires
from mallnet.scopes import Scope


@strawberry.type(description="A shop of the network.")
class Shop:
    slug: str
    name_fa: str
    name_en: str
    category: str
    floor: str | None
    unit: str | None
    node_url: str | None
    status: str = strawberry.field(description="active or suspended.")
    created_at: dt.datetime

    @classmethod
    def of(cls, row: models.Shop) -> Shop:
        return cls(
            slug=row.slug,
            name_fa=row.name_fa,
            name_en=row.name_en,
            category=row.category,
            floor=row.floor,
            unit=row.unit,
            node_url=row.node_url,
            status=row.status,
            created_at=row.created_at,
        )


@strawberry.type(description="A registered shop and its node's credentials, shown once.")
class ShopRegistered:
    shop: Shop
    client_id: str
    client_secret: str = strawberry.field(
        description="Store it in the node's configuration now: the hub keeps only a hash."
    )


@strawberry.type(description="An active shop of the network, as shoppers browse it.")
class DirectoryShop:
    slug: str
    name_fa: str
    name_en: str
    category: str
    floor: str | None
    unit: str | None
    accepts_pooled_points: bool = strawberry.field(
        description="Whether pooled points may be spent here: they may at every active "
        "shop of the network (a hold takes pooled points wherever its shop's node holds)."
    )
    accepts_general_credit: bool = strawberry.field(
        description="Whether general network credit may be spent here: it may at every "
        "active shop, like pooled points. Targeted credit is not counted: it names its own "
        "shops or category (the wallet's credit lists them)."
    )

    @classmethod
    def of(cls, found: directory.DirectoryShop) -> DirectoryShop:
        return cls(
            slug=found.slug,
            name_fa=found.name_fa,
            name_en=found.name_en,
            category=found.category,
            floor=found.floor,
            unit=found.unit,
            accepts_pooled_points=found.accepts_pooled_points,
            accepts_general_credit=found.accepts_general_credit,
        )


DIRECTORY_READERS = (Scope.SHOPPER_READ, *SHOP_READERS)
guard_fields(Shop, *SHOP_READERS)
guard_fields(DirectoryShop, *DIRECTORY_READERS)
guard_fields(ShopRegistered, Scope.MALL_ADMIN)

RegisterShopResult = Annotated[
    ShopRegistered | InvalidInput | ShopExists, strawberry.union("RegisterShopResult")
]
ShopResult = Annotated[Shop | ShopNotFound, strawberry.union("ShopResult")]


@strawberry.input
class RegisterShopInput:
    slug: str
    name_fa: str
    name_en: str
    category: str = strawberry.field(description=", ".join(registry.CATEGORIES))
    floor: str | None = None
    unit: str | None = None
    node_url: str | None = None


@strawberry.input(description="What the shopper app's directory shows of a shop.")
class ShopDetailsInput:
    name_fa: str
    name_en: str
    category: str = strawberry.field(description=", ".join(registry.CATEGORIES))
    floor: str | None = None
    unit: str | None = None


UpdateShopResult = Annotated[
    Shop | InvalidInput | ShopNotFound, strawberry.union("UpdateShopDetailsResult")
]


@strawberry.type
class RegistryQuery:
    @strawberry.field(extensions=requires(*SHOP_READERS), description="The shops registry.")
    async def shops(self, info: strawberry.Info) -> list[Shop]:
        async with sessions(info)() as session:
            return [Shop.of(row) for row in await registry.list_shops(session)]

    @strawberry.field(
        extensions=requires(*DIRECTORY_READERS),
        description="The shop directory for shoppers: the active shops, in Persian "
        "alphabetical order of their names, and the network value each takes.",
    )
    async def directory(self, info: strawberry.Info) -> list[DirectoryShop]:
        async with sessions(info)() as session:
            return [DirectoryShop.of(s) for s in await directory.shoppers_directory(session)]


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(
        extensions=requires(Scope.MALL_ADMIN),
        description="Register a shop; returns its node's client credentials once.",
    )
    async def register_shop(
        self, info: strawberry.Info, input: RegisterShopInput
    ) -> RegisterShopResult:
        data = registry.ShopInput(
            slug=input.slug,
            name_fa=input.name_fa,
            name_en=input.name_en,
            category=input.category,
            floor=input.floor,
            unit=input.unit,
            node_url=input.node_url,
        )

        async def work(session: AsyncSession) -> ShopRegistered:
            shop, credentials = await registry.register_shop(session, data)
            return ShopRegistered(
                shop=Shop.of(shop),
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
            )

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(Scope.MALL_ADMIN),
        description="Suspend a shop: its node gets no tokens and its tokens stop working.",
    )
    async def suspend_shop(self, info: strawberry.Info, slug: str) -> ShopResult:
        return await _set_status(info, slug, "suspended")

    @strawberry.mutation(extensions=requires(Scope.MALL_ADMIN), description="Undo a suspension.")
    async def reactivate_shop(self, info: strawberry.Info, slug: str) -> ShopResult:
        return await _set_status(info, slug, "active")

    @strawberry.mutation(
        extensions=requires(Scope.MALL_ADMIN),
        description="Change a shop's names, category, floor and unit (the directory's details).",
    )
    async def update_shop_details(
        self, info: strawberry.Info, slug: str, input: ShopDetailsInput
    ) -> UpdateShopResult:
        data = registry.ShopInput(
            slug, input.name_fa, input.name_en, input.category, input.floor, input.unit
        )

        async def work(session: AsyncSession) -> Shop:
            return Shop.of(await registry.update_shop_details(session, data))

        return await run(info, work)


async def _set_status(info: strawberry.Info, slug: str, status: str) -> ShopResult:
    async def work(session: AsyncSession) -> Shop:
        return Shop.of(await registry.set_shop_status(session, slug, status))

    return await run(info, work)
