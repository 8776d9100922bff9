"""Every field of both schemas declares who may read it."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from starlette.authentication import AuthCredentials

from mallnet.authz import public, requires
from mallnet.cli.sdl import schemas
from mallnet.gql import build_schema
from mallnet.schema_rules import field_rules, unguarded_fields
from mallnet.scopes import Scope


@pytest.mark.parametrize("name", sorted(schemas()))
def test_every_field_declares_a_rule(name: str) -> None:
    schema = schemas()[name]
    assert field_rules(schema), "the walker found no fields at all"
    assert unguarded_fields(schema) == []


@strawberry.type
class _Query:
    @strawberry.field(extensions=requires(Scope.SHOP_READ, Scope.SHOP_MANAGE))
    def secret(self) -> str:
        return "members"

    @strawberry.field(extensions=public())
    def hello(self) -> str:
        return "hi"

    @strawberry.field
    def forgotten(self) -> str:
        return "oops"


_schema = build_schema(_Query)


class _Request:
    def __init__(self, scopes: list[str]) -> None:
        self.auth = AuthCredentials(scopes)


def _run(query: str, scopes: list[str]) -> Any:
    return _schema.execute_sync(query, context_value={"request": _Request(scopes)})


def test_the_walker_catches_an_unguarded_field() -> None:
    assert unguarded_fields(_schema) == ["Query.forgotten"]
    assert field_rules(_schema)["Query.secret"] == "shop:manage | shop:read"
    assert field_rules(_schema)["Query.hello"] == "public"


def test_a_scoped_field_refuses_a_request_without_the_scope() -> None:
    result = _run("{ secret }", ["shopper:read"])
    assert result.data is None
    assert result.errors is not None
    assert "shop:manage, shop:read" in result.errors[0].message
    assert result.errors[0].extensions == {"code": "FORBIDDEN"}


@pytest.mark.parametrize("scope", ["shop:read", "shop:manage"])
def test_any_listed_scope_is_enough(scope: str) -> None:
    result = _run("{ secret hello }", [scope])
    assert result.errors is None
    assert result.data == {"secret": "members", "hello": "hi"}


def test_public_fields_need_no_token() -> None:
    assert _run("{ hello }", []).data == {"hello": "hi"}
