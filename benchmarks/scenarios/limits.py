"""What the rate limiter and idempotent writes cost, through the Lambda handlers, in-process.

- limiter: the cached pending-review HIT with the limiter on (one EVALSHA round trip) against the same
  HIT with it off (``RATE_LIMIT_ENABLED=false``), in alternating blocks; target <= 0.3 ms added at p95.
  In the same blocks, the limiter's step alone against a raw Redis GET (the round trip it cannot avoid):
  the end-to-end difference of two p95s is noisy on a shared machine, the step's own p95 is not.
- replayed POST: ``POST /students`` retried with the key of a done request against the first POST of a
  new key; a replay checks the caller (one query) and does no work again, target p95 <= 0.5x the first POST.

``python -m benchmarks.run --scale 0.05 limits``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text

from benchmarks.harness import BenchContext, BenchRow, percentile, sample_ms
from benchmarks.scenarios.plans import ITERATIONS, PENDING_REVIEW, handler_call, latency_row, runtime
from eduautismo.api.app import limit_rate
from eduautismo.cache.manager import CacheManager, get_cache_manager
from eduautismo.identity.principal import subject_of
from eduautismo.settings import Settings, get_settings
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import load_handler, match_route
from tests.support.factories import Actor

# Alternating blocks of a few calls, each side warmed by one unmeasured call after the switch: the drift of a
# shared machine falls on both sides alike. 100 blocks of 10: 1,000 samples a side.
BLOCKS = 100
BLOCK_CALLS = 10
MAX_ADDED_MS = 0.3
STUDENTS = "/api/v1/students"
BENCH_NAME = "Aluno Bench Idempotência"
PROBE_KEY = "bench-limits-probe"


@contextlib.contextmanager
def _limiter(enabled: bool) -> Iterator[None]:
    """Settings read again with the limiter on or off (roomy budgets: it counts, never refuses)."""
    saved = {name: os.environ.get(name) for name in ("RATE_LIMIT_ENABLED", "RATE_LIMIT_READS")}
    os.environ.update({"RATE_LIMIT_ENABLED": str(enabled).lower(), "RATE_LIMIT_READS": "100000000"})
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def _timed_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _timed_with_cpu(fn: Callable[[], Any], wall_ms: list[float], cpu_us: list[float]) -> None:
    """Wall time, and this thread's CPU time (user + system, the waits excluded): the CPU a step spends is
    what the code controls, the wall time also holds the Redis server's and the scheduler's share."""
    cpu_started, started = time.thread_time_ns(), time.perf_counter_ns()
    fn()
    wall_ms.append((time.perf_counter_ns() - started) / 1e6)
    cpu_us.append((time.thread_time_ns() - cpu_started) / 1e3)


def limit_step(event: dict[str, Any], settings: Settings, cache: CacheManager) -> None:
    """What the Lambda entry runs for the limiter: the subject parsed from the claims, then the limit."""
    limit_rate(event, subject_of(event), settings, cache)


def _limiter_rows(actor: Actor) -> list[BenchRow]:
    """The HIT with the limiter on and off, and, in the same blocks, the limiter's own step (what the
    Lambda entry runs: one EVALSHA and its headers) against a raw Redis GET on the same client."""
    call = handler_call(actor, {})
    call()
    if call()["headers"].get("X-Cache") != "HIT":
        raise RuntimeError("the second pending-review request was not a cache HIT")
    cache = get_cache_manager()
    if cache.client is None:
        raise RuntimeError("the limiter bench needs Redis")
    client = cache.client
    probe = cache.key(PROBE_KEY)
    client.set(probe, "1")
    route, _ = match_route("GET", PENDING_REVIEW) or (None, {})
    assert route is not None
    event = http_api_event("GET", PENDING_REVIEW, route_key=route.route_key, claims=actor.claims)
    with_limiter: list[float] = []
    without: list[float] = []
    step: list[float] = []
    raw_get: list[float] = []
    step_cpu: list[float] = []
    raw_get_cpu: list[float] = []
    for _ in range(BLOCKS):
        with _limiter(False):
            call()
            without += [_timed_ms(call) for _ in range(BLOCK_CALLS)]
        with _limiter(True):
            if "RateLimit" not in call()["headers"]:
                raise RuntimeError("the limiter did not count the request")
            with_limiter += [_timed_ms(call) for _ in range(BLOCK_CALLS)]
            limiter_step = functools.partial(limit_step, event, get_settings(), get_cache_manager())
            for _ in range(BLOCK_CALLS):
                _timed_with_cpu(functools.partial(client.get, probe), raw_get, raw_get_cpu)
                _timed_with_cpu(limiter_step, step, step_cpu)
    client.delete(probe)
    added = round(percentile(with_limiter, 95) - percentile(without, 95), 3)
    added_p50 = round(percentile(with_limiter, 50) - percentile(without, 50), 3)
    return [
        _row(
            "rate limiter on a cached pending-review HIT",
            (with_limiter, without, "the same HIT with the limiter off"),
            ("p95 added", added),
            f"added: {added} ms at p95, {added_p50} ms at p50; {len(with_limiter)} samples a side in "
            f"{BLOCKS} alternating blocks",
        ),
        _row(
            "rate limiter step alone (one EVALSHA + headers)",
            (step, raw_get, "raw Redis GET"),
            ("p95", percentile(step, 95)),
            "the Lambda entry's subject_of + limit_rate on the HIT's event, interleaved call by call with a "
            f"GET of one key on the same client; raw GET p50 {percentile(raw_get, 50):.3f} ms; CPU per call "
            f"(this thread, median): step {percentile(step_cpu, 50):.1f} µs, raw GET "
            f"{percentile(raw_get_cpu, 50):.1f} µs",
        ),
    ]


def _row(
    scenario: str,
    measured: tuple[list[float], list[float], str],
    verdict: tuple[str, float],
    notes: str,
) -> BenchRow:
    """``measured``: the samples, the baseline's and what it is; ``verdict``: what is held to MAX_ADDED_MS."""
    samples, baseline_samples, baseline = measured
    judged, value_ms = verdict
    p50, p95 = round(percentile(samples, 50), 3), round(percentile(samples, 95), 3)
    baseline_p95 = round(percentile(baseline_samples, 95), 3)
    target = f"{judged} <= {MAX_ADDED_MS} ms"
    return BenchRow(scenario, p50, p95, None, baseline, baseline_p95, target, value_ms <= MAX_ADDED_MS, notes)


