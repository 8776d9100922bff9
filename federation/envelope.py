"""The node↔hub message envelope and its typed payloads (schema version 1).

Every message that crosses between a node and the hub is an ``Envelope``: who sent it,
its place in the sender's sequence, when it happened, and a payload whose shape its type
fixes. A receiver rejects — whole, before applying anything — an envelope it cannot read:
an unknown type, a schema version newer than it knows, a payload that does not match.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from federation.ids import EVENT_ID
from mallnet.values import IdempotencyKey, NoControlCharacters, Points, Rial

SCHEMA_VERSION = 1
MAX_BATCH_EVENTS = 500
MAX_BATCH_BYTES = 1_000_000

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")]
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# A receipt or refund id is the node's idempotency key for it, checked by the same rule.
Receipt = IdempotencyKey
E164 = Annotated[str, Field(pattern=r"^\+989[0-9]{9}$")]
HoldId = Annotated[str, Field(pattern=EVENT_ID.pattern)]
CommandId = Annotated[str, Field(pattern=EVENT_ID.pattern)]
# A node's own offer and grant ids: unique within its shop only (the hub keys them by shop).
OfferId = Annotated[str, Field(pattern=EVENT_ID.pattern)]
GrantId = Annotated[str, Field(pattern=EVENT_ID.pattern)]


class EventType(StrEnum):
    # node → hub
    MEMBER_ENROLLED = "member.enrolled"
    MEMBER_CONSENT_CHANGED = "member.consent_changed"
    PURCHASE_RECORDED = "purchase.recorded"
    PURCHASE_REFUNDED = "purchase.refunded"
    BALANCE_CHANGED = "balance.changed"
    OFFER_PUBLISHED = "offer.published"
    OFFER_WITHDRAWN = "offer.withdrawn"
    OFFER_GRANTED = "offer.granted"
    OFFER_GRANT_CLOSED = "offer.grant_closed"
    # hub → node
    ENROL_MEMBER = "command.enrol_member"
    NOTIFY_MEMBER = "command.notify_member"
    SET_CONSENT = "command.set_consent"
    REVOKE_STAFF_SESSIONS = "command.revoke_staff_sessions"
    LINK_TELEGRAM = "command.link_telegram"


class InvalidEnvelope(ValueError):
    """An envelope that cannot be applied; nothing of it was."""


class UnsupportedVersion(InvalidEnvelope):
    pass


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MemberEnrolled(_Payload):
    pseudonym: Pseudonym
    joined_via: Annotated[str, Field(pattern=r"^(purchase|staff|partner)$")]
    partner_sharing: bool
    # Only with the shopper's consent to sharing with partner shops.
    phone: E164 | None = None
    # Promotional SMS at this shop (the app shows it; absent from older nodes' events).
    promotional: bool = False


class MemberConsentChanged(_Payload):
    pseudonym: Pseudonym
    partner_sharing: bool
    promotional: bool
    phone: E164 | None = None
    # The hub's ``command.set_consent`` this report answers, if one: the hub holds the
    # shopper's own change until the node confirms it (older reports may only withdraw).
    command_id: CommandId | None = None


class Line(_Payload):
    group: Annotated[str, Field(min_length=1, max_length=40)]
    amount_rial: Rial


class PurchaseRecorded(_Payload):
    receipt_id: Receipt
    pseudonym: Pseudonym
    total_rial: Rial
    credit_spent_rial: Rial
    lines: Annotated[list[Line], Field(min_length=1, max_length=200)]
    visit_number: Annotated[int, Field(ge=1, strict=True)]
    # What the shop's club awarded (the base of its pooled-points share at the hub).
    points_earned: Annotated[int, Field(ge=0, le=10**9, strict=True)] = 0
    # Paid with network value: the hold the hub captured for this purchase.
    network_paid_rial: Rial = 0
    network_hold_id: HoldId | None = None


class PurchaseRefunded(_Payload):
    receipt_id: Receipt
    refund_id: Receipt
    pseudonym: Pseudonym
    amount_rial: Rial
    # The purchase's total and what of it was refunded before: the hub takes back the same
    # share of the network value the purchase issued.
    purchase_total_rial: Rial = 0
    refunded_before_rial: Rial = 0
    # The part of the refund that goes back to the shopper's network value.
    network_hold_id: HoldId | None = None
    network_returned_rial: Rial = 0


TierCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
# Shown in the shopper's app and stored by the hub: no control characters (PostgreSQL
# refuses a NUL, which would fail the whole batch instead of refusing this event).
TierName = Annotated[str, Field(min_length=1, max_length=80), NoControlCharacters]
_TIER = ("tier_code", "tier_name_fa", "tier_name_en", "tier_basis", "tier_metric")
_NEXT_TIER = ("next_tier_name_fa", "next_tier_name_en", "next_tier_threshold")


class BalanceChanged(_Payload):
    """The shopper's local balances at this shop, for the app's aggregated view, and her
    club tier there (absent from older nodes' events: the app then shows none)."""

    pseudonym: Pseudonym
    points: Annotated[int, Field(ge=0, strict=True)]
    credit_rial: Rial
    tier_code: TierCode | None = None
    tier_name_fa: TierName | None = None
    tier_name_en: TierName | None = None
    # What the tiers count (the club's TierStatus.basis: earned_points or spend_12m).
    tier_basis: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,20}$")] | None = None
    tier_metric: Points | None = None
    # The next tier up, if there is one: its names and the metric that reaches it.
    next_tier_name_fa: TierName | None = None
    next_tier_name_en: TierName | None = None
    next_tier_threshold: Points | None = None

    @model_validator(mode="after")
    def _whole_tiers(self) -> BalanceChanged:
        given = [getattr(self, name) is not None for name in _TIER]
        if any(given) and not all(given):
            raise ValueError(f"a tier comes whole: {', '.join(_TIER)} together, or none")
        following = [getattr(self, name) is not None for name in _NEXT_TIER]
        if any(following) and not (all(following) and all(given)):
            raise ValueError(f"a next tier comes whole ({', '.join(_NEXT_TIER)}), with a tier")
        return self


