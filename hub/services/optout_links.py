"""A tap on the opt-out link of a promotional message (``mallnet.messaging.optout_link``):
her promotional consent at that one shop is withdrawn, exactly as the app's switch does it
(``consents.change``: the hub's view at once, the node through ``command.set_consent``).

The link names no one: its token's reference narrows the shop's memberships to the few
whose pseudonym starts with the same 24 bits (an index range on the memberships' primary
key), and its seal, an HMAC under the network key, picks the one it was made for. A token
that matches nobody does nothing, and the caller is told the same as when it did
something: the page is no oracle of who is a member where.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Membership, Shop
from hub.services import consents
from mallnet.messaging import optout_link


@dataclass(frozen=True)
class ShopNames:
    fa: str
    en: str


async def shop_names(session: AsyncSession, slug: str) -> ShopNames | None:
    """The names the page shows for ``slug``; None for no shop of the network."""
    row = (
        await session.execute(select(Shop.name_fa, Shop.name_en).where(Shop.slug == slug))
    ).first()
    return None if row is None else ShopNames(row.name_fa, row.name_en)


async def _membership(
    session: AsyncSession, key: bytes, shop: str, token: str
) -> Membership | None:
    bounds = optout_link.reference_range(token)
    if bounds is None:
        return None
    low, high = bounds
    query = select(Membership).where(Membership.shop == shop, Membership.pseudonym >= low)
    if high is not None:
        query = query.where(Membership.pseudonym < high)
    for row in await session.scalars(query):
        if optout_link.matches(key, shop, row.pseudonym, token):
            return row
    return None


async def opt_out(session: AsyncSession, key: bytes, shop: str, token: str) -> bool:
    """Withdraw the promotional consent the token at ``shop`` is for; whether it was one.

    A command goes to the node unless one already on its way withdraws it (a second tap,
    or a reload of the answer): the node may hold her consent on while the hub's view has
    it off (a till's "yes" after her "no" in the app stays off here), so only a command in
    flight makes another needless."""
    membership = await _membership(session, key, shop, token)
    if membership is None:
        return False
    in_flight = membership.consent_command is not None
    if not (in_flight and membership.chosen_promotional is False):
        await consents.change(
            session, membership.pseudonym, shop, partner_sharing=None, promotional=False
        )
    return True
