"""Issue 19's link: a node's promotional message carries an opt-out link to the hub; the
page it opens (Persian and English) only asks, the button (a POST with its CSRF token)
withdraws her promotional consent at that one shop as the app's switch does, and the node
applies the command. A forged token, or another shop's, changes nothing and is answered
exactly as a member's own. (The hub on SQLite and PostgreSQL, a real server; the nodes on
their own databases.)"""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from hub.db.models import Membership
from mallnet.messaging import optout_link
from mallnet.messaging.templates import OPT_OUT_HINT, Kind, Values
from mallnet.secrets_store import network_key
from shop_node.db.models import Member, Message
from shop_node.services import notify
from shop_node.services.policy import current_policy

from .test_shopper_consents import BOOKS, SARA, SHOES, Mall, mall  # noqa: F401 - the fixture

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
BUTTON_FA = "توقف پیام‌های تبلیغاتی این فروشگاه"
BUTTON_EN = "Stop promotional messages from this shop"


async def _campaign(mall: Mall, shop: str, key: str) -> list[str]:  # noqa: F811
    """The shop sends Sara a campaign message (as a broadcast's chunk does): its texts."""
    runtime = mall.nodes[shop]

    async def work(session: Any) -> list[str]:
        member = await session.scalar(select(Member).where(Member.phone == SARA))
        _version, policy = await current_policy(session, runtime)
        values = Values(text="یلدا: دو کتاب به قیمت یکی")
        await notify.tell(session, runtime, policy, member, Kind.CAMPAIGN, values, key=key)
        texts = await session.scalars(
            select(Message.text).where(Message.idempotency_key.like(f"%{key}"))
        )
        return list(texts)

    found: list[str] = await runtime.transaction(work)
    return found


async def _promotional(mall: Mall) -> dict[str, bool]:  # noqa: F811
    """The hub's view of Sara's promotional consent, by shop."""

    async def read(session: Any) -> dict[str, bool]:
        rows = await session.execute(
            select(Membership.shop, Membership.promotional).where(
                Membership.pseudonym == mall.who(SARA)
            )
        )
        return {shop: bool(on) for shop, on in rows.all()}

    found: dict[str, bool] = await mall.hub(read)
    return found


async def _sara_at_both(mall: Mall) -> None:  # noqa: F811
    for shop in (BOOKS, SHOES):
        await mall.enrol(shop, SARA, partner=False, promotional=True)
        await mall.relay(shop)
    assert await _promotional(mall) == {BOOKS: True, SHOES: True}


def _press(pages: httpx.AsyncClient, link: str, page: httpx.Response) -> Any:
    token = _CSRF.search(page.text)
    assert token is not None, page.text
    return pages.post(link, data={"csrf_token": token.group(1)})


def _neutral(page: str) -> str:
    """A page without what differs by request: its CSRF token and its own address."""
    return re.sub(r'action="[^"]*"', "", _CSRF.sub("", page))


async def test_a_tap_on_the_link_and_the_button_opt_her_out_at_that_shop_only(
    mall: Mall,  # noqa: F811
) -> None:
    # Given Sara accepts promotions at the bookshop and at the shoe shop
    await _sara_at_both(mall)

    # When the bookshop sends her a campaign, it ends with the reply hint and her link to
    # the hub, which names neither her phone nor her pseudonym
    [text] = await _campaign(mall, BOOKS, "yalda-1")
    hint, link = text.split("\n")[-2:]
    assert hint == OPT_OUT_HINT["fa"]
    assert link.startswith(f"{mall.hub_url}/o/{BOOKS}/")
    token = link.rsplit("/", 1)[1]
    assert len(token) == 20
    assert mall.who(SARA)[:8] not in link
    assert "9121234567" not in link
    assert optout_link.matches(network_key(mall.settings), BOOKS, mall.who(SARA), token)

    async with httpx.AsyncClient(timeout=10) as pages:
        # Then opening the link (a preview, a scanner, her own tap) only asks, in Persian
        # and English, naming the shop
        page = await pages.get(link)
        assert page.status_code == 200
        assert (await pages.head(link)).status_code == 200
        assert BUTTON_FA in page.text
        assert BUTTON_EN in page.text
        assert "پیام‌های تبلیغاتی «ketab-sara»" in page.text
        assert "Promotional messages from ketab-sara" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert await _promotional(mall) == {BOOKS: True, SHOES: True}
        assert await mall.commands(BOOKS) == []

        # A POST without the page's CSRF token (another site's form) is refused, and
        # changes nothing
        forged = await pages.post(link, data={"csrf_token": "x" * 43})
        assert forged.status_code == 403
        async with httpx.AsyncClient(timeout=10) as stranger:
            assert (await stranger.post(link, data={})).status_code == 403
        assert await _promotional(mall) == {BOOKS: True, SHOES: True}
        assert await mall.commands(BOOKS) == []

        # When she presses the button
        done = await _press(pages, link, page)
        assert done.status_code == 200
        assert "انجام شد" in done.text
        assert "Done" in done.text
        assert BUTTON_EN not in done.text

        # Then the bookshop's promotions stop in the hub's view at once, the shoe shop's
        # stay, and only the bookshop's node is told, as the app's switch tells it
        assert await _promotional(mall) == {BOOKS: False, SHOES: True}
        withdrawal = {"pseudonym": mall.who(SARA), "partner_sharing": None, "promotional": False}
        assert await mall.commands(BOOKS) == [("command.set_consent", withdrawal)]
        assert await mall.commands(SHOES) == []

        # A second press (a reload of the answer) sends no second command
        again = await _press(pages, link, await pages.get(link))
        assert again.status_code == 200
        assert again.text == done.text
        assert len(await mall.commands(BOOKS)) == 1

    # And the node applies it: the bookshop sends her no more campaigns, the shoe shop does
    assert await mall.pull(BOOKS) == 1
    assert (await mall.member(BOOKS, SARA)).consent_promotional is False
    assert (await mall.member(SHOES, SARA)).consent_promotional is True
    assert await _campaign(mall, BOOKS, "yalda-2") == []
    assert len(await _campaign(mall, SHOES, "yalda-3")) == 1


async def test_a_forged_or_other_shops_token_changes_nothing_and_looks_the_same(
    mall: Mall,  # noqa: F811
) -> None:
    await _sara_at_both(mall)
    key = network_key(mall.settings)
    real = optout_link.token(key, BOOKS, mall.who(SARA))
    shoes = optout_link.token(key, SHOES, mall.who(SARA))
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")  # her reference, a wrong seal
    base = f"{mall.hub_url}/o/{BOOKS}/"

    async with httpx.AsyncClient(timeout=10) as pages:
        own = await pages.get(base + real)
        for token in (shoes, flipped, "A" * 20, "not-a-token"):
            # The page is the one her own link shows
            page = await pages.get(base + token)
            assert page.status_code == 200
            assert _neutral(page.text) == _neutral(own.text)
            # and its button answers as hers does, doing nothing
            done = await _press(pages, base + token, page)
            assert done.status_code == 200
            assert "انجام شد" in done.text
            assert "Done" in done.text
            assert await _promotional(mall) == {BOOKS: True, SHOES: True}
        assert await mall.commands(BOOKS) == []
        assert await mall.commands(SHOES) == []

        # A shop the network does not know is no page at all
        unknown = await pages.get(f"{mall.hub_url}/o/no-such-shop/{real}")
        assert unknown.status_code == 404
        assert BUTTON_EN not in unknown.text
        assert (await pages.post(f"{mall.hub_url}/o/no-such-shop/{real}")).status_code == 404
