"""HTTP caching rules that hold for a whole function."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware


def no_store(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """``Cache-Control: no-store`` on every answer: they carry plan titles, which no browser or proxy
    cache may keep (DESIGN §6)."""
    response = next_middleware(app)
    response.headers["Cache-Control"] = "no-store"
    return response
