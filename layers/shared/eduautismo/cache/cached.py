"""The seed's ``@cached`` and the JSON form of cached values, without Redis: a module that only declares a
cached function (or builds a key) loads no Redis client; the cache itself is the context's
(``ctx.cache``, ``cache/manager.py``)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import random
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from eduautismo.observability import metrics
from eduautismo.settings import Settings

if TYPE_CHECKING:
    from eduautismo.cache.manager import CacheManager
    from eduautismo.identity.principal import Principal

P = ParamSpec("P")
R = TypeVar("R")

CACHE_HIT = "CacheHit"
CACHE_MISS = "CacheMiss"


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
