"""The health use case: the database is essential, the cache is not."""

from __future__ import annotations

from collections.abc import Callable

import redis

from eduautismo.health import repository
from eduautismo.health.repository import ConnectionProvider
from eduautismo.health.schemas import HealthReport, HealthStatus


def check_health(
    connection_provider: ConnectionProvider, cache_provider: Callable[[], redis.Redis | None], version: str
) -> HealthReport:
    database = repository.database_state(connection_provider)
    cache = repository.cache_state(cache_provider)
    status: HealthStatus
    if database != "ok":
        status = "down"
    else:
        status = "degraded" if cache == "down" else "ok"
    return HealthReport(status=status, database=database, cache=cache, version=version)
