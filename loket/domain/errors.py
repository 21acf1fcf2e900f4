"""Domain errors: each carries a stable code that the web layer translates."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the request.

    `code` is stable and documented (the web layer maps it to a status and a translated
    message); `field` names the input at fault, if any; `params` fill the message.
    """

    def __init__(self, code: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, field={self.field!r}, params={self.params!r})"


class NotFound(DomainError):
    """The record asked for does not exist (or is not visible to the caller)."""


class Invalid(DomainError):
    """The input breaks a validation rule."""


class Refused(DomainError):
    """The request is valid but not allowed in the current state (illegal transition, closed)."""


class Forbidden(DomainError):
    """The caller's role does not allow this."""


class ConcurrentUpdate(DomainError):
    """Someone else changed the record first; the use case may be retried."""
