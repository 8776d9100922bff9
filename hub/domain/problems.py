"""The hub's expected failures: a stable code, a message saying what to do, and the input
field at fault (if any). The GraphQL layer turns each into a ``HubProblem`` result."""

from __future__ import annotations


class HubError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
