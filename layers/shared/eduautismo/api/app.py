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

from eduautismo.api.errors import register_error_handlers
from eduautismo.db.engine import session_scope
from eduautismo.identity.principal import Principal, claims_from_event, principal_from_claims
from eduautismo.identity.provisioning import provision
from eduautismo.observability import logger, metrics, tracer

API_PREFIX = "/api/v1"
PRINCIPAL_KEY = "principal"

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def authenticate(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Turn the authorizer's claims into a provisioned Principal kept in the request context."""
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


def create_app(*routers: APIGatewayHttpRouter, authenticated: bool = True) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    if authenticated:
        app.use(middlewares=[authenticate])
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    return app


def _envelope_result(status: int, code: str, message: str, details: list[Any]) -> dict[str, Any]:
    body = {"error": {"code": code, "message": message, "details": details}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def refuse_unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """The error answer for a body Powertools cannot read safely, else None. Powertools parses form and
    multipart bodies itself (a multipart header without a boundary raises a plain ValueError) and decodes
    base64 bodies as UTF-8 (invalid bytes raise UnicodeDecodeError): both would end as 500s."""
    raw = event.get("body")
    if not raw:
        return None
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip().lower()
    if content_type and not content_type.startswith("application/json"):
        return _envelope_result(415, "unsupported_media_type", "send the body as application/json", [])
    try:
        if event.get("isBase64Encoded"):
            base64.b64decode(str(raw), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        detail = {
            "field": "body",
            "location": "body",
            "message": "body is not UTF-8 JSON",
            "type": "json_invalid",
        }
        return _envelope_result(422, "validation_error", "invalid request", [detail])
    return None


def lambda_entry(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda handler of an API function: correlation id, tracing (no response capture), EMF metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        refusal = refuse_unreadable_body(event)
        if refusal is not None:
            return refusal
        return app.resolve(event, context)

    return handler  # type: ignore[no-any-return]  # Powertools decorators are untyped
