"""What the rate limiter and idempotent writes cost, through the Lambda handlers, in-process.

- limiter: the cached pending-review HIT with the limiter on (one EVALSHA round trip) against the same
  HIT with it off (``RATE_LIMIT_ENABLED=false``), in alternating blocks; target <= 0.3 ms added at p95.
- replayed POST: ``POST /students`` retried with the key of a done request against the first POST of a
  new key; a replay does no database work, target p95 <= 0.5x the first POST.

``python -m benchmarks.run --scale 0.05 limits``.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text

from benchmarks.harness import BenchContext, BenchRow, percentile, sample_ms
from benchmarks.scenarios.plans import ITERATIONS, handler_call, latency_row, runtime
from eduautismo.settings import get_settings
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import load_handler, match_route
from tests.support.factories import Actor

BLOCKS = 6
MAX_ADDED_MS = 0.3
STUDENTS = "/api/v1/students"
BENCH_NAME = "Aluno Bench Idempotência"


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


def _limiter_row(actor: Actor) -> BenchRow:
    call = handler_call(actor, {})
    call()
    if call()["headers"].get("X-Cache") != "HIT":
        raise RuntimeError("the second pending-review request was not a cache HIT")
    with_limiter: list[float] = []
    without: list[float] = []
    for _ in range(BLOCKS):  # alternating blocks: drift of the machine falls on both sides alike
        with _limiter(False):
            without += sample_ms(call, ITERATIONS // 2)
        with _limiter(True):
            if "RateLimit" not in call()["headers"]:
                raise RuntimeError(f"the limiter did not count the request: {sorted(call()['headers'])}")
            with_limiter += sample_ms(call, ITERATIONS // 2)
    p95, baseline_p95 = percentile(with_limiter, 95), percentile(without, 95)
    added = round(p95 - baseline_p95, 3)
    added_p50 = round(percentile(with_limiter, 50) - percentile(without, 50), 3)
    return BenchRow(
        scenario="rate limiter on a cached pending-review HIT",
        p50_ms=round(percentile(with_limiter, 50), 3),
        p95_ms=round(p95, 3),
        throughput_rps=None,
        baseline="the same HIT with the limiter off",
        baseline_p95_ms=round(baseline_p95, 3),
        target=f"p95 added <= {MAX_ADDED_MS} ms",
        passed=added <= MAX_ADDED_MS,
        notes=f"added: {added} ms at p95, {added_p50} ms at p50 (one EVALSHA of the GCRA script)",
    )


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
        notes="a replay: SET NX + GET in Redis, no database",
    )


def run(ctx: BenchContext) -> list[BenchRow]:
    with runtime(ctx), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        return [_limiter_row(ctx.dataset.coordinator), _replay_row(ctx, ctx.dataset.coordinator)]