# An offer's texts, as the shopper's app shows them: its name and the sentence saying what
# it gives ("۱۰٪ اعتبار بیشتر برای خرید بالای ۳۰۰ هزار تومان"); no control characters.
OfferName = Annotated[str, Field(min_length=1, max_length=120), NoControlCharacters]
OfferSummary = Annotated[str, Field(max_length=300), NoControlCharacters]


def _in_utc(value: dt.datetime, name: str) -> dt.datetime:
    """A moment another clock reads: refused without its offset (whose local time would
    it be?), kept in UTC."""
    if value.tzinfo is None:
        raise ValueError(f"{name} needs a timezone offset")
    return value.astimezone(dt.UTC)


class OfferPublished(_Payload):
    """An offer of the shop went live or changed: its texts and its end, never whom it
    reaches nor why (the conditions stay on the node). The hub shows a permanent offer to
    every member of the shop; a one-time offer reaches a shopper only by her grant."""

    offer_id: OfferId
    kind: Annotated[str, Field(pattern=r"^(permanent|one_time)$")]
    name_fa: OfferName
    name_en: OfferName
    summary_fa: OfferSummary
    summary_en: OfferSummary
    ends_at: dt.datetime | None = None

    @field_validator("ends_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else _in_utc(value, "ends_at")


class OfferWithdrawn(_Payload):
    """The shop stopped the offer: the app shows it no more (open grants of it too)."""

    offer_id: OfferId


class OfferGranted(_Payload):
    """A one-time offer granted to a member, usable once until ``expires_at``; its texts
    are the published offer's."""

    pseudonym: Pseudonym
    offer_id: OfferId
    grant_id: GrantId
    expires_at: dt.datetime

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        return _in_utc(value, "expires_at")


class OfferGrantClosed(_Payload):
    """A grant no longer usable: used at a purchase, past its deadline, or its offer
    stopped."""

    pseudonym: Pseudonym
    grant_id: GrantId
    reason: Annotated[str, Field(pattern=r"^(used|expired|withdrawn)$")]


class EnrolMember(_Payload):
    pseudonym: Pseudonym
    origin_shop: Slug
    agreement_id: Annotated[str, Field(min_length=1, max_length=64)]
    welcome_points: Annotated[int, Field(ge=0, strict=True)] = 0
    welcome_credit_rial: Rial = 0
    phone: E164 | None = None


class NotifyMember(_Payload):
    """Tell a shopper something (a lottery win) through a shop that has their phone: the
    hub may not hold it."""

    pseudonym: Pseudonym
    kind: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
    text: Annotated[str, Field(min_length=1, max_length=300)]


class SetConsent(_Payload):
    """The shopper changed her consents at this shop in the app: the node, the system of
    record for them, applies the ones given (``None``: unchanged) and reports the result."""

    pseudonym: Pseudonym
    partner_sharing: StrictBool | None = None
    promotional: StrictBool | None = None

    @model_validator(mode="after")
    def _something(self) -> SetConsent:
        if self.partner_sharing is None and self.promotional is None:
            raise ValueError("a consent command changes partner_sharing, promotional or both")
        return self


class RevokeStaffSessions(_Payload):
    """A staff account was disabled, its password reset or its role changed at the hub, or
    the shop was suspended: the node ends that person's sessions (``subject`` None: every
    staff session it holds). New sign-ins go through the hub again."""

    # One spelling per account (no leading zero): the node compares subjects as text.
    subject: Annotated[str, Field(pattern=r"^staff:[1-9][0-9]{0,17}$")] | None = None
    reason: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]


