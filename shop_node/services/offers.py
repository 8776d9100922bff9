"""A shop's offers over their life: drafted (the document checked against the club's
product groups), checked (what it costs per basket and per product group from the
margins, and a backtest over the node's own purchases), activated — refused when it sells
below margin unless a manager gives a reason, which is kept — and stopped.

Activating a one-time offer launches it: the members its audience selects are found in
batches, and each is either granted the offer (usable once until the deadline) or kept
in the control group (never granted; a stable, unpredictable share per offer, chosen by a
keyed hash of the member) to measure the offer against."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import OfferGrantClosed, OfferGranted, OfferPublished, OfferWithdrawn
from federation.ids import new_event_id
from mallnet.jalali import tehran_date
from mallnet.messaging.templates import Kind, Values
from mallnet.secrets_store import pseudonym
from mallnet.values import NO_CONTROL_HELP, without_control_characters
from shop_node.db.models import Member, Offer, OfferGrant
from shop_node.domain.errors import BelowMargin, InvalidInput, OfferNotChangeable, OfferNotFound
from shop_node.domain.offers.conditions import holds
from shop_node.domain.offers.definition import Offer as OfferDocument
from shop_node.domain.offers.parsing import parse_offer
from shop_node.domain.offers.profit import BasketCheck, GroupMargin, basket_economics, group_margins
from shop_node.domain.offers.summary import summarise
from shop_node.domain.policy import ClubPolicy
from shop_node.services import notify, outbox
from shop_node.services.offer_facts import BATCH, Backtest, backtest, member_facts
from shop_node.services.policy import current_policy
from shop_node.services.runtime import NodeRuntime

DRAFT, ACTIVE, STOPPED = "draft", "active", "stopped"
BP_ONE = 10_000
REASON_MIN, REASON_MAX = 3, 500


async def _policy(session: AsyncSession, runtime: NodeRuntime) -> ClubPolicy:
    _version, policy = await current_policy(session, runtime)
    return policy


async def create(runtime: NodeRuntime, document: Any, actor: str) -> Offer:
    """A new draft offer; a document with problems is refused whole (``InvalidOffer``)."""

    async def work(session: AsyncSession) -> Offer:
        offer = parse_offer(document, (await _policy(session, runtime)).group_codes)
        now = runtime.clock()
        row = Offer(
            id=new_event_id(int(now.timestamp() * 1000)),
            kind=offer.kind,
            status=DRAFT,
            document=offer.model_dump(mode="json", exclude_none=True),
            control_salt=secrets.token_hex(16),
            created_at=now,
            created_by=actor,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row

    return await runtime.transaction(work)


async def update_draft(runtime: NodeRuntime, offer_id: str, document: Any, actor: str) -> Offer:
    """A draft's new document (a live offer is stopped and a new one made instead)."""

    async def work(session: AsyncSession) -> Offer:
        row = await _get(session, offer_id, lock=True)
        if row.status != DRAFT:
            raise OfferNotChangeable(f"offer {offer_id} is {row.status}: only a draft changes")
        offer = parse_offer(document, (await _policy(session, runtime)).group_codes)
        row.kind = offer.kind
        row.document = offer.model_dump(mode="json", exclude_none=True)
        row.updated_at = runtime.clock()
        return row

    return await runtime.transaction(work)


