"""Lists the fields of a schema that declare no authorisation rule."""

from __future__ import annotations

import strawberry
from strawberry.types.base import StrawberryObjectDefinition

from graphql import GraphQLObjectType
from mallnet.authz import field_rule


def field_rules(schema: strawberry.Schema) -> dict[str, str | None]:
    """``{"Type.field": rule or None}`` for every field of every object type we define."""
    rules: dict[str, str | None] = {}
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
            continue
        definition = gql_type.extensions.get("strawberry-definition")
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            rules[f"{name}.{field.graphql_name or field.python_name}"] = field_rule(
                field.extensions
            )
    return rules


def unguarded_fields(schema: strawberry.Schema) -> list[str]:
    return sorted(name for name, rule in field_rules(schema).items() if rule is None)
