"""The faces the hub serves and the OAuth clients they sign in through.

Each face is a confidential client of the hub (``hub-app``, ``hub-console``): its secret is
derived from the key-encryption key (HMAC-SHA256), so every hub instance knows it without
another setting, and the hub (re)registers the clients at start-up with their redirect URI
under its public URL. Rotating the KEK changes the secrets; the next start re-registers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import OAuthClient, Shop
from hub.services.registry import ensure_dashboard_client, hash_secret
from mallnet.db import utcnow
from mallnet.keywrap import Keyring
from mallnet.scopes import Scope


@dataclass(frozen=True)
class Face:
    name: str  # its path: /<name>/
    kind: str  # the client kind the sign-in pages go by (shopper_app: phone and code)
    label: str
    scopes: tuple[Scope, ...]

    @property
    def client_id(self) -> str:
        return f"hub-{self.name}"

    def redirect_uri(self, issuer: str) -> str:
        return f"{issuer}/{self.name}/callback"


FACES: Final = {
    "app": Face(
        "app", "shopper_app", "the shopper app (backend-for-frontend)",
        (Scope.SHOPPER_READ, Scope.SHOPPER_CONSENT),
    ),
    "console": Face(
        "console", "console", "the mall console (backend-for-frontend)",
        (Scope.MALL_ADMIN, Scope.MALL_REPORTS, Scope.MALL_CAMPAIGNS, Scope.MALL_SETTLEMENT),
    ),
}  # fmt: skip


def client_secret(keyring: Keyring, face: Face) -> str:
    mac = hmac.new(
        keyring.current.key, b"mallnet face client\0" + face.client_id.encode(), "sha256"
    )
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _wanted(face: Face, issuer: str, keyring: Keyring) -> dict[str, object]:
    return {
        "secret_hash": hash_secret(client_secret(keyring, face)),
        "kind": face.kind,
        "name": face.label,
        "allowed_scopes": " ".join(sorted(face.scopes)),
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [face.redirect_uri(issuer)],
    }


async def _ensure(session: AsyncSession, face: Face, issuer: str, keyring: Keyring) -> None:
    wanted = _wanted(face, issuer, keyring)
    client = await session.get(OAuthClient, face.client_id)
    if client is None:
        session.add(OAuthClient(client_id=face.client_id, created_at=utcnow(), **wanted))
        return
    for name, value in wanted.items():
        if getattr(client, name) != value:
            setattr(client, name, value)


async def _ensure_dashboards(session: AsyncSession) -> None:
    """Each shop's dashboard client (``registry.ensure_dashboard_client``), as the node's
    client and URL are now."""
    rows = await session.execute(
        select(Shop, OAuthClient)
        .join(OAuthClient, OAuthClient.shop_id == Shop.id)
        .where(OAuthClient.kind == "node", Shop.node_url.is_not(None))
    )
    for shop, node in rows.all():
        await ensure_dashboard_client(session, shop, node)


async def ensure_face_clients(
    sessions: async_sessionmaker[AsyncSession], issuer: str, keyring: Keyring
) -> None:
    """Register (or bring up to date) the faces' clients and the shops' dashboards'. Hub
    instances starting together may race to insert them: the loser finds them there."""
    for attempt in range(2):
        try:
            async with sessions() as session, session.begin():
                for face in FACES.values():
                    await _ensure(session, face, issuer, keyring)
                await _ensure_dashboards(session)
            return
        except IntegrityError:
            if attempt:
                raise


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
