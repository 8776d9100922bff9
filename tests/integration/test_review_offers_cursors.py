"""Review of commit 374a619: the offers list's ``after`` cursor is any string, compared
with offer ids in SQL. Bad input must come back as a typed or GraphQL error with its code,
never as an unexpected error (PostgreSQL refuses a NUL character in text)."""

from __future__ import annotations

from ..node_client import NodeClient


def test_a_cursor_that_is_no_offer_id_is_refused_with_a_code(node: NodeClient) -> None:
    body = node.raw("Offers", after="01M9\x00")
    for error in body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert code not in (None, "INTERNAL_ERROR"), error
