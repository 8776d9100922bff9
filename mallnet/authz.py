"""Field-level authorisation for both GraphQL schemas.

Every field declares its rule with :func:`requires` (one or more scopes, any of which is
enough) or :func:`public`. A test walks both schemas and fails on a field without a rule,
so a new field cannot ship unguarded by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.authentication import AuthCredentials
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from mallnet.scopes import Scope


class FieldRule(BasePermission):
    """Base of every rule a field may declare; the schema walker looks for these."""

    def describe(self) -> str:
        raise NotImplementedError


class HasScope(FieldRule):
    """Allows the request when its token carries any of ``scopes``."""

    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 - strawberry reads it as a class attribute

    def __init__(self, *scopes: Scope) -> None:
        if not scopes:
            raise ValueError("HasScope needs at least one scope")
        self.scopes = frozenset(scopes)
        self.message = "this field needs one of the scopes: " + ", ".join(sorted(self.scopes))

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        granted = request_scopes(info)
        return not self.scopes.isdisjoint(granted)

    def describe(self) -> str:
        return " | ".join(sorted(self.scopes))


class Public(FieldRule):
    """Deliberately open to anyone, token or not (e.g. server identity for health checks)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True

    def describe(self) -> str:
        return "public"


def request_scopes(info: Info) -> Iterable[str]:
    request = info.context.get("request") if isinstance(info.context, dict) else None
    auth = getattr(request, "auth", None) if request is not None else None
    if isinstance(auth, AuthCredentials):
        return auth.scopes
    return ()


def requires(*scopes: Scope) -> list[FieldExtension]:
    """``extensions=requires(Scope.SHOP_READ)`` on a strawberry field."""
    return [PermissionExtension(permissions=[HasScope(*scopes)], use_directives=False)]


def public() -> list[FieldExtension]:
    return [PermissionExtension(permissions=[Public()], use_directives=False)]


def field_rule(extensions: Iterable[FieldExtension]) -> str | None:
    """The declared rule of a field, or None when it declares none."""
    rules = [
        permission.describe()
        for extension in extensions
        if isinstance(extension, PermissionExtension)
        for permission in extension.permissions
        if isinstance(permission, FieldRule)
    ]
    return " & ".join(rules) if rules else None


def guard_fields(cls: type, *scopes: Scope) -> type:
    """Give every field of a strawberry type that declares no rule of its own the rule
    "needs one of ``scopes``". Use on output types reached only through guarded roots:
    the check is repeated per field, so a type reused elsewhere stays protected."""
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is None:
        raise TypeError(f"{cls.__name__} is not a strawberry type")
    for field in definition.fields:
        if field_rule(field.extensions) is None:
            field.extensions.extend(requires(*scopes))
    return cls
