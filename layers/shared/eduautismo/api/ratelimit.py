"""Per-caller rate limits (README "Limits and retries"): one Redis round trip per request, before any
database work.

Algorithm: GCRA (the generic cell rate algorithm, a leaky bucket kept as one number). Each caller and
budget is one Redis key holding the theoretical arrival time (TAT) of the next request; a request is
allowed while it would not push the TAT more than one window ahead of now. Chosen over a sliding window
because it needs one small string per caller instead of a sorted set of every request in the window
(memory and time O(1) whatever the limit), spreads a budget evenly instead of letting it refill all at
once at a window's edge, and gives the exact ``Retry-After`` and remaining count the headers need. The
script reads Redis' own clock, so containers with skewed clocks agree.

Redis missing, down or slow (the cache's short timeouts and circuit breaker): the request passes, counted
in the ``RateLimitBypass`` metric; the API Gateway stage throttle (template.yaml) still bounds the API.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import redis
from aws_lambda_powertools.metrics import MetricUnit

from eduautismo import resettable
from eduautismo.cache.manager import CacheManager
from eduautismo.observability import metrics
from eduautismo.settings import Settings

RATE_LIMIT_BYPASS = "RateLimitBypass"
RATE_LIMITED = "RateLimited"
_MICROSECONDS = 1_000_000

# KEYS[1]: the caller's budget. ARGV[1]: emission interval (µs per request); ARGV[2]: window (µs).
# Answers {allowed (1/0), µs until the request would be allowed, µs the TAT lies ahead of now}.
_GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local next_tat = tat + interval
local allowed_at = next_tat - window
if now < allowed_at then
  return {0, allowed_at - now, tat - now}
end
-- At least 1 ms: an interval below the clock's precision (a huge budget) would give PX 0, an error.
local expiry_ms = math.max(1, math.ceil((next_tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', expiry_ms)
return {1, 0, next_tat - now}
"""

_GCRA_SHA = hashlib.sha1(_GCRA.encode(), usedforsecurity=False).hexdigest()
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Budget(StrEnum):
    """The policy names of the RateLimit-Policy and RateLimit header fields."""

    READS = "reads"
    WRITES = "writes"


@dataclass(frozen=True, slots=True)
class Decision:
    budget: Budget
    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after_seconds: int


@dataclass(frozen=True, slots=True)
class BudgetLimit:
    """One budget as the script counts it: µs per request and the window, also as the script's arguments."""

    budget: Budget
    interval: float
    window: int
    script_args: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Limits:
    """What the settings make of every request, worked out once per setting of the budgets rather than on
    each request (the limiter sits on the path of every answer, a cached one included)."""

    policy_header: str
    reads: BudgetLimit
    writes: BudgetLimit


def _budget_limit(budget: Budget, quota: int, window_seconds: int) -> BudgetLimit:
    window = window_seconds * _MICROSECONDS
    interval = window / quota
    return BudgetLimit(budget, interval, window, (repr(interval), str(window)))


@resettable.once(restore="keep", maxsize=8)
def _limits(reads: int, writes: int, window_seconds: int) -> Limits:
    # ``RateLimit-Policy`` (draft-ietf-httpapi-ratelimit-headers): both budgets, quota and window.
    policy = ", ".join(
        f'"{budget}";q={quota};w={window_seconds}'
        for budget, quota in ((Budget.READS, reads), (Budget.WRITES, writes))
    )
    return Limits(
        policy,
        _budget_limit(Budget.READS, reads, window_seconds),
        _budget_limit(Budget.WRITES, writes, window_seconds),
    )


def limits_of(settings: Settings) -> Limits:
    return _limits(settings.rate_limit_reads, settings.rate_limit_writes, settings.rate_limit_window_seconds)


def limit_header(decision: Decision) -> str:
    """``RateLimit``: the budget this request counted against, what is left and when it is whole again."""
    return f'"{decision.budget}";r={decision.remaining};t={decision.reset_seconds}'


def budget_of(event: dict[str, Any], limits: Limits) -> BudgetLimit:
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    return limits.reads if str(method).upper() in _READ_METHODS else limits.writes


def caller_of(event: dict[str, Any], subject: uuid.UUID | None) -> str:
    """Who is counted: the token's subject when the authorizer passed a usable one (a malformed one is
    refused later, by authentication), else the source address (routes without login)."""
    if subject is not None:
        return f"user:{subject}"
    source = str(event.get("requestContext", {}).get("http", {}).get("sourceIp", ""))
    return f"ip:{source[:64]}"


def check(
    event: dict[str, Any], subject: uuid.UUID | None, limits: Limits, cache: CacheManager
) -> Decision | None:
    """Count the request against its caller's budget; None when Redis cannot say (the request passes:
    the cache manager counts the CacheError and opens the breaker, and RateLimitBypass is counted).
    ``subject``: the token's subject, parsed once by the Lambda entry."""
    limit = budget_of(event, limits)
    key = cache.key("ratelimit", limit.budget, caller_of(event, subject))
    answer = cache.call(lambda client: _run_script(client, key, limit.script_args), None)
    if answer is None:
        metrics.add_metric(name=RATE_LIMIT_BYPASS, unit=MetricUnit.Count, value=1)
        return None
    allowed, wait, ahead = answer
    if not allowed:
        metrics.add_metric(name=RATE_LIMITED, unit=MetricUnit.Count, value=1)
        return Decision(limit.budget, False, 0, _seconds(ahead), max(1, _seconds(wait)))
    # The tolerance absorbs the µs rounding of the stored time (an interval need not be whole µs).
    remaining = max(0, math.floor((limit.window - int(ahead)) / limit.interval + 1e-3))
    return Decision(limit.budget, True, remaining, _seconds(ahead), 0)


def _seconds(microseconds: Any) -> int:
    return math.ceil(int(microseconds) / _MICROSECONDS)


def _run_script(client: redis.Redis, key: str, args: tuple[str, str]) -> Any:
    """EVALSHA, one round trip; the script's text only the first time a Redis server sees it."""
    try:
        return client.evalsha(_GCRA_SHA, 1, key, *args)
    except redis.exceptions.NoScriptError:
        return client.eval(_GCRA, 1, key, *args)
