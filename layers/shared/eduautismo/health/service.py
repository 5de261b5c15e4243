"""Dependency checks for GET /health."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pg8000.dbapi
import redis

from eduautismo.health.schemas import CacheState, DatabaseState, HealthReport, HealthStatus

# A connection of its own (db/direct.py): the health function does not import SQLAlchemy.
ConnectionProvider = Callable[[], AbstractContextManager[pg8000.dbapi.Connection]]


def _database_state(connection_provider: ConnectionProvider) -> DatabaseState:
    try:
        with connection_provider() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
    except (pg8000.dbapi.Error, OSError, RuntimeError):
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
    connection_provider: ConnectionProvider, cache_provider: Callable[[], redis.Redis | None], version: str
) -> HealthReport:
    database, cache = _database_state(connection_provider), _cache_state(cache_provider)
    status: HealthStatus
    if database != "ok":
        status = "down"
    else:
        status = "degraded" if cache == "down" else "ok"
    return HealthReport(status=status, database=database, cache=cache, version=version)
