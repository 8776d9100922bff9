"""The hub's intake of a node's offer events (issue 18): what the shopper's app lists as
"offers for me" — the shop's permanent offers, and the one-time offers it granted her.

Only texts, deadlines and the shop travel; the conditions and her history stay on the
node. Every row is keyed by the sending shop and the node's own id, the shop taken from
the envelope's authenticated sender (no payload names one): a node can only publish,
withdraw, grant and close its own shop's offers, and an id another shop uses is another
offer. ``hub.services.intake`` records the event id first (a replay never gets here) and
dispatches here in the stream's order.

- ``offer.published``: the offer's texts and end, as the latest event of the node's
  stream gave them (``as_of_seq``: a published event that arrives after a later withdrawal
  changes nothing, and the latest word counts either way).
- ``offer.withdrawn``: hidden from the app, with its open grants.
- ``offer.granted``: for a member of the shop only (as a balance report: a shop puts
  nothing into the app of a shopper who never joined its club); otherwise accepted and
  not applied. A grant id the node gave before to another member or offer is a claim the
  hub does not believe: the batch is refused.
- ``offer.grant_closed``: used, expired or withdrawn; the first closing counts.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import (
    Envelope,
    OfferGrantClosed,
    OfferGranted,
    OfferPublished,
    OfferWithdrawn,
)
from hub.db.models import Membership, ShopOffer, ShopOfferGrant
from hub.domain.intake_rules import RefusedEvent

log = logging.getLogger(__name__)

OfferEvent = OfferPublished | OfferWithdrawn | OfferGranted | OfferGrantClosed
EVENTS = (OfferPublished, OfferWithdrawn, OfferGranted, OfferGrantClosed)


async def apply(
    session: AsyncSession, node: str, envelope: Envelope, payload: OfferEvent, now: dt.datetime
) -> bool:
    """Apply one offer event of ``node``; False when it was accepted without effect (a
    grant for a shopper who is not the shop's member, a withdrawal or closing of what the
    node never reported)."""
    if isinstance(payload, OfferPublished):
        await _published(session, node, envelope, payload, now)
        return True
    if isinstance(payload, OfferWithdrawn):
        return await _withdrawn(session, node, envelope, payload, now)
    if isinstance(payload, OfferGranted):
        return await _granted(session, node, envelope, payload)
    return await _closed(session, node, envelope, payload)


async def _offer(session: AsyncSession, node: str, offer_id: str) -> ShopOffer | None:
    return await session.scalar(
        select(ShopOffer).where(ShopOffer.shop == node, ShopOffer.offer_id == offer_id)
    )


async def _published(
    session: AsyncSession,
    node: str,
    envelope: Envelope,
    payload: OfferPublished,
    now: dt.datetime,
) -> None:
    texts = {
        "kind": payload.kind,
        "name_fa": payload.name_fa,
        "name_en": payload.name_en,
        "summary_fa": payload.summary_fa,
        "summary_en": payload.summary_en,
        "ends_at": payload.ends_at,
    }
    offer = await _offer(session, node, payload.offer_id)
    if offer is None:
        session.add(
            ShopOffer(
                shop=node,
                offer_id=payload.offer_id,
                published_at=envelope.occurred_at,
                withdrawn_at=None,
                as_of_seq=envelope.seq,
                updated_at=now,
                **texts,
            )
        )
        await session.flush()
        return
    if envelope.seq < offer.as_of_seq:
        return  # an older word, arriving late: the later one stands
    for name, value in texts.items():
        setattr(offer, name, value)
    # Published again after a withdrawal (later in the node's stream): live again.
    offer.withdrawn_at = None
    offer.as_of_seq, offer.updated_at = envelope.seq, now


async def _withdrawn(
    session: AsyncSession,
    node: str,
    envelope: Envelope,
    payload: OfferWithdrawn,
    now: dt.datetime,
) -> bool:
    offer = await _offer(session, node, payload.offer_id)
    if offer is None:
        log.warning("%s withdrew offer %s it never published", node, payload.offer_id)
        return False
    if envelope.seq < offer.as_of_seq:
        return True
    if offer.withdrawn_at is None:
        offer.withdrawn_at = envelope.occurred_at
    offer.as_of_seq, offer.updated_at = envelope.seq, now
    return True


async def _grant(session: AsyncSession, node: str, grant_id: str) -> ShopOfferGrant | None:
    return await session.scalar(
        select(ShopOfferGrant).where(
            ShopOfferGrant.shop == node, ShopOfferGrant.grant_id == grant_id
        )
    )


async def _granted(
    session: AsyncSession, node: str, envelope: Envelope, payload: OfferGranted
) -> bool:
    if await session.get(Membership, (payload.pseudonym, node)) is None:
        return False
    grant = await _grant(session, node, payload.grant_id)
    if grant is None:
        # Kept even before its offer's publication arrives: the app lists a grant joined
        # to its published offer, so it shows once both are here.
        session.add(
            ShopOfferGrant(
                shop=node,
                grant_id=payload.grant_id,
                offer_id=payload.offer_id,
                pseudonym=payload.pseudonym,
                granted_at=envelope.occurred_at,
                expires_at=payload.expires_at,
            )
        )
        await session.flush()
        return True
    if (grant.pseudonym, grant.offer_id) != (payload.pseudonym, payload.offer_id):
        raise RefusedEvent(
            envelope, f"grant id {payload.grant_id} was given before to another member or offer"
        )
    grant.expires_at = payload.expires_at  # the same grant again: its deadline as now given
    return True


async def _closed(
    session: AsyncSession, node: str, envelope: Envelope, payload: OfferGrantClosed
) -> bool:
    grant = await _grant(session, node, payload.grant_id)
    if grant is None:
        return False  # a grant the hub never kept (for no member of the shop, say)
    if grant.pseudonym != payload.pseudonym:
        raise RefusedEvent(envelope, f"grant {payload.grant_id} is another member's")
    if grant.closed_at is None:
        grant.closed_at, grant.close_reason = envelope.occurred_at, payload.reason
    return True
