"""GET /health: no authentication; 503 (same body) when the database is down."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import json_response, responses
from eduautismo.api.errors import RETRY_AFTER_SECONDS
from eduautismo.cache.client import get_redis
from eduautismo.db.direct import direct_connection
from eduautismo.health.schemas import HealthReport
from eduautismo.health.service import check_health
from eduautismo.settings import get_settings

router = APIGatewayHttpRouter()


@router.get(
    "/health",
    summary="Service health",
    tags=["health"],
    # No body error: the Lambda entry drops a GET's body unread (api.app.drop_ignored_body).
    responses=responses(
        200, authenticated=False, extra={503: json_response("The database is down", HealthReport)}
    ),
)
def get_health() -> Response[HealthReport]:
    settings = get_settings()
    # A connection of its own (db/direct.py): the health function does not import SQLAlchemy.
    report = check_health(lambda: direct_connection(settings), get_redis, settings.app_version)
    return Response(
        status_code=200 if report.healthy else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report,
        headers=None if report.healthy else {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
