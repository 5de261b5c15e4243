"""Cached pending-review reads through the plans Lambda handler, in-process, against a raw Redis GET.

- cached (HIT): handler vs a raw Redis GET of the same payload; target p95 <= 3 ms and <= 5x.
- cached throughput in one process; target >= 1,000 requests/s.

Apart from the uncached rows (``plans``) so that the HIT path can be measured alone:
``python -m benchmarks.run --scale 0.05 plans_cached``.
"""

from __future__ import annotations

import contextlib
import os
import time

import redis

from benchmarks.harness import BenchContext, BenchRow, sample_ms
from benchmarks.scenarios.plans import ITERATIONS, handler_call, latency_row, principal_of, runtime, window_of
from eduautismo.cache.manager import get_cache_manager
from eduautismo.plans.schemas import (
    PageRequest,
    PendingReviewFilters,
    pending_review_cache_key,
    pending_review_namespace,
)
from tests.support.factories import Actor

THROUGHPUT_REQUESTS = 3_000


def _cached_rows(ctx: BenchContext, actor: Actor) -> list[BenchRow]:
    call = handler_call(actor, {})
    call()
    if call()["headers"].get("X-Cache") != "HIT":
        raise RuntimeError("the second pending-review request was not a cache HIT")
    cache = get_cache_manager()
    principal, window = principal_of(actor), window_of(actor)
    generation = cache.generation(pending_review_namespace(actor.organization_id)) or 0
    key = cache.key(
        pending_review_cache_key(principal, PendingReviewFilters(), window.today, generation, PageRequest())
    )
    client = redis.Redis.from_url(ctx.redis_url)
    if client.get(key) is None:
        raise RuntimeError("cached page key not found")
    handler_samples = sample_ms(call, ITERATIONS)
    raw_samples = sample_ms(lambda: client.get(key), ITERATIONS)
    started = time.perf_counter()
    for _ in range(THROUGHPUT_REQUESTS):
        call()
    throughput = THROUGHPUT_REQUESTS / (time.perf_counter() - started)
    payload_bytes = len(client.get(key) or b"")
    return [
        latency_row(
            "pending-review cached HIT (coordinator)",
            handler_samples,
            raw_samples,
            baseline="raw Redis GET of the same payload",
            max_p95_ms=3,
            max_ratio=5,
            notes=f"payload {payload_bytes} bytes",
        ),
        BenchRow(
            scenario="pending-review cached throughput (one process)",
            p50_ms=None,
            p95_ms=None,
            throughput_rps=round(throughput, 1),
            baseline="",
            baseline_p95_ms=None,
            target=">= 1000 requests/s",
            passed=throughput >= 1_000,
            notes=f"{THROUGHPUT_REQUESTS} sequential cached requests through the handler",
        ),
    ]


def run(ctx: BenchContext) -> list[BenchRow]:
    with runtime(ctx), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        # The handler prints one EMF document per request: to /dev/null here, as Lambda ships stdout.
        return _cached_rows(ctx, ctx.dataset.coordinator)
