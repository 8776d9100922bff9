"""Field-level authorisation for both GraphQL schemas.

Every field declares its rule with :func:`requires` (one or more scopes, any of which is
enough) or :func:`public`. A test walks both schemas and fails on a field without a rule,
so a new field cannot ship unguarded by accident.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.authentication import AuthCredentials
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types import Info

from graphql import GraphQLError
from mallnet.scopes import Scope


class Forbidden(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})


class ScopeRule(FieldExtension):
    """The rule a field declares: any one of ``scopes``, or public when there are none.

    A lean field extension rather than Strawberry's ``PermissionExtension``: it runs on
    every field of every response (a purchase result has about twenty), so it does one
    set test and nothing else.
    """

    def __init__(self, scopes: frozenset[str]) -> None:
        super().__init__()
        self.scopes = scopes
        self.message = "this field needs one of the scopes: " + ", ".join(sorted(scopes))

    def describe(self) -> str:
        return " | ".join(sorted(self.scopes)) if self.scopes else "public"

    def check(self, info: Info) -> None:
        if self.scopes and self.scopes.isdisjoint(request_scopes(info)):
            raise Forbidden(self.message)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        self.check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        self.check(info)
        return await next_(source, info, **kwargs)


def request_scopes(info: Info) -> frozenset[str]:
    """The scopes of the request's token (computed once per request)."""
    context = info.context
    if not isinstance(context, dict):
        return frozenset()
    scopes = context.get("scopes")
    if scopes is None:
        request = context.get("request")
        auth = getattr(request, "auth", None) if request is not None else None
        scopes = frozenset(auth.scopes) if isinstance(auth, AuthCredentials) else frozenset()
        context["scopes"] = scopes
    return scopes


def requires(*scopes: Scope) -> list[FieldExtension]:
    """``extensions=requires(Scope.SHOP_READ)`` on a strawberry field."""
    if not scopes:
        raise ValueError("requires() needs at least one scope; use public() for open fields")
    return [ScopeRule(frozenset(scopes))]


def public() -> list[FieldExtension]:
    """Deliberately open to anyone, token or not (e.g. server identity for health checks)."""
    return [ScopeRule(frozenset())]


def field_rule(extensions: Iterable[FieldExtension]) -> str | None:
    """The declared rule of a field, or None when it declares none."""
    rules = [e.describe() for e in extensions if isinstance(e, ScopeRule)]
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


def open_fields(cls: type) -> type:
    """Declare every field of a published type open to anyone (what a drawn lottery
    publishes so that anyone can re-run it)."""
    definition = getattr(cls, "__strawberry_definition__", None)
    if definition is None:
        raise TypeError(f"{cls.__name__} is not a strawberry type")
    for field in definition.fields:
        if field_rule(field.extensions) is None:
            field.extensions.extend(public())
    return cls
