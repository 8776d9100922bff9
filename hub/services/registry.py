"""The shops registry and the hub's OAuth clients (mall management's use cases).

Registering a shop creates its node's machine client (client_credentials,
``node:federate``, and ``node:inbox`` asked for by name); the secret is returned once and
stored only as a SHA-256 digest. A suspended shop's client gets no new token but a
``node:inbox`` one, and the hub refuses the tokens it already holds; its staff's sessions
end (``staff.end_shop_sessions``), and its node, pulling its inbox with ``node:inbox``,
ends them there too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import OAuthClient, Shop
from hub.domain.problems import HubError, ProblemCode
from hub.services import staff
from mallnet.config import InvalidShopSlug, check_shop_slug
from mallnet.db import utcnow
from mallnet.scopes import Scope

CATEGORIES = (
    "fashion",
    "shoes",
    "books",
    "food",
    "cafe",
    "electronics",
    "jewellery",
    "beauty",
    "home",
    "kids",
    "sports",
    "services",
    "other",
)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


class RegistryError(HubError):
    """An expected failure of a registry use case (bad input, unknown or duplicate shop)."""


@dataclass(frozen=True)
class ShopInput:
    slug: str
    name_fa: str
    name_en: str
    category: str
    floor: str | None = None
    unit: str | None = None
    node_url: str | None = None


@dataclass(frozen=True)
class IssuedCredentials:
    client_id: str
    client_secret: str


def hash_secret(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(hash_secret(secret), stored)


def _check(data: ShopInput) -> None:
    try:
        check_shop_slug(data.slug)
    except InvalidShopSlug as exc:
        raise RegistryError(ProblemCode.INVALID_INPUT, str(exc), "slug") from None
    for field, value in (("nameFa", data.name_fa), ("nameEn", data.name_en)):
        if not 1 <= len(value.strip()) <= 120:
            raise RegistryError(ProblemCode.INVALID_INPUT, "1-120 characters", field)
    if data.category not in CATEGORIES:
        raise RegistryError(
            ProblemCode.INVALID_INPUT, f"one of {', '.join(CATEGORIES)}", "category"
        )
    if data.floor is not None and len(data.floor) > 10:
        raise RegistryError(ProblemCode.INVALID_INPUT, "at most 10 characters", "floor")
    if data.unit is not None and len(data.unit) > 20:
        raise RegistryError(ProblemCode.INVALID_INPUT, "at most 20 characters", "unit")
    if data.node_url is not None and (len(data.node_url) > 300 or not _URL.match(data.node_url)):
        raise RegistryError(
            ProblemCode.INVALID_INPUT, "an http(s) URL of at most 300 characters", "nodeUrl"
        )


async def register_shop(session: AsyncSession, data: ShopInput) -> tuple[Shop, IssuedCredentials]:
    _check(data)
    if await session.scalar(select(Shop.id).where(Shop.slug == data.slug)) is not None:
        raise RegistryError(
            ProblemCode.SHOP_EXISTS, f"shop {data.slug!r} is already registered", "slug"
        )
    now = utcnow()
    shop = Shop(
        slug=data.slug,
        name_fa=data.name_fa.strip(),
        name_en=data.name_en.strip(),
        category=data.category,
        floor=data.floor,
        unit=data.unit,
        node_url=data.node_url,
        status="active",
        created_at=now,
    )
    session.add(shop)
    try:
        await session.flush()
    except IntegrityError:  # registered concurrently
        raise RegistryError(
            ProblemCode.SHOP_EXISTS, f"shop {data.slug!r} is already registered", "slug"
        ) from None
    credentials = await create_client(
        session,
        kind="node",
        name=f"node of {data.slug}",
        scopes=[Scope.NODE_FEDERATE, Scope.NODE_INBOX],
        client_id=f"node-{data.slug}",
        shop_id=shop.id,
    )
    node = await session.get(OAuthClient, credentials.client_id)
    assert node is not None
    await ensure_dashboard_client(session, shop, node)
    return shop, credentials


DASHBOARD_SCOPES = (Scope.SHOP_MANAGE, Scope.SHOP_OPERATE, Scope.SHOP_READ)


async def ensure_dashboard_client(session: AsyncSession, shop: Shop, node: OAuthClient) -> None:
    """The shop's dashboard (on its node, ``hub.web.bff``'s counterpart there) signs staff
    in as the confidential client ``dashboard-<slug>``: the staff scopes only (the node's
    machine client never gets those), redirecting to the node's ``/dashboard/callback``,
    authenticating with the node's own secret (one party holds both), disabled with the
    node's client. Made with the shop, and brought up to date at the hub's start."""
    if shop.node_url is None:
        return
    wanted: dict[str, object] = {
        "secret_hash": node.secret_hash,
        "kind": "console",
        "name": f"dashboard of {shop.slug}",
        "shop_id": shop.id,
        "allowed_scopes": " ".join(sorted(DASHBOARD_SCOPES)),
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [f"{shop.node_url.rstrip('/')}/dashboard/callback"],
        "disabled_at": node.disabled_at,
    }
    client = await session.get(OAuthClient, f"dashboard-{shop.slug}")
    if client is None:
        session.add(OAuthClient(client_id=f"dashboard-{shop.slug}", created_at=utcnow(), **wanted))
        await session.flush()
        return
    for name, value in wanted.items():
        if getattr(client, name) != value:
            setattr(client, name, value)


async def create_client(
    session: AsyncSession,
    *,
    kind: str,
    name: str,
    scopes: list[Scope],
    client_id: str | None = None,
    shop_id: int | None = None,
    grant_types: list[str] | None = None,
    redirect_uris: list[str] | None = None,
) -> IssuedCredentials:
    """A confidential client; returns its secret, which is never shown again."""
    client_id = client_id or f"{kind}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    session.add(
        OAuthClient(
            client_id=client_id,
            secret_hash=hash_secret(secret),
            kind=kind,
            name=name,
            shop_id=shop_id,
            allowed_scopes=" ".join(sorted(scopes)),
            grant_types=grant_types or ["client_credentials"],
            redirect_uris=redirect_uris or [],
            created_at=utcnow(),
        )
    )
    await session.flush()
    return IssuedCredentials(client_id, secret)


async def create_app_client(
    session: AsyncSession,
    *,
    kind: str,
    name: str,
    scopes: list[Scope],
    redirect_uris: list[str],
    public: bool,
) -> IssuedCredentials:
    """A client people sign in through (authorization code + PKCE, refresh tokens): the
    shopper app is public (no secret on a phone); a console may hold a secret."""
    if not redirect_uris or any(not _URL.match(uri) for uri in redirect_uris):
        raise RegistryError(ProblemCode.INVALID_INPUT, "give http(s) redirect URIs", "redirectUris")
    grants = ["authorization_code", "refresh_token"]
    credentials = await create_client(
        session,
        kind=kind,
        name=name,
        scopes=scopes,
        grant_types=grants,
        redirect_uris=redirect_uris,
    )
    if public:
        client = await session.get(OAuthClient, credentials.client_id)
        assert client is not None
        client.secret_hash = None
        return IssuedCredentials(credentials.client_id, "")
    return credentials


async def set_shop_status(session: AsyncSession, slug: str, status: str) -> Shop:
    shop = await session.scalar(select(Shop).where(Shop.slug == slug).with_for_update())
    if shop is None:
        raise RegistryError(ProblemCode.SHOP_NOT_FOUND, f"no shop {slug!r} is registered", "slug")
    if shop.status != status:
        shop.status = status
        shop.suspended_at = utcnow() if status == "suspended" else None
        await session.flush()
        if status == "suspended":
            # Its staff's sessions end with it: at the hub now, on its node when it next
            # pulls its inbox (which a suspended shop's node still may, with node:inbox).
            await staff.end_shop_sessions(session, slug, "shop_suspended")
    return shop


async def update_shop_details(session: AsyncSession, data: ShopInput) -> Shop:
    """Change what the directory shows of a shop (names, category, floor, unit): its slug,
    node and credentials stay. ``data.node_url`` is not changed (it moves the node)."""
    _check(data)
    shop = await session.scalar(select(Shop).where(Shop.slug == data.slug).with_for_update())
    if shop is None:
        raise RegistryError(
            ProblemCode.SHOP_NOT_FOUND, f"no shop {data.slug!r} is registered", "slug"
        )
    shop.name_fa, shop.name_en = data.name_fa.strip(), data.name_en.strip()
    shop.category = data.category
    shop.floor = (data.floor or "").strip() or None
    shop.unit = (data.unit or "").strip() or None
    await session.flush()
    return shop


async def suspended_since(session: AsyncSession, slug: str) -> dt.datetime | None:
    """When the shop was suspended, if it is suspended now."""
    found: dt.datetime | None = await session.scalar(
        select(Shop.suspended_at).where(Shop.slug == slug, Shop.status == "suspended")
    )
    return found


async def list_shops(session: AsyncSession) -> list[Shop]:
    return list((await session.scalars(select(Shop).order_by(Shop.slug))).all())


async def unknown_shops(session: AsyncSession, slugs: Iterable[str]) -> list[str]:
    """Which of ``slugs`` the registry does not know (sorted)."""
    wanted = set(slugs)
    known = set((await session.scalars(select(Shop.slug).where(Shop.slug.in_(wanted)))).all())
    return sorted(wanted - known)
