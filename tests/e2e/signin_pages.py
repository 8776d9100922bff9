"""Signing in to the hub's faces in a real browser, through the hub's own pages: the face
sends a visitor without a session to /<face>/login, which leads to the sign-in page; after
it, the browser is back on the face holding only an HttpOnly session cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.services import people, registry
from mallnet.config import Settings
from mallnet.db import engine_scope, session_factory, utcnow
from mallnet.migrations import upgrade
from shop_node.db.models import HubCredentials
from shop_node.services.bootstrap import prepare_node

from ..hub_pages import in_hub
from ..oauth_flow import last_code

SHOPPER_PHONE = "09121234567"
MANAGER = ("boss", "correct horse battery")
SHOP_MANAGER = ("ali", "ali manager password")
BOOKS = "ketab-sara"


async def prepare_hub(settings: Settings, node_url: str | None = None) -> None:
    """A migrated hub with a shop, a mall admin and the shop's manager (the shopper signs
    up by signing in); with ``node_url``, the shop's node there, migrated and connected."""
    await upgrade("hub", settings.hub_db_url)

    async def work(session: Any) -> registry.IssuedCredentials:
        shop = registry.ShopInput(BOOKS, "کتاب‌سرا", "Ketab Sara", "books", node_url=node_url)
        _shop, node = await registry.register_shop(session, shop)
        await people.create_user(session, *MANAGER, "mall_admin", None)
        await people.create_user(session, *SHOP_MANAGER, "manager", BOOKS)
        return node

    node: registry.IssuedCredentials = await in_hub(settings, work)
    if node_url is None:
        return
    await prepare_node(settings, BOOKS)
    async with (
        engine_scope(settings.node_db_url(BOOKS)) as engine,
        session_factory(engine)() as session,
        session.begin(),
    ):
        credentials = HubCredentials(
            id=1, client_id=node.client_id, client_secret=node.client_secret, updated_at=utcnow()
        )
        session.add(credentials)


def sign_in_shopper(page: Any, app_url: str, outbox: Path) -> None:
    """Open the app, be sent to the sign-in page, sign in with phone and texted code."""
    page.goto(app_url)
    page.wait_for_url("**/oauth/authorize**")
    page.locator("#phone").fill(SHOPPER_PHONE)
    page.locator("#phone").press("Enter")
    page.locator("#code").wait_for()
    page.locator("#code").fill(last_code(outbox))
    page.locator("#code").press("Enter")
    page.wait_for_url(app_url)


def sign_in_manager(page: Any, console_url: str, account: tuple[str, str] = MANAGER) -> None:
    """Open the console (or, with the shop manager's account, a node's dashboard), be sent
    to the hub's sign-in page, sign in with a password, come back."""
    page.goto(console_url)
    page.wait_for_url("**/oauth/authorize**")
    page.locator("#username").fill(account[0])
    page.locator("#password").fill(account[1])
    page.locator("#password").press("Enter")
    page.wait_for_url(console_url)


def kept_on_device(page: Any) -> list[Any]:
    """What the page's scripts can read: local and session storage, document.cookie."""
    return list(page.evaluate("[{...localStorage}, {...sessionStorage}, document.cookie]"))