class LinkTelegram(_Payload):
    """The shopper linked her Telegram chat to the mall's bot (``chat_id``), or unlinked it
    (``None``: /stop, or she blocked the bot): the node keeps its copy of the link, so its
    service messages reach that chat, and stops those queued for a chat no longer hers."""

    pseudonym: Pseudonym
    # Telegram's chat id as text (a private chat's id is the person's user id).
    chat_id: Annotated[str, Field(pattern=r"^-?[0-9]{1,20}$")] | None
    # Her answer in the chat about offers: promotional messages go to the chat only with
    # it (the club's promotional consent was given for SMS).
    promotional: bool = False


PAYLOADS: dict[EventType, type[_Payload]] = {
    EventType.MEMBER_ENROLLED: MemberEnrolled,
    EventType.MEMBER_CONSENT_CHANGED: MemberConsentChanged,
    EventType.PURCHASE_RECORDED: PurchaseRecorded,
    EventType.PURCHASE_REFUNDED: PurchaseRefunded,
    EventType.BALANCE_CHANGED: BalanceChanged,
    EventType.OFFER_PUBLISHED: OfferPublished,
    EventType.OFFER_WITHDRAWN: OfferWithdrawn,
    EventType.OFFER_GRANTED: OfferGranted,
    EventType.OFFER_GRANT_CLOSED: OfferGrantClosed,
    EventType.ENROL_MEMBER: EnrolMember,
    EventType.NOTIFY_MEMBER: NotifyMember,
    EventType.SET_CONSENT: SetConsent,
    EventType.REVOKE_STAFF_SESSIONS: RevokeStaffSessions,
    EventType.LINK_TELEGRAM: LinkTelegram,
}


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Annotated[str, Field(pattern=EVENT_ID.pattern)]
    type: EventType
    schema_version: Annotated[int, Field(ge=1, strict=True)]
    node: Slug
    seq: Annotated[int, Field(ge=1, strict=True)]
    occurred_at: dt.datetime
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at needs a timezone offset")
        return value.astimezone(dt.UTC)

    def typed(self) -> _Payload:
        """The payload as its type's model (validated when the envelope was parsed)."""
        return PAYLOADS[self.type].model_validate(self.payload)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON: the same event id with another digest is a
        conflict, never a second effect."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def make_envelope(
    *, event_id: str, node: str, seq: int, occurred_at: dt.datetime, payload: _Payload
) -> Envelope:
    kind = next(t for t, model in PAYLOADS.items() if isinstance(payload, model))
    return Envelope(
        event_id=event_id,
        type=kind,
        schema_version=SCHEMA_VERSION,
        node=node,
        seq=seq,
        occurred_at=occurred_at,
        payload=payload.model_dump(mode="json"),
    )


def parse_envelope(data: object) -> Envelope:
    """Validate an envelope and its payload; raise ``InvalidEnvelope`` with every problem."""
    if isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise UnsupportedVersion(
                f"schema version {version} is newer than this receiver knows ({SCHEMA_VERSION}):"
                " upgrade it before sending such events"
            )
    try:
        envelope = Envelope.model_validate(data)
        envelope.typed()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'envelope'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidEnvelope(problems) from None
    return envelope


def parse_batch(raw: bytes | str, node: str) -> list[Envelope]:
    """A node's batch: at most ``MAX_BATCH_EVENTS`` envelopes, ``MAX_BATCH_BYTES`` bytes,
    all from ``node`` (the sender's authenticated shop). All or nothing."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_BATCH_BYTES:
        raise InvalidEnvelope(f"batch of {size} bytes exceeds {MAX_BATCH_BYTES}")
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidEnvelope(f"batch is not JSON: {exc}") from None
    if not isinstance(items, list) or not items:
        raise InvalidEnvelope("a batch is a non-empty JSON array of envelopes")
    if len(items) > MAX_BATCH_EVENTS:
        raise InvalidEnvelope(f"batch of {len(items)} events exceeds {MAX_BATCH_EVENTS}")
    envelopes = []
    for index, item in enumerate(items):
        try:
            envelope = parse_envelope(item)
        except InvalidEnvelope as exc:
            raise type(exc)(f"event {index}: {exc}") from None
        if envelope.node != node:
            raise InvalidEnvelope(
                f"event {index} claims node {envelope.node!r} but was sent by {node!r}"
            )
        envelopes.append(envelope)
    return envelopes
