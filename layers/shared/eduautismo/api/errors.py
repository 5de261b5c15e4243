"""Every error leaves as the one JSON envelope (``api.contract.ErrorEnvelope``): never a stack trace,
never a 500 for bad input."""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from eduautismo.api.contract import error_envelope
from eduautismo.errors import AppError, Conflict, InvalidInput
from eduautismo.observability import logger

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError


# Seconds a client should wait before retrying a 503: a connection frees up within a request or two.
RETRY_AFTER_SECONDS = 1


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_envelope(code, message, details),
        headers=headers,
    )


def database_unavailable() -> Response[Any]:
    """No database connection in time (the server is down, the proxy or the pool has none to lend):
    503 with Retry-After, so clients and the front end back off instead of failing."""
    return error_response(
        503,
        "service_unavailable",
        "database unavailable, try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def envelope_result(status: int, code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """The envelope as a Lambda result, for answers given before the resolver runs (the Lambda entry)."""
    body = error_envelope(code, message, details)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        # Powertools prefixes the location with "query"/"body"/"path"; the field is what follows.
        source = location[0] if location and location[0] in ("query", "body", "path", "header") else None
        field = ".".join(location[1:] if source else location)
        if source in ("query", "header") and len(location) > 2:
            # Query strings and headers are flat: under a parameter model (query.<model>.<name>), the name.
            field = location[-1]
        details.append(
            {
                "field": field or source or "",
                "location": source,
                "message": error.get("msg", ""),
                "type": error.get("type", ""),
            }
        )
    return details


def _log_failure(message: str, exc: BaseException) -> None:
    """Type and place of the failure only: exception messages can carry SQL parameters or names."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else "unknown"
    logger.error(message, extra={"error_type": type(exc).__name__, "where": where})


def _is_connection_failure(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError) or bool(exc.connection_invalidated)


def _server_error_fields(exc: DBAPIError) -> dict[str, Any]:
    """The PostgreSQL error fields pg8000 carries (``C`` the SQLSTATE, ``n`` the constraint), else {}."""
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], dict) else {}


def _refused_input(sqlstate: str) -> AppError | None:
    """The domain error of a database error the request's data caused (4xx, never 500), else
    None. Class 23 is an integrity violation, class 22 a value the database cannot take (a date beyond
    its range, a number too large)."""
    if sqlstate in ("23502", "23514"):  # not-null, check: the value itself is not allowed
        return InvalidInput("a value is not allowed")
    if sqlstate.startswith("23"):  # unique, foreign key, exclusion: other data stands in the way
        return Conflict("conflicts with existing data")
    if sqlstate.startswith("22"):
        return InvalidInput("a value is out of range")
    return None


def _app_error_response(exc: AppError) -> Response[Any]:
    return error_response(exc.status_code, exc.code, exc.message, exc.details)


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(AppError)
    def _app_error(exc: AppError) -> Response[Any]:
        return _app_error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _request_invalid(exc: RequestValidationError) -> Response[Any]:
        return error_response(422, "validation_error", "invalid request", _validation_details(exc.errors()))

    @app.exception_handler(ValidationError)
    def _model_invalid(exc: ValidationError) -> Response[Any]:
        return error_response(422, "validation_error", "invalid request", _validation_details(exc.errors()))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        _log_failure("unhandled error", exc)
        return error_response(500, "internal_error", "internal error")

    @app.not_found
    def _route_not_found(exc: Exception) -> Response[Any]:
        return error_response(404, "not_found", "route not found")


def register_database_error_handler(app: APIGatewayHttpResolver) -> None:
    """SQLAlchemy's errors: 503 when the database is unreachable or no connection came in time. Separate,
    and SQLAlchemy imported here, so a function that does not use the engine (health) does not import it."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.exception_handler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout) -> Response[Any]:
        # Every connection of this container's pool stayed busy for DB_POOL_TIMEOUT_SECONDS.
        logger.warning("no pooled database connection in time", extra={"error_type": type(exc).__name__})
        return database_unavailable()

    @app.exception_handler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Response[Any]:
        if _is_connection_failure(exc):
            logger.warning("database unavailable", extra={"error_type": type(exc.orig).__name__})
            return database_unavailable()
        fields = _server_error_fields(exc)
        refused = _refused_input(str(fields.get("C", "")))
        if refused is not None:
            # The constraint's name, never the row values PostgreSQL puts in its message and detail.
            logger.warning(
                "database refused the input", extra={"sqlstate": fields["C"], "constraint": fields.get("n")}
            )
            return _app_error_response(refused)
        _log_failure("database error", exc)
        return error_response(500, "internal_error", "internal error")
