"""A shopper's consents at the shops whose clubs she belongs to: what the app shows and
changes, and the nodes' reports of them.

The node is the system of record for a member's consents; the hub keeps a view of them per
membership: partner sharing (which decides whether a purchase there introduces her to
partner shops) and promotional SMS (which the app shows). A change the shopper makes in
the app goes to the node as a ``command.set_consent`` in its inbox; the node applies it
once and reports the result (``member.consent_changed`` naming the command).

The hub applies her change to its view at once — it is her own act, made with her token —
so a withdrawal of partner sharing stops referrals before the node has heard of it, and a
consent she switches on counts at once too. Switching on remembers no phone: the hub
introduces her with the phone it already holds (the one she signed in with), or not at
all. Until the node confirms her latest change, a report the node made before applying it
may withdraw a consent but never grant one back.

The hub also keeps the values she asked for herself: a node's report may withdraw a
consent, but never switch on one she turned off in the app (a confirmation that differs
from what she asked is logged and is no confirmation). A consent she never set in the app
follows the node's reports, the system of record for consents given at the till.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.envelope import MemberConsentChanged, MemberEnrolled, SetConsent
from hub.db.models import InboxCommand, Membership, Shopper
from hub.domain.problems import HubError, ProblemCode
from hub.services import inbox

log = logging.getLogger(__name__)


class ConsentError(HubError):
    """An expected failure of a consent use case."""


@dataclass(frozen=True)
class ShopConsents:
    """The shopper's consents at one shop, as the hub's view has them."""

    shop: str
    partner_sharing: bool
    promotional: bool
    # Her latest change is on its way to the shop, which has not confirmed it yet.
    pending: bool

    @classmethod
    def of(cls, row: Membership) -> ShopConsents:
        return cls(row.shop, row.partner_sharing, row.promotional, row.consent_command is not None)


async def of_shopper(session: AsyncSession, identity: str) -> list[ShopConsents]:
    """Her consents at every shop whose club she belongs to, in joining order."""
    rows = await session.scalars(
        select(Membership)
        .where(Membership.pseudonym == identity)
        .order_by(Membership.joined_at, Membership.shop)
    )
    return [ShopConsents.of(row) for row in rows]


async def change(
    session: AsyncSession,
    identity: str,
    shop: str,
    *,
    partner_sharing: bool | None,
    promotional: bool | None,
) -> ShopConsents:
    """The signed-in shopper ``identity`` changes her consents at ``shop`` (``None``:
    unchanged): the hub's view at once, the node through its inbox."""
    if partner_sharing is None and promotional is None:
        raise ConsentError(
            ProblemCode.INVALID_INPUT,
            "nothing to change: give partnerSharing, promotionalSms or both",
            "partnerSharing",
        )
    # Intake's order: the shopper's row, then her membership (no cycle with a node's batch).
    await session.get(Shopper, identity, with_for_update=True)
    membership = await session.get(
        Membership, (identity, shop), with_for_update=True, populate_existing=True
    )
    if membership is None:
        raise ConsentError(
            ProblemCode.NOT_A_MEMBER,
            "you are not a member of that shop's club: consents are kept per club you belong to",
            "shop",
        )
    command = await inbox.enqueue(
        session,
        shop,
        SetConsent(pseudonym=identity, partner_sharing=partner_sharing, promotional=promotional),
    )
    membership.consent_command = command.command_id
    if promotional is not None:
        membership.promotional = membership.chosen_promotional = promotional
    if partner_sharing is not None:
        membership.partner_sharing = membership.chosen_partner_sharing = partner_sharing
        if not partner_sharing:
            await forget_contact(session, identity)
    await session.flush()
    return ShopConsents.of(membership)


