"""Domain exceptions. The API layer maps each to an HTTP status and the JSON error envelope."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"

    def __init__(self, resource: str = "resource", details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{resource} not found", details)

    @classmethod
    def referenced_by(cls, field: str, resource: str) -> NotFound:
        """An id in the body names nothing in the caller's scope: 404 like any unknown id, naming it."""
        return cls(resource, [{"field": field, "message": f"no such {resource} in your scope"}])


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidInput(AppError):
    status_code = 422
    code = "validation_error"

    @classmethod
    def for_field(cls, field: str, message: str) -> InvalidInput:
        return cls(message, [{"field": field, "message": message}])


class QuotaExceeded(AppError):
    status_code = 429
    code = "quota_exceeded"


class DependencyUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
