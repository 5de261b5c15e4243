"""GET /health: no authentication; 503 when the database is down."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.cache.client import get_redis
from eduautismo.db.direct import direct_connection
from eduautismo.health.service import check_health
from eduautismo.settings import get_settings

router = APIGatewayHttpRouter()


@router.get("/health", summary="Service health", tags=["health"])
def get_health() -> Response[dict[str, Any]]:
    settings = get_settings()
    report = check_health(lambda: direct_connection(settings), get_redis, settings.app_version)
    return Response(
        status_code=200 if report.healthy else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report.as_dict(),
        headers={"Cache-Control": "no-store"},
    )
