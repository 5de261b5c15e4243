"""Every query of the health feature: one round trip to each dependency, answered as its state."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pg8000.dbapi
import redis

from eduautismo.health.schemas import CacheState, DatabaseState

# A connection of its own (db/direct.py): the health function does not import SQLAlchemy.
ConnectionProvider = Callable[[], AbstractContextManager[pg8000.dbapi.Connection]]


def database_state(connection_provider: ConnectionProvider) -> DatabaseState:
    try:
        with connection_provider() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
    except (pg8000.dbapi.Error, OSError, RuntimeError):
        return "down"
    return "ok"


def cache_state(cache_provider: Callable[[], redis.Redis | None]) -> CacheState:
    try:
        client = cache_provider()
        if client is None:
            return "disabled"
        client.ping()
    except (redis.RedisError, OSError):
        return "down"
    return "ok"
