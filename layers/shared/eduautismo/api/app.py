"""Builds the Powertools resolver of one function: routers, error envelope, authentication, observability."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from eduautismo.api.errors import register_database_error_handler, register_error_handlers
from eduautismo.identity.principal import PRINCIPAL_KEY, Principal, claims_from_event, principal_from_claims
from eduautismo.observability import capture_lambda_handler, logger, metrics
from eduautismo.snapstart import register_hooks

API_PREFIX = "/api/v1"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def authenticate(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Turn the authorizer's claims into a provisioned Principal kept in the request context."""
    # Imported here: a function without authentication (health) loads neither SQLAlchemy nor the models.
    from eduautismo.db.engine import session_scope
    from eduautismo.identity.provisioning import provision

    principal = principal_from_claims(claims_from_event(app.current_event.raw_event))
    with session_scope() as session:
        provision(session, principal)
    logger.append_keys(user_id=str(principal.user_id), organization_id=str(principal.organization_id))
    app.append_context(**{PRINCIPAL_KEY: principal})
    return next_middleware(app)


def current_principal(router: APIGatewayHttpRouter | APIGatewayHttpResolver) -> Principal:
    principal = router.context.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):  # a route mounted without authenticate()
        raise RuntimeError("route requires authentication middleware")
    return principal


def create_app(
    *routers: APIGatewayHttpRouter, authenticated: bool = True, database: bool = True
) -> APIGatewayHttpResolver:
    """``database=False`` for a function that does not use the SQLAlchemy engine (health)."""
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    if database:
        register_database_error_handler(app)
    if authenticated:
        app.use(middlewares=[authenticate])
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    return app


def _envelope_result(status: int, code: str, message: str, details: list[Any]) -> dict[str, Any]:
    body = {"error": {"code": code, "message": message, "details": details}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _body_invalid(field: str, message: str, kind: str) -> dict[str, Any]:
    detail = {"field": field, "location": "body", "message": message, "type": kind}
    return _envelope_result(422, "validation_error", "invalid request", [detail])


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character hides in a JSON value (PostgreSQL text cannot store it), else None."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = "body" if "\x00" in key else _nul_path(item, f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def refuse_unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """The error answer for a body the functions cannot take safely, else None (found by fuzzing, each
    was a 500): Powertools parses form and multipart bodies itself (a multipart header without a
    boundary raises a plain ValueError), decodes base64 bodies as UTF-8 (invalid bytes raise
    UnicodeDecodeError), and a NUL character in a string fails in PostgreSQL."""
    raw = event.get("body")
    if not raw:
        return None
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if content_type and not content_type.startswith("application/json"):
        return _envelope_result(415, "unsupported_media_type", "send the body as application/json", [])
    try:
        text = (
            base64.b64decode(str(raw), validate=True).decode() if event.get("isBase64Encoded") else str(raw)
        )
    except (binascii.Error, UnicodeDecodeError):
        return _body_invalid("body", "body is not UTF-8 JSON", "json_invalid")
    try:
        document = json.loads(text)
    except ValueError:
        return None  # Powertools answers malformed JSON with its own validation error
    field = _nul_path(document)
    if field is not None:
        return _body_invalid(field, "text may not contain NUL characters", "string_nul")
    return None


def lambda_entry(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda handler of an API function: correlation id, tracing (no response capture), EMF metrics."""

    # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: events carry claims and children's names.
    @logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True, log_event=False
    )
    @capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        refusal = refuse_unreadable_body(event)
        if refusal is not None:
            return refusal
        return app.resolve(event, context)

    register_hooks(app.resolve)
    return handler
