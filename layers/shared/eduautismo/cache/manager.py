"""Cache-aside helpers over Redis: the seed's ``cache_manager`` and ``@cached`` (docs/ARCHITECTURE.md).

Every operation degrades instead of failing: when Redis is missing, slow or down the call answers
"nothing cached" (and the caller goes to the database), counts a CacheError metric and opens the
circuit breaker so the next requests skip Redis for a few seconds instead of waiting on timeouts.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import random
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

import redis
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from eduautismo import resettable
from eduautismo.cache.client import CircuitBreaker, get_breaker, get_redis
from eduautismo.observability import logger, metrics
from eduautismo.settings import Settings, get_settings

if TYPE_CHECKING:
    from eduautismo.identity.principal import Principal

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

CACHE_HIT = "CacheHit"
CACHE_MISS = "CacheMiss"
CACHE_ERROR = "CacheError"
SCAN_BATCH = 500


def _json_default(value: Any) -> Any:
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    # Request models and value objects, as ``@cached`` arguments.
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """Compact JSON with UUIDs, dates and decimals as strings: the format stored in Redis."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def count_metric(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def with_jitter(ttl_seconds: int, ratio: float) -> int:
    """Spread expiries so that keys written together do not all expire in the same second."""
    spread = int(ttl_seconds * ratio)
    return max(1, ttl_seconds + random.randint(-spread, spread))  # noqa: S311 - not security


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


class CacheUser(Protocol):
    """What a ``@cached`` function takes first: the use case's context (``eduautismo.context.Context``)."""

    @property
    def principal(self) -> Principal | None: ...

    @property
    def cache(self) -> CacheManager: ...


C = TypeVar("C", bound=CacheUser)


def caller_part(principal: Principal | None) -> str:
    """The caller as a key holds it: organization, user and role (the role sets the scope), or nobody."""
    if principal is None:
        return "nobody"
    return f"org:{principal.organization_id}:user:{principal.user_id}:{principal.role.value}"


def call_key(key_prefix: str, caller: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    digest = hashlib.sha256(dumps([args, sorted(kwargs.items())]).encode()).hexdigest()[:32]
    return f"{key_prefix}:{caller}:{digest}"


def cached(
    ttl: int | Callable[[Settings], int],
    key_prefix: str,
    generation_of: Callable[[C], str] | None = None,
) -> Callable[[Callable[Concatenate[C, P], R]], Callable[Concatenate[C, P], R]]:
    """The seed's ``@cached(ttl, key_prefix)``: cache a function's JSON-serialisable result by its
    arguments. Results must round-trip through JSON (the cached value is what JSON gives back).

    The function takes the use case's context first, and the cache is the context's (``ctx.cache``, as
    docs/ARCHITECTURE.md wants: no module-level client). The key holds the caller (organization, user,
    role) besides the other arguments (request models and dataclasses included), so a value cached for
    one caller is never served to another. ``ttl``: seconds, or read from the settings (with jitter).
    ``generation_of(ctx)``: a namespace whose generation is part of the key, so that bumping it
    (``CacheManager.bump_generation``) invalidates every value cached under it; while that generation
    cannot be read (Redis down, a bump still owed) the function runs uncached."""

    def decorate(function: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
        @functools.wraps(function)
        def wrapper(ctx: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
            cache = ctx.cache
            caller = caller_part(ctx.principal)
            if generation_of is not None:
                generation = cache.generation(generation_of(ctx))
                if generation is None:
                    return function(ctx, *args, **kwargs)
                caller = f"{caller}:g{generation}"
            key = call_key(key_prefix, caller, args, dict(kwargs))
            hit = cache.get_raw(key)
            if hit is not None:
                count_metric(CACHE_HIT)
                return json.loads(hit)  # type: ignore[no-any-return]
            result = function(ctx, *args, **kwargs)
            if cache.available:
                count_metric(CACHE_MISS)
                seconds = ttl(cache.settings) if callable(ttl) else ttl
                cache.set_raw(key, dumps(result), with_jitter(seconds, cache.settings.cache_ttl_jitter_ratio))
            return result

        return wrapper

    return decorate
