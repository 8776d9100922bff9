"""The offer events a node sends the hub (issue 18): offer.published, offer.withdrawn,
offer.granted and offer.grant_closed — texts, deadlines and ids, nothing of a member's
history; each payload checked field by field, a bad one refused with the field named."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from federation.envelope import (
    EventType,
    InvalidEnvelope,
    OfferGrantClosed,
    OfferGranted,
    OfferPublished,
    OfferWithdrawn,
    make_envelope,
    parse_envelope,
)
from federation.ids import new_event_id

PSEUDONYM = "b" * 64
WHEN = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)
OFFER, GRANT = new_event_id(), new_event_id()
SUMMARY_FA = "۱۰٪ اعتبار بیشتر برای خرید بالای ۳۰۰ هزار تومان"


def _published(**change: Any) -> dict[str, Any]:
    return {
        "offer_id": OFFER,
        "kind": "permanent",
        "name_fa": "مشتری وفادار",
        "name_en": "Loyal customer",
        "summary_fa": SUMMARY_FA,
        "summary_en": "10% more credit on purchases over 300,000 toman",
        "ends_at": "2027-01-01T00:00:00+03:30",
        **change,
    }


def _event(kind: EventType, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": new_event_id(),
        "type": kind.value,
        "schema_version": 1,
        "node": "ketab-sara",
        "seq": 1,
        "occurred_at": WHEN.isoformat(),
        "payload": payload,
    }


def test_each_offer_event_round_trips_as_its_type() -> None:
    payloads = [
        OfferPublished.model_validate(_published()),
        OfferWithdrawn(offer_id=OFFER),
        OfferGranted(
            pseudonym=PSEUDONYM, offer_id=OFFER, grant_id=GRANT, expires_at=WHEN.replace(day=15)
        ),
        OfferGrantClosed(pseudonym=PSEUDONYM, grant_id=GRANT, reason="used"),
    ]
    kinds = [
        "offer.published",
        "offer.withdrawn",
        "offer.granted",
        "offer.grant_closed",
    ]
    for payload, kind in zip(payloads, kinds, strict=True):
        envelope = make_envelope(
            event_id=new_event_id(), node="ketab-sara", seq=1, occurred_at=WHEN, payload=payload
        )
        data = envelope.model_dump(mode="json")
        assert data["type"] == kind
        assert parse_envelope(data).typed() == payload


def test_a_published_offers_end_is_kept_in_utc_and_may_be_absent() -> None:
    offer = OfferPublished.model_validate(_published())
    assert offer.ends_at == dt.datetime(2026, 12, 31, 20, 30, tzinfo=dt.UTC)
    assert OfferPublished.model_validate(_published(ends_at=None)).ends_at is None
    assert OfferPublished.model_validate(_published(summary_fa="", summary_en="")).summary_en == ""
    one_time = OfferPublished.model_validate(_published(kind="one_time"))
    assert one_time.kind == "one_time"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"offer_id": "offer-1"}, "offer_id"),
        ({"offer_id": "8" + OFFER[1:]}, "offer_id"),  # past the id's time range
        ({"kind": "weekly"}, "kind"),
        ({"name_fa": ""}, "name_fa"),
        ({"name_en": "x" * 121}, "name_en"),
        ({"name_en": "Loyal\x00customer"}, "name_en"),
        ({"summary_fa": "خط\nدوم"}, "summary_fa"),
        ({"summary_en": "x" * 301}, "summary_en"),
        ({"ends_at": "2027-01-01T00:00:00"}, "ends_at"),
        ({"ends_at": "soon"}, "ends_at"),
        ({"shop": "kafsh-arya"}, "shop"),  # no payload names a shop: the sender is the shop
        ({"conditions": {"visits": 10}}, "conditions"),  # no history, no conditions
    ],
)
def test_a_bad_published_offer_is_refused_with_its_field_named(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEnvelope, match=field):
        parse_envelope(_event(EventType.OFFER_PUBLISHED, _published(**change)))


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        (EventType.OFFER_WITHDRAWN, {}, "offer_id"),
        (EventType.OFFER_WITHDRAWN, {"offer_id": OFFER.lower()}, "offer_id"),
        (
            EventType.OFFER_GRANTED,
            {"pseudonym": "B" * 64, "offer_id": OFFER, "grant_id": GRANT},
            "pseudonym",
        ),
        (
            EventType.OFFER_GRANTED,
            {"pseudonym": PSEUDONYM, "offer_id": OFFER, "grant_id": "g-1", "expires_at": "2027"},
            "grant_id",
        ),
        (
            EventType.OFFER_GRANTED,
            {
                "pseudonym": PSEUDONYM,
                "offer_id": OFFER,
                "grant_id": GRANT,
                "expires_at": "2026-12-15T10:00:00",
            },
            "expires_at",
        ),
        (EventType.OFFER_GRANTED, {"pseudonym": PSEUDONYM, "offer_id": OFFER}, "grant_id"),
        (
            EventType.OFFER_GRANT_CLOSED,
            {"pseudonym": PSEUDONYM, "grant_id": GRANT, "reason": "lost"},
            "reason",
        ),
        (
            EventType.OFFER_GRANT_CLOSED,
            {"pseudonym": PSEUDONYM, "grant_id": GRANT, "reason": "used", "offer_id": OFFER},
            "offer_id",
        ),
    ],
)
def test_bad_withdrawals_grants_and_closings_are_refused(
    kind: EventType, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEnvelope, match=field):
        parse_envelope(_event(kind, payload))


@pytest.mark.parametrize("reason", ["used", "expired", "withdrawn"])
def test_a_grant_closes_for_each_stated_reason(reason: str) -> None:
    payload = {"pseudonym": PSEUDONYM, "grant_id": GRANT, "reason": reason}
    closed = parse_envelope(_event(EventType.OFFER_GRANT_CLOSED, payload)).typed()
    assert isinstance(closed, OfferGrantClosed)
    assert closed.reason == reason
