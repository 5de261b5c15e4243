"""Dependency checks for GET /health."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import redis
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

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


def _database_state(engine_provider: Callable[[], Engine]) -> DependencyState:
    try:
        with engine_provider().connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, RuntimeError):
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
    engine_provider: Callable[[], Engine], cache_provider: Callable[[], redis.Redis | None], version: str
) -> HealthReport:
    return HealthReport(_database_state(engine_provider), _cache_state(cache_provider), version)
