"""The operation documents clients send (graphql/operations/) are valid against the schema
they are sent to: a renamed field breaks this test, not the console or the till."""

from __future__ import annotations

import pytest

from graphql import parse, validate
from mallnet.cli.sdl import operations, schemas


@pytest.mark.parametrize(("kind", "schema"), [("hub", "hub.graphql"), ("node", "node.graphql")])
def test_every_operation_document_is_valid(kind: str, schema: str) -> None:
    document = parse(operations(kind))
    assert len(document.definitions) >= 7
    assert validate(schemas()[schema]._schema, document) == []
