"""What a public GraphQL endpoint refuses before it spends real work, on the hub and nodes.

Each limit answers with a GraphQL error carrying a stable ``code``, an English message and
a Persian one (``extensions.message_fa``). In the order a request meets them:

- the body's size (``BodyLimit``, an ASGI wrapper: counted while the body is read, so an
  oversized body is never buffered whole; an HTTP 413);
- the document's length and tokens (``check_text``): tokens counted by the lexer,
  stopping at the limit, *before* the parser runs; the parser also gets the bound (as
  Strawberry's ``MaxTokensLimiter`` gives it);
- depth and aliases (Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` rules),
  and how many paged fields one document reads (``PagedFieldsRule``): validation rules, made
  once, so the validation cache's key stays the same across requests and a cached
  document has passed them;
- a paged field's size (``page_size``, called by each resolver with its maximum);
- in production: introspection off and unexpected errors masked with a reference that
  the log line with the traceback also carries.

``EdgeLimits`` applies all but the first and the page size, as one Strawberry extension.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql.language import Lexer, Source, TokenKind
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.extensions.query_depth_limiter import IgnoreContext

from graphql import (
    FieldNode,
    GraphQLError,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True)
class Limits:
    """The bounds of one endpoint. The defaults fit every document the clients send (the
    largest, the till's, is about 450 tokens, depth 4, three aliases) with room to grow."""

    max_body_bytes: int = 256 * 1024
    max_query_chars: int = 64 * 1024
    max_tokens: int = 3_000
    max_depth: int = 12
    max_aliases: int = 100
    max_paged_fields: int = 5


DEFAULT_LIMITS = Limits()


# --- refusals ----------------------------------------------------------------------------


class LimitCode(enum.StrEnum):
    BODY_TOO_LARGE = "BODY_TOO_LARGE"
    QUERY_TOO_LONG = "QUERY_TOO_LONG"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_DEEP = "TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_PAGED_FIELDS = "TOO_MANY_PAGED_FIELDS"
    PAGE_TOO_LARGE = "PAGE_TOO_LARGE"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"


PERSIAN = {
    LimitCode.BODY_TOO_LARGE: "درخواست بیش از حد بزرگ است.",
    LimitCode.QUERY_TOO_LONG: "متن پرس‌وجو بیش از حد طولانی است.",
    LimitCode.TOO_MANY_TOKENS: "پرس‌وجو بیش از حد طولانی است.",
    LimitCode.TOO_DEEP: "پرس‌وجو بیش از حد تودرتو است.",
    LimitCode.TOO_MANY_ALIASES: "پرس‌وجو نام مستعار بیش از حد دارد.",
    LimitCode.TOO_MANY_PAGED_FIELDS: "پرس‌وجو فهرست‌های صفحه‌بندی‌شده‌ی بیش از حد می‌خواند.",
    LimitCode.PAGE_TOO_LARGE: "اندازه‌ی صفحه بیش از حد مجاز است.",
    LimitCode.INTROSPECTION_DISABLED: "بررسی ساختار (introspection) در محیط عملیاتی بسته است.",
}

REFUSAL_CODES = frozenset(LimitCode)


def refusal(code: LimitCode, message: str, **details: object) -> GraphQLError:
    """A limit's answer: a stable code, what was refused and what to do, in English and
    Persian."""
    return GraphQLError(
        message, extensions={"code": code.value, "message_fa": PERSIAN[code], **details}
    )


def page_size(first: int, maximum: int, *, argument: str = "first") -> int:
    """A paged field's size, refused (not silently cut) above ``maximum`` or below 1: a
    client asking for more than it can get learns it, and pages on."""
    if not 1 <= first <= maximum:
        raise refusal(
            LimitCode.PAGE_TOO_LARGE,
            f"{argument} must be between 1 and {maximum} (got {first}): ask for the rest "
            "page by page",
            maximum=maximum,
        )
    return first


def page_offset(offset: int, *, argument: str = "offset") -> int:
    """A paged field's offset (how many rows to skip), refused below 0."""
    if offset < 0:
        raise GraphQLError(
            f"{argument} must be 0 or more (got {offset})",
            extensions={"code": "INVALID_INPUT", "message_fa": "شروع صفحه نمی‌تواند منفی باشد."},
        )
    return offset


def page_cursor(
    cursor: str | None, pattern: re.Pattern[str], *, argument: str = "after"
) -> str | None:
    """A paged field's cursor (or an id to look up), refused unless it has the shape the
    list gives out: anything else is not worth a query (and PostgreSQL refuses a NUL)."""
    if cursor is not None and not pattern.fullmatch(cursor):
        raise GraphQLError(
            f"{argument} is not a cursor this list gave out",
            extensions={"code": "INVALID_INPUT", "message_fa": "نشانگر صفحه درست نیست."},
        )
    return cursor


# --- the body ----------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


# A client still sending its body reads no answer if the server closes on it (it sees a
# reset): a declared body up to this size is read and dropped (never kept) before the 413.
DRAIN_BYTES = 4 * 1024 * 1024


async def _drain(receive: Receive) -> None:
    drained = 0
    while drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodyLimit:
    """An ASGI wrapper refusing a request body over ``max_bytes`` with HTTP 413: by its
    declared length before the app reads anything, or while it streams in (chunked), so
    the whole body is never held. A client that disconnects before its body is read gets
    nothing (no answer, no error logged)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            if declared.isdigit() and int(declared) <= DRAIN_BYTES:
                await _drain(receive)
            await self._refuse(send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await self._refuse(send)  # nothing was sent yet: the body was still being read
        except ClientDisconnect:
            # The client left while its body was on its way (a browser leaving the page
            # cancels its calls): nobody is there to answer, and it is no server error.
            return

    async def _refuse(self, send: Send) -> None:
        error = refusal(
            LimitCode.BODY_TOO_LARGE,
            f"the request body is over {self.max_bytes} bytes: send less (large data in "
            "smaller batches)",
            limit_bytes=self.max_bytes,
        )
        body = _json({"errors": [error.formatted]})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _json(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


# --- tokens ------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _token_count(query: str, limit: int) -> int:
    """Tokens of ``query``, counting no further than ``limit + 1``: the lexer alone, no AST.
    Cached by text (texts of at most ``max_query_chars``): clients repeat the same few
    documents."""
    lexer, count = Lexer(Source(query)), 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > limit:
                break
    except GraphQLError:
        pass  # a syntax error: the parser reports it with its position
    return count


def check_text(query: str | None, limits: Limits) -> None:
    """Refuse a document too long (comments are no tokens, and the parser cache keeps
    whole texts) or of too many tokens, before the parser is called at all."""
    if query is None:
        return
    if len(query) > limits.max_query_chars:
        raise refusal(
            LimitCode.QUERY_TOO_LONG,
            f"the query is over {limits.max_query_chars} characters: send a shorter document",
            limit=limits.max_query_chars,
        )
    if _token_count(query, limits.max_tokens) > limits.max_tokens:
        raise refusal(
            LimitCode.TOO_MANY_TOKENS,
            f"the query has over {limits.max_tokens} tokens: split it or use fragments",
            limit=limits.max_tokens,
        )


# --- validation rules (made once: they are part of the validation cache's key) -----------


def _coded(rule: type[ASTValidationRule], code: LimitCode, message: str) -> type[ASTValidationRule]:
    """``rule`` reporting its refusals with ``code``, ``message`` and the Persian text."""

    class Coded(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            # Strawberry's depth and alias rules report from __init__ through the context
            # (shared by every rule of the run: only for this call); others report later
            # through report_error, below.
            self._report = report = context.report_error
            context.report_error = self.report_error  # type: ignore[method-assign]
            try:
                super().__init__(context)
            finally:
                context.report_error = report  # type: ignore[method-assign]

        def report_error(self, error: GraphQLError) -> None:
            self._report(refusal(code, f"{message} ({error.message})"))

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


def _introspection(ignore: IgnoreContext) -> bool:
    # Development only (introspection is off in production); GraphiQL's query nests 15.
    return ignore.field_name.startswith("__")


PAGE_ARGUMENTS = frozenset({"first", "limit"})


class PagedFieldsRule(ValidationRule):
    """At most ``limit`` reads of a paged field (one with a ``first`` or ``limit``
    argument: a list, or a page object) in one document: with ``page_size``'s bound per
    field, a bound on the rows one request may ask for, however it aliases."""

    limit = DEFAULT_LIMITS.max_paged_fields

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        field = self.context.get_field_def()
        if field is None or not PAGE_ARGUMENTS & field.args.keys():
            return
        self.count += 1
        if self.count == self.limit + 1:
            self.report_error(
                refusal(
                    LimitCode.TOO_MANY_PAGED_FIELDS,
                    f"a query may read at most {self.limit} paged fields: send several queries",
                    limit=self.limit,
                )
            )


def validation_rules(limits: Limits) -> tuple[type[ASTValidationRule], ...]:
    depth = QueryDepthLimiter(max_depth=limits.max_depth, should_ignore=_introspection)
    aliases = MaxAliasesLimiter(max_alias_count=limits.max_aliases)
    paged = type("PagedFields", (PagedFieldsRule,), {"limit": limits.max_paged_fields})
    return (
        _coded(
            depth.validation_rules[0],
            LimitCode.TOO_DEEP,
            f"the query nests deeper than {limits.max_depth}",
        ),
        _coded(
            aliases.validation_rules[0],
            LimitCode.TOO_MANY_ALIASES,
            f"the query has over {limits.max_aliases} aliases",
        ),
        paged,
    )


# --- production --------------------------------------------------------------------------


def in_production(context: object) -> bool:
    """Whether the request reached a production app (``GraphQLApp`` puts it in context)."""
    return isinstance(context, MutableMapping) and bool(context.get("production"))


_INTROSPECTION_OFF = _coded(
    NoSchemaIntrospectionCustomRule,
    LimitCode.INTROSPECTION_DISABLED,
    "introspection is off in production: read the published schema (graphql/*.graphql)",
)


def unexpected(error: GraphQLError) -> bool:
    """An error nobody meant to answer with: raised while resolving a field, neither a
    ``GraphQLError`` nor a domain error (an exception with a problem-code enum), and with
    no ``code`` of its own. Refusals, validation and input errors are answers, not these."""
    original = error.original_error
    if error.path is None or original is None or isinstance(original, GraphQLError):
        return False
    if (error.extensions or {}).get("code"):
        return False
    return not isinstance(getattr(original, "code", None), enum.Enum)


class EdgeLimits(MaskErrors):
    """The limits in one Strawberry extension, placed before the parser and validation
    caches. It does what Strawberry's own would, each of which costs a few microseconds a
    request (five took a cached mutation from 170 to 196 us here): ``MaxTokensLimiter``'s
    bound for the parser, ``AddValidationRules`` with ``QueryDepthLimiter``'s and
    ``MaxAliasesLimiter``'s rules and ours, and in production ``DisableIntrospection``'s
    rule and ``MaskErrors`` (an unexpected error's text, which may hold SQL or a host name,
    replaced by a reference that the log line with its traceback also carries: see
    ``mallnet.gql.Schema.process_errors``). Before all that, the text's length and tokens
    (``check_text``): a refused document never reaches the parser."""

    def __init__(self, limits: Limits, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__(
            should_mask_error=unexpected,
            error_message="unexpected error: tell the operator its reference",
        )
        self.limits, self.rules = limits, rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        check_text(context.query, self.limits)
        context.parse_options["max_tokens"] = self.limits.max_tokens
        production = in_production(context.context)
        # The same rule classes every time: they are part of the validation cache's key.
        added = (*self.rules, _INTROSPECTION_OFF) if production else self.rules
        context.validation_rules = context.validation_rules + added
        if production:
            yield from super().on_operation()
        else:
            yield

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {
            "code": "INTERNAL_ERROR",
            "reference": (error.extensions or {}).get("reference"),
            "message_fa": "خطای پیش‌بینی‌نشده: شناسه‌ی آن را به پشتیبانی بدهید.",
        }
        return masked


def limit_extensions(limits: Limits = DEFAULT_LIMITS) -> list[Callable[[], Any]]:
    """The limits as a Strawberry extension factory, to put *before* the caches."""
    rules = validation_rules(limits)
    return [lambda: EdgeLimits(limits, rules)]
