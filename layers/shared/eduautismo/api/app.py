"""Builds the Powertools resolver of one function: routers, error envelope, authentication, observability."""

from __future__ import annotations

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


def lambda_entry(app: APIGatewayHttpResolver) -> LambdaHandler:
    """The Lambda handler of an API function: correlation id, tracing (no response capture), EMF metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler  # type: ignore[no-any-return]  # Powertools decorators are untyped