async def report(
    session: AsyncSession,
    membership: Membership,
    seq: int,
    payload: MemberEnrolled | MemberConsentChanged,
) -> None:
    """A node's report of its member's consents (an enrolment or a change), applied in the
    node's order whatever order reports arrive in: an older report arriving late must not
    bring back a contact the shopper withdrew, and no report switches on a consent she
    turned off in the app."""
    if (
        isinstance(payload, MemberConsentChanged)
        and payload.command_id is not None
        and payload.command_id == membership.consent_command
        and await _as_asked(session, membership, payload)
    ):
        membership.consent_command = None  # her latest change is confirmed
    if seq <= membership.consent_seq:
        return
    membership.consent_seq = seq
    # What she turned off in the app stays off, whatever the node says.
    partner_sharing = payload.partner_sharing and membership.chosen_partner_sharing is not False
    promotional = payload.promotional and membership.chosen_promotional is not False
    if membership.consent_command is not None:
        # Made before the node applied her latest change: it may withdraw, never grant.
        membership.promotional = membership.promotional and promotional
        if membership.partner_sharing and not partner_sharing:
            membership.partner_sharing = False
            await forget_contact(session, payload.pseudonym)
        return
    membership.partner_sharing = partner_sharing
    membership.promotional = promotional
    if partner_sharing and payload.phone:
        await remember_contact(session, payload.pseudonym, payload.phone)
    elif isinstance(payload, MemberConsentChanged):
        await forget_contact(session, payload.pseudonym)


async def _as_asked(
    session: AsyncSession, membership: Membership, payload: MemberConsentChanged
) -> bool:
    """Whether the node's confirmation of her command reports the values she asked for
    in it; if not, it is logged and confirms nothing."""
    asked = await session.scalar(
        select(InboxCommand.payload).where(InboxCommand.command_id == payload.command_id)
    )
    command = SetConsent.model_validate(asked) if asked is not None else None
    if command is not None and all(
        wanted is None or wanted == reported
        for wanted, reported in (
            (command.partner_sharing, payload.partner_sharing),
            (command.promotional, payload.promotional),
        )
    ):
        return True
    log.warning(
        "shop %s confirmed consent command %s with values she did not ask for "
        "(partner sharing %s, promotional %s): not a confirmation",
        membership.shop,
        payload.command_id,
        payload.partner_sharing,
        payload.promotional,
    )
    return False


async def remember_contact(session: AsyncSession, identity: str, phone: str) -> None:
    """The phone (checked against the pseudonym) for partner introductions. A shopper
    who signed in to the app keeps the phone she signed in with: a node's report never
    replaces it."""
    await session.execute(
        update(Shopper)
        .where(
            Shopper.pseudonym == identity,
            Shopper.last_sign_in_at.is_(None),
            Shopper.phone.is_distinct_from(phone),
        )
        .values(phone=phone)
        .execution_options(synchronize_session="fetch")
    )


async def forget_contact(session: AsyncSession, identity: str) -> None:
    """Consent withdrawn: the hub forgets the contact, unless the shopper signs in to the
    app themselves (then the phone is theirs to keep there)."""
    await session.execute(
        update(Shopper)
        .where(
            Shopper.pseudonym == identity,
            Shopper.last_sign_in_at.is_(None),
            Shopper.phone.is_not(None),
        )
        .values(phone=None)
        .execution_options(synchronize_session="fetch")
    )


async def opt_out_everywhere(session: AsyncSession, identity: str) -> list[str]:
    """She replied «لغو» (or STOP) to a promotional SMS: her promotional consent is
    withdrawn at every shop whose club she belongs to, at once in the hub's view and by a
    command to each node. Returns the shops it was on at."""
    memberships = await session.scalars(
        select(Membership).where(Membership.pseudonym == identity).order_by(Membership.shop)
    )
    # A club the hub already sees her opted out at (told by the node, or by a command
    # already on its way) hears nothing more: a repeated reply sends no command.
    shops = [m.shop for m in memberships if m.promotional]
    for shop in shops:
        await change(session, identity, shop, partner_sharing=None, promotional=False)
    return shops