def _post_student(actor: Actor, key: Callable[[], str]) -> Callable[[], dict[str, Any]]:
    route, _ = match_route("POST", STUDENTS) or (None, {})
    assert route is not None
    handler = load_handler(route.code_uri, route.handler)
    context = LocalLambdaContext(function_name=route.function)
    body = json.dumps({"full_name": BENCH_NAME})

    def call() -> dict[str, Any]:
        event = http_api_event(
            "POST",
            STUDENTS,
            route_key=route.route_key,
            headers={"content-type": "application/json", "idempotency-key": key()},
            body=body,
            claims=actor.claims,
        )
        result = handler(event, context)
        if result["statusCode"] != 201:
            raise RuntimeError(f"POST {STUDENTS} answered {result['statusCode']}")
        return result

    return call


def _replay_row(ctx: BenchContext, actor: Actor) -> BenchRow:
    first = _post_student(actor, lambda: str(uuid.uuid4()))
    done_key = str(uuid.uuid4())
    replay = _post_student(actor, lambda: done_key)
    created, replayed = replay(), replay()
    if (
        "Idempotent-Replayed" in created["headers"]
        or replayed["headers"].get("Idempotent-Replayed") != "true"
    ):
        raise RuntimeError("the retry was not replayed")
    try:
        first_samples = sample_ms(first, ITERATIONS)
        replay_samples = sample_ms(replay, ITERATIONS)
    finally:
        with ctx.engine.begin() as connection:
            connection.execute(text("DELETE FROM students WHERE full_name = :name"), {"name": BENCH_NAME})
    return latency_row(
        "replayed POST /students (same Idempotency-Key)",
        replay_samples,
        first_samples,
        baseline="the first POST of a new key",
        max_p95_ms=30,
        max_ratio=0.5,
        notes="a replay: SET NX + GET in Redis and the caller's check (one query), no work",
    )


def run(ctx: BenchContext) -> list[BenchRow]:
    with runtime(ctx), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return [*_limiter_rows(ctx.dataset.coordinator), _replay_row(ctx, ctx.dataset.coordinator)]
