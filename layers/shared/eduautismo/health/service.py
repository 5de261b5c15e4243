"""Dependency checks for GET /health."""

from __future__ import annotations

from collections.abc import Callable

import redis
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from eduautismo.health.schemas import CacheState, DatabaseState, HealthReport, HealthStatus


def _database_state(engine_provider: Callable[[], Engine]) -> DatabaseState:
    try:
        with engine_provider().connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, RuntimeError):
        return "down"
    return "ok"


def _cache_state(cache_provider: Callable[[], redis.Redis | None]) -> CacheState:
    try:
        client = cache_provider()
        if client is None:
            return "disabled"
        client.ping()
    except (redis.RedisError, OSError):
        return "down"
    return "ok"


def check_health(
    engine_provider: Callable[[], Engine], cache_provider: Callable[[], redis.Redis | None], version: str
) -> HealthReport:
    database, cache = _database_state(engine_provider), _cache_state(cache_provider)
    status: HealthStatus
    if database != "ok":
        status = "down"
    else:
        status = "degraded" if cache == "down" else "ok"
    return HealthReport(status=status, database=database, cache=cache, version=version)
