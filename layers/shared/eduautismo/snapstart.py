"""Lambda SnapStart runtime hooks of the API functions (``snapshot_restore_py``, in the Python runtime).

Before the snapshot, what the first request would otherwise pay is done once: the X-Ray SDK, the
validators and serializers of every route's models (built on first use otherwise: api.model), one request
through the resolver (routing, middleware, error envelope, JSON), the ORM mapper configuration, and the
engine's first connection (the dialect reads the server's version and settings once per engine). That
connection is closed again before the snapshot: a snapshot must hold no socket, since every restored copy
would share it. After a restore, ``restore_runtime`` drops whatever a copy could share (pooled
connections, Redis client, breaker, memos) and reseeds randomness. Outside SnapStart the hooks never run.
"""

from __future__ import annotations

import sys
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from snapshot_restore_py import register_after_restore, register_before_snapshot

from eduautismo.api.model import build_models
from eduautismo.observability import get_tracer, logger
from eduautismo.runtime import restore_runtime

# A route no function has: answered 404 without database work, yet through the resolver, its routing,
# the error envelope and JSON serialisation.
_PROBE: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "GET /api/v1/__snapshot__",
    "rawPath": "/api/v1/__snapshot__",
    "rawQueryString": "",
    "headers": {"content-type": "application/json"},
    "requestContext": {
        "http": {"method": "GET", "path": "/api/v1/__snapshot__", "sourceIp": "127.0.0.1"},
        "requestId": "snapshot",
        "stage": "$default",
    },
    "isBase64Encoded": False,
}


def before_snapshot(app: APIGatewayHttpResolver) -> None:
    """Warm the function; a failure is logged and the snapshot still taken (requests then pay the cost)."""
    get_tracer()
    try:
        build_models()
        app.get_openapi_schema()  # every route's parameters and body: the resolver's validators
        app.resolve(_PROBE, cast(LambdaContext, None))  # no handler reads the context
        if engine := sys.modules.get("eduautismo.db.engine"):  # a function that uses it (not health)
            engine.warm_up()
    except Exception as exc:  # warming is an optimisation, never a failed deploy
        logger.warning("snapshot warm-up incomplete", extra={"error_type": type(exc).__name__})


def register_hooks(app: APIGatewayHttpResolver) -> None:
    """Register this function's hooks (each API function once, at import: api.app.lambda_entry)."""
    register_before_snapshot(before_snapshot, app)
    register_after_restore(restore_runtime)
