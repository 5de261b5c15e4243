"""Dependency checks for GET /health."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

import pg8000.dbapi
import redis

DependencyState = Literal["ok", "down", "disabled"]


@dataclass(frozen=True)
class HealthReport:
    database: DependencyState
    cache: DependencyState
    version: str

    @property
    def healthy(self) -> bool:
        """Only the database is essential: without the cache requests are served from the database."""
        return self.database == "ok"

    def as_dict(self) -> dict[str, str]:
        if not self.healthy:
            status = "down"
        else:
            status = "degraded" if self.cache == "down" else "ok"
        return {"status": status, "database": self.database, "cache": self.cache, "version": self.version}


# A connection of its own (db/direct.py): the health function does not import SQLAlchemy.
ConnectionProvider = Callable[[], AbstractContextManager[pg8000.dbapi.Connection]]


def _database_state(connection_provider: ConnectionProvider) -> DependencyState:
    try:
        with connection_provider() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
    except (pg8000.dbapi.Error, OSError, RuntimeError):
        return "down"
    return "ok"


def _cache_state(cache_provider: Callable[[], redis.Redis | None]) -> DependencyState:
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
    return HealthReport(_database_state(connection_provider), _cache_state(cache_provider), version)