async def _get(session: AsyncSession, offer_id: str, *, lock: bool = False) -> Offer:
    query = select(Offer).where(Offer.id == offer_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise OfferNotFound(f"no offer {offer_id!r}")
    return row


async def get(runtime: NodeRuntime, offer_id: str) -> Offer:
    return await runtime.read(lambda session: _get(session, offer_id))


async def listing(
    runtime: NodeRuntime, status: str | None, first: int, after: str | None
) -> list[Offer]:
    """Offers newest first (ids sort by time), ``first`` after the id ``after``."""

    async def work(session: AsyncSession) -> list[Offer]:
        query = select(Offer).order_by(Offer.id.desc()).limit(first)
        if status is not None:
            query = query.where(Offer.status == status)
        if after is not None:
            query = query.where(Offer.id < after)
        return list(await session.scalars(query))

    return await runtime.read(work)


@dataclass(frozen=True)
class OfferCheck:
    """What a manager sees before activating: the offer's worst case per product group,
    one basket priced with and without it, and the backtest."""

    groups: list[GroupMargin]
    basket: BasketCheck
    backtest: Backtest

    @property
    def below_margin(self) -> list[str]:
        return [g.group for g in self.groups if g.below_margin]


async def check(
    runtime: NodeRuntime, document: Any, basket: Sequence[tuple[str, int]], days: int
) -> OfferCheck:
    """Check an offer document (a draft's, or one being edited) without saving anything."""
    if not basket or any(amount <= 0 for _g, amount in basket):
        raise InvalidInput.one("basket", "a basket of at least one line of a positive amount")

    async def work(session: AsyncSession) -> OfferCheck:
        policy = await _policy(session, runtime)
        offer = parse_offer(document, policy.group_codes)
        unknown = sorted({g for g, _a in basket} - policy.group_codes)
        if unknown:
            raise InvalidInput.one("basket", f"not product groups of the club: {unknown}")
        return OfferCheck(
            group_margins(policy, offer, await _live_offers(session)),
            basket_economics(policy, offer, basket),
            await backtest(session, runtime, policy, offer, days),
        )

    return await runtime.read(work)


def published(
    offer_id: str, offer: OfferDocument, policy: ClubPolicy, now: dt.datetime
) -> OfferPublished:
    """What the hub hears of a live offer: its names and one sentence of what it gives, in
    Persian and English, and its end — nothing of whom it is for."""
    names = {g.code: (g.name_fa, g.name_en) for g in policy.product_groups}
    ends = now + dt.timedelta(days=offer.valid_days) if offer.valid_days else None
    return OfferPublished(
        offer_id=offer_id,
        kind=offer.kind,
        name_fa=offer.name_fa,
        name_en=offer.name_en,
        summary_fa=summarise(offer, names, "fa"),
        summary_en=summarise(offer, names, "en"),
        ends_at=ends,
    )


async def _live_offers(session: AsyncSession, exclude: str | None = None) -> list[OfferDocument]:
    """The documents of the live offers (that an offer's rewards would stack with)."""
    query = select(Offer.document).where(Offer.status == ACTIVE)
    if exclude is not None:
        query = query.where(Offer.id != exclude)
    return [OfferDocument.model_validate(d) for d in await session.scalars(query)]


def in_control(salt: str, member_id: int, control_bp: int) -> bool:
    """Whether the member is in the offer's control group: a keyed hash of the member,
    uniform over 0–9999, below the control share. Stable for the offer; without the salt
    nobody can tell who is in it."""
    digest = hmac.new(bytes.fromhex(salt), str(member_id).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % BP_ONE < control_bp


@dataclass(frozen=True)
class Activated:
    offer: Offer
    granted: int
    control: int


async def activate(
    runtime: NodeRuntime, offer_id: str, actor: str, override_reason: str | None = None
) -> Activated:
    """Put a draft live. Below margin in any product group it is refused (``BelowMargin``)
    unless ``override_reason`` says why, which is recorded. A one-time offer is launched:
    its audience granted, its control group recorded."""
    reason = (override_reason or "").strip() or None
    if reason is not None and (
        not REASON_MIN <= len(reason) <= REASON_MAX or without_control_characters(reason) != reason
    ):
        raise InvalidInput.one(
            "overrideReason",
            f"a reason of {REASON_MIN}–{REASON_MAX} characters, with {NO_CONTROL_HELP}",
        )

    async def work(session: AsyncSession) -> Activated:
        row = await _get(session, offer_id, lock=True)
        if row.status != DRAFT:
            raise OfferNotChangeable(f"offer {offer_id} is {row.status}: only a draft starts")
        policy = await _policy(session, runtime)
        offer = parse_offer(row.document, policy.group_codes)
        live = await _live_offers(session, exclude=row.id)
        below = [g.group for g in group_margins(policy, offer, live) if g.below_margin]
        if below and reason is None:
            raise BelowMargin(below)
        now = runtime.clock()
        row.status, row.activated_at, row.activated_by = ACTIVE, now, actor
        row.override_reason = reason if below else None
        row.updated_at = now
        await outbox.emit(session, now, [published(row.id, offer, policy, now)])
        granted = control = 0
        if offer.kind == "one_time":
            granted, control = await _launch(session, runtime, row, offer, policy, now)
        return Activated(row, granted, control)

    return await runtime.transaction(work)


async def _launch(
    session: AsyncSession,
    runtime: NodeRuntime,
    row: Offer,
    offer: OfferDocument,
    policy: ClubPolicy,
    now: dt.datetime,
) -> tuple[int, int]:
    """Grant the one-time offer to every member its audience selects now (the control
    share recorded, not granted), and tell each one granted (the control group is never
    told: it has nothing to use)."""
    expires = now + dt.timedelta(days=offer.valid_days or 0)
    names = {g.code: (g.name_fa, g.name_en) for g in policy.product_groups}
    told_values = Values(summary=summarise(offer, names, "fa"), date=tehran_date(expires))
    granted = control = 0
    last = 0
    while True:
        ids = list(
            await session.scalars(
                select(Member.id).where(Member.id > last).order_by(Member.id).limit(BATCH)
            )
        )
        if not ids:
            return granted, control
        last = ids[-1]
        facts = await member_facts(session, runtime, ids, now)
        members = {m.id: m for m in await session.scalars(select(Member).where(Member.id.in_(ids)))}
        told: list[object] = []
        for member_id in ids:
            if not holds(offer.audience, facts[member_id], now):
                continue
            held_back = in_control(row.control_salt, member_id, offer.control_bp)
            grant_id = new_event_id(int(now.timestamp() * 1000))
            session.add(
                OfferGrant(
                    id=grant_id,
                    offer_id=row.id,
                    member_id=member_id,
                    control=held_back,
                    granted_at=now,
                    expires_at=expires,
                )
            )
            control += held_back
            granted += not held_back
            if not held_back:  # the control group is never told: it has nothing to use
                member = members[member_id]
                told.append(
                    OfferGranted(
                        pseudonym=pseudonym(runtime.network_key, member.phone),
                        offer_id=row.id,
                        grant_id=grant_id,
                        expires_at=expires,
                    )
                )
                key = f"offer-grant:{grant_id}"
                await notify.tell(
                    session, runtime, policy, member, Kind.OFFER_GRANTED, told_values, key=key
                )
        await session.flush()
        await outbox.emit(session, now, told)


async def stop(runtime: NodeRuntime, offer_id: str, actor: str) -> Offer:
    """Stop a live offer (or drop a draft): it applies no more, and its open grants close."""

    async def work(session: AsyncSession) -> Offer:
        row = await _get(session, offer_id, lock=True)
        if row.status == STOPPED:
            raise OfferNotChangeable(f"offer {offer_id} is already stopped")
        now = runtime.clock()
        was_live = row.status == ACTIVE
        row.status, row.stopped_at, row.stopped_by, row.updated_at = STOPPED, now, actor, now
        open_grants = (
            OfferGrant.offer_id == offer_id,
            OfferGrant.closed_at.is_(None),
            OfferGrant.control.is_(False),
        )
        closing = (
            await session.execute(
                select(OfferGrant.id, Member.phone)
                .join(Member, Member.id == OfferGrant.member_id)
                .where(*open_grants)
            )
        ).all()
        await session.execute(
            update(OfferGrant).where(*open_grants).values(closed_at=now, closed_reason="withdrawn")
        )
        if was_live:  # a draft was never published
            told: list[object] = [OfferWithdrawn(offer_id=offer_id)]
            told += [
                OfferGrantClosed(
                    pseudonym=pseudonym(runtime.network_key, phone),
                    grant_id=grant_id,
                    reason="withdrawn",
                )
                for grant_id, phone in closing
            ]
            await outbox.emit(session, now, told)
        return row

    return await runtime.transaction(work)
