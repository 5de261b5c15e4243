"""Cache-aside helpers over Redis: the seed's ``cache_manager`` and ``@cached`` (docs/ARCHITECTURE.md).

Every operation degrades instead of failing: when Redis is missing, slow or down the call answers
"nothing cached" (and the caller goes to the database), counts a CacheError metric and opens the
circuit breaker so the next requests skip Redis for a few seconds instead of waiting on timeouts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import redis

from eduautismo import resettable
from eduautismo.cache.cached import CACHE_HIT, CACHE_MISS, cached, count_metric, dumps, with_jitter
from eduautismo.cache.client import CircuitBreaker, get_breaker, get_redis
from eduautismo.observability import logger
from eduautismo.settings import Settings, get_settings

if TYPE_CHECKING:
    pass

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

CACHE_ERROR = "CacheError"
SCAN_BATCH = 500


class CacheStatus(StrEnum):
    """The ``X-Cache`` header: served from Redis, rebuilt and stored, or Redis not used at all."""

    HIT = "HIT"
    MISS = "MISS"
    BYPASS = "BYPASS"


# Generation bumps this container could not make while Redis was down (see bump_generation).
_owed_bumps: resettable.Memo[str, None] = resettable.Memo(f"{__name__}._owed_bumps")


class CacheManager:
    """The seed's ``cache_manager``: get, set with TTL, delete, ``delete_pattern``, JSON serialisation.

    Keys passed in are relative; the manager prefixes them with ``settings.cache_key_prefix``. The
    stampede lock and wait of ``read_through`` come from the same settings.
    """

    def __init__(self, client: redis.Redis | None, breaker: CircuitBreaker, settings: Settings) -> None:
        self.client = client
        self.breaker = breaker
        self.prefix = settings.cache_key_prefix
        self.settings = settings

    @property
    def available(self) -> bool:
        return self.client is not None and not self.breaker.is_open

    def key(self, *parts: object) -> str:
        return ":".join((self.prefix, *(str(part) for part in parts)))

    def call(self, operation: Callable[[redis.Redis], T], fallback: T) -> T:
        """Run one Redis operation; on any Redis failure count it, open the breaker, return ``fallback``."""
        if self.client is None or self.breaker.is_open:
            return fallback
        try:
            result = operation(self.client)
        except (redis.RedisError, OSError) as exc:
            self.breaker.record_failure()
            count_metric(CACHE_ERROR)
            logger.warning("cache unavailable", extra={"error_type": type(exc).__name__})
            return fallback
        return result

    def get_raw(self, key: str) -> str | None:
        raw = self.call(lambda client: client.get(self.key(key)), None)
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def get(self, key: str) -> Any | None:
        raw = self.get_raw(key)
        return None if raw is None else json.loads(raw)

    def set_raw(self, key: str, payload: str, ttl: int) -> bool:
        return self.call(lambda client: bool(client.set(self.key(key), payload, ex=ttl)), False)

    def set(self, key: str, value: Any, ttl: int) -> bool:
        return self.set_raw(key, dumps(value), ttl)

    def delete(self, key: str) -> bool:
        return bool(self.call(lambda client: client.unlink(self.key(key)), 0))

    def delete_pattern(self, pattern: str) -> int:
        """Remove every key matching ``pattern`` (glob, under the prefix) with SCAN + UNLINK, never KEYS:
        an admin purge that does not block Redis. Per-write invalidation uses generations instead."""

        def purge(client: redis.Redis) -> int:
            removed = 0
            batch: list[Any] = []
            for found in client.scan_iter(match=self.key(pattern), count=SCAN_BATCH):
                batch.append(found)
                if len(batch) >= SCAN_BATCH:
                    removed += int(client.unlink(*batch))
                    batch.clear()
            if batch:
                removed += int(client.unlink(*batch))
            return removed

        return self.call(purge, 0)

    def incr(self, key: str) -> int | None:
        return self.call(lambda client: int(client.incr(self.key(key))), None)

    def acquire_lock(self, key: str, ttl_ms: int) -> bool:
        """A short ``SET NX PX`` lock: expires by itself if its holder dies."""
        return self.call(lambda client: bool(client.set(self.key(key), "1", nx=True, px=ttl_ms)), False)

    def generation(self, namespace: str) -> int | None:
        """The current generation of ``namespace`` (0 before the first bump); None when Redis is unusable.

        Putting the generation in a key makes one INCR invalidate every key built from the old one (O(1));
        the old keys simply expire. A namespace whose bump is still owed reads as unusable, so this
        container never serves a page cached before its own write."""
        self._settle_owed_bumps()
        if namespace in _owed_bumps:
            return None
        unusable = -1
        raw = self.call(lambda client: int(client.get(self.key(namespace, "generation")) or 0), unusable)
        return None if raw == unusable else raw

    def bump_generation(self, namespace: str) -> None:
        """Invalidate ``namespace``. When Redis cannot take the INCR now, the bump is owed and made as soon
        as Redis answers again, so pages cached before an outage do not outlive a write made during it."""
        if self.incr(f"{namespace}:generation") is None and self.client is not None:
            _owed_bumps.put(namespace, None)

    def _settle_owed_bumps(self) -> None:
        if not _owed_bumps or not self.available:
            return
        for namespace in _owed_bumps:
            if self.incr(f"{namespace}:generation") is None:
                return
            _owed_bumps.discard(namespace)

    def read_through(self, key: str, build: Callable[[], str], ttl: int) -> tuple[str, CacheStatus]:
        """Cache-aside for one JSON payload, with stampede protection.

        On a miss, one caller takes a short ``SET NX PX`` lock and rebuilds; concurrent callers poll for
        its result instead of all querying the database, and rebuild themselves only if it never comes.
        """
        if not self.available:
            return self._counted(build(), CacheStatus.BYPASS)
        payload = self.get_raw(key)
        if payload is not None:
            return self._counted(payload, CacheStatus.HIT)
        if not self.available:  # the GET itself failed
            return self._counted(build(), CacheStatus.BYPASS)
        settings = self.settings
        lock = f"{key}:rebuild"
        if not self.acquire_lock(lock, settings.cache_rebuild_lock_ms):
            payload = self._wait_for(key, settings.cache_rebuild_wait_ms, settings.cache_rebuild_poll_ms)
            if payload is not None:
                return self._counted(payload, CacheStatus.HIT)
        try:
            payload = build()
            self.set_raw(key, payload, ttl)
        finally:
            self.delete(lock)
        return self._counted(payload, CacheStatus.MISS)

    def _wait_for(self, key: str, wait_ms: int, poll_ms: int) -> str | None:
        deadline = time.monotonic() + wait_ms / 1000
        while time.monotonic() < deadline and self.available:
            time.sleep(poll_ms / 1000)
            payload = self.get_raw(key)
            if payload is not None:
                return payload
        return None

    @staticmethod
    def _counted(payload: str, status: CacheStatus) -> tuple[str, CacheStatus]:
        if status is not CacheStatus.BYPASS:
            count_metric(CACHE_HIT if status is CacheStatus.HIT else CACHE_MISS)
        return payload, status


def get_cache_manager() -> CacheManager:
    """The manager over this container's Redis client and breaker (rebuilt cheaply per call)."""
    return CacheManager(get_redis(), get_breaker(), get_settings())


# The seed's API imports ``cached`` and ``dumps`` from here too (they live in cache/cached.py, without Redis).
__all__ = [
    "CACHE_HIT",
    "CACHE_MISS",
    "CacheManager",
    "CacheStatus",
    "cached",
    "dumps",
    "get_cache_manager",
    "with_jitter",
]
