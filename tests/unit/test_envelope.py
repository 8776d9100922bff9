"""The node-hub envelope: ids sort by time, every payload is typed, bad batches apply nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.envelope import (
    MAX_BATCH_EVENTS,
    EventType,
    InvalidEnvelope,
    PurchaseRecorded,
    SetConsent,
    UnsupportedVersion,
    make_envelope,
    parse_batch,
    parse_envelope,
)
from federation.ids import EVENT_ID, event_time_ms, new_event_id

PSEUDONYM = "a" * 64
WHEN = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


def purchase_event(seq: int = 1, node: str = "ketab-sara", **payload: Any) -> dict[str, Any]:
    body = PurchaseRecorded(
        receipt_id=f"R-{seq}",
        pseudonym=PSEUDONYM,
        total_rial=1_000_000,
        credit_spent_rial=0,
        lines=[{"group": "books", "amount_rial": 1_000_000}],  # type: ignore[list-item]
        visit_number=1,
        **payload,
    )
    envelope = make_envelope(
        event_id=new_event_id(), node=node, seq=seq, occurred_at=WHEN, payload=body
    )
    return envelope.model_dump(mode="json")


@given(st.lists(st.integers(min_value=0, max_value=2**48 - 1), min_size=2, max_size=20))
def test_event_ids_sort_by_time(times: list[int]) -> None:
    ids = [new_event_id(ms) for ms in times]
    assert all(EVENT_ID.match(i) for i in ids)
    assert [event_time_ms(i) for i in ids] == times
    by_id = sorted(zip(ids, times, strict=True))
    assert [t for _, t in by_id] == sorted(times)


def test_event_ids_do_not_collide() -> None:
    ids = {new_event_id(1_000) for _ in range(10_000)}
    assert len(ids) == 10_000


def test_a_valid_envelope_round_trips_with_a_stable_digest() -> None:
    data = purchase_event()
    envelope = parse_envelope(data)
    assert envelope.type is EventType.PURCHASE_RECORDED
    assert isinstance(envelope.typed(), PurchaseRecorded)
    assert parse_envelope(json.loads(json.dumps(data))).digest() == envelope.digest()
    changed = {**data, "payload": {**data["payload"], "total_rial": 1_000_001}}
    assert parse_envelope(changed).digest() != envelope.digest()


def test_a_newer_schema_version_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedVersion, match="schema version 2 is newer"):
        parse_envelope({**purchase_event(), "schema_version": 2})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "purchase.teleported"}, "type"),
        ({"seq": 0}, "seq"),
        ({"node": "Ketab Sara"}, "node"),
        ({"occurred_at": "2026-11-22T10:00:00"}, "occurred_at"),
        ({"event_id": "not-an-id"}, "event_id"),
        ({"extra": 1}, "extra"),
        ({"payload": {"receipt_id": "R-1"}}, "pseudonym"),
    ],
)
def test_malformed_envelopes_are_refused_with_the_field_named(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEnvelope, match=field):
        parse_envelope({**purchase_event(), **change})


def test_a_consent_command_changes_something_and_names_only_consents() -> None:
    command = SetConsent(pseudonym=PSEUDONYM, partner_sharing=False)
    envelope = make_envelope(
        event_id=new_event_id(), node="ketab-sara", seq=1, occurred_at=WHEN, payload=command
    )
    data = envelope.model_dump(mode="json")
    assert data["type"] == "command.set_consent"
    assert parse_envelope(data).typed() == command  # promotional: None, unchanged
    for payload, field in (
        ({"pseudonym": PSEUDONYM}, "changes partner_sharing, promotional or both"),
        ({**data["payload"], "consent_sms": False}, "consent_sms"),
        ({**data["payload"], "partner_sharing": "no"}, "partner_sharing"),
    ):
        with pytest.raises(InvalidEnvelope, match=field):
            parse_envelope({**data, "payload": payload})


def test_payload_values_are_checked_strictly() -> None:
    data = purchase_event()
    data["payload"]["total_rial"] = 10.5
    with pytest.raises(InvalidEnvelope, match="total_rial"):
        parse_envelope(data)
    data["payload"]["total_rial"] = -1
    with pytest.raises(InvalidEnvelope, match="total_rial"):
        parse_envelope(data)


def test_a_batch_is_all_or_nothing() -> None:
    good = [purchase_event(seq) for seq in range(1, 4)]
    assert [e.seq for e in parse_batch(json.dumps(good), "ketab-sara")] == [1, 2, 3]
    bad = [*good, {**purchase_event(4), "seq": -1}]
    with pytest.raises(InvalidEnvelope, match="event 3"):
        parse_batch(json.dumps(bad), "ketab-sara")


def test_a_batch_cannot_speak_for_another_node() -> None:
    forged = [purchase_event(1, node="kafsh-arya")]
    with pytest.raises(InvalidEnvelope, match="claims node 'kafsh-arya'"):
        parse_batch(json.dumps(forged), "ketab-sara")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "not JSON"),
        ("[]", "non-empty"),
        ("{}", "non-empty"),
        (json.dumps([purchase_event(1)] * (MAX_BATCH_EVENTS + 1)), "exceeds 500"),
        ("[" + " " * 1_000_001 + "]", "bytes exceeds"),
    ],
)
def test_malformed_or_oversized_batches_are_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidEnvelope, match=message):
        parse_batch(raw, "ketab-sara")
