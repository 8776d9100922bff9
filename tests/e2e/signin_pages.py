"""Signing in to the hub's faces in a real browser, through the hub's own pages: the face
sends a visitor without a session to /<face>/login, which leads to the sign-in page; after
it, the browser is back on the face holding only an HttpOnly session cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.services import people, registry
from mallnet.config import Settings
from mallnet.migrations import upgrade

from ..hub_pages import in_hub
from ..oauth_flow import last_code

SHOPPER_PHONE = "09121234567"
MANAGER = ("boss", "correct horse battery")


async def prepare_hub(settings: Settings) -> None:
    """A migrated hub with a shop and a mall admin (the shopper signs up by signing in)."""
    await upgrade("hub", settings.hub_db_url)

    async def work(session: Any) -> None:
        shop = registry.ShopInput("ketab-sara", "کتاب‌سرا", "Ketab Sara", "books")
        await registry.register_shop(session, shop)
        await people.create_user(session, *MANAGER, "mall_admin", None)

    await in_hub(settings, work)


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


def sign_in_manager(page: Any, console_url: str) -> None:
    page.goto(console_url)
    page.wait_for_url("**/oauth/authorize**")
    page.locator("#username").fill(MANAGER[0])
    page.locator("#password").fill(MANAGER[1])
    page.locator("#password").press("Enter")
    page.wait_for_url("**/console/")


def kept_on_device(page: Any) -> list[Any]:
    """What the page's scripts can read: local and session storage, document.cookie."""
    return list(page.evaluate("[{...localStorage}, {...sessionStorage}, document.cookie]"))
