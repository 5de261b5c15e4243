"""Domain exceptions. The API layer maps each to an HTTP status and the JSON error envelope."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

FoundT = TypeVar("FoundT")


class AppError(Exception):
    """A refusal the API answers with ``status_code`` and the envelope's ``code``; each subclass names both
    in its class line."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init_subclass__(cls, *, status_code: int, code: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status_code = status_code
        cls.code = code

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(AppError, status_code=400, code="bad_request"):
    """The request cannot be read as sent."""


class Unauthorized(AppError, status_code=401, code="unauthorized"):
    """No usable identity (missing, expired or malformed token)."""


class Forbidden(AppError, status_code=403, code="forbidden"):
    """The caller is known but their role or status does not allow this."""


class NotFound(AppError, status_code=404, code="not_found"):
    """Nothing with this id in the caller's scope (another organization's id answers the same)."""

    def __init__(self, resource: str = "resource", details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{resource} not found", details)

    @classmethod
    def referenced_by(cls, field: str, resource: str) -> NotFound:
        """An id in the body names nothing in the caller's scope: 404 like any unknown id, naming it."""
        return cls(resource, [{"field": field, "message": f"no such {resource} in your scope"}])


class Conflict(AppError, status_code=409, code="conflict"):
    """The request contradicts the current state (a duplicate, a stale transition)."""


class InvalidInput(AppError, status_code=422, code="validation_error"):
    """A field fails a rule the schema cannot state."""

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInput:
        return cls(message, [{"field": field, "message": message}])


class QuotaExceeded(AppError, status_code=429, code="quota_exceeded"):
    """The caller used up a quota (an export still running, the daily export quota)."""


class DependencyUnavailable(AppError, status_code=503, code="service_unavailable"):
    """The database or another dependency cannot answer now; the client may retry."""


def found(value: FoundT | None, resource: str) -> FoundT:
    """What a repository's ``find_*`` answered, or NotFound when the caller's scope holds nothing there."""
    if value is None:
        raise NotFound(resource)
    return value
