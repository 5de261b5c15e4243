"""Cold request: a fresh interpreter imports the plans handler and serves one authenticated pending-review
request against the run's PostgreSQL and Redis (import + first request, as a Lambda cold start without
SnapStart pays it); the raw baseline is the same request warm, in the same process afterwards.

Each process uses its own cache key prefix, so its first request misses the cache as a new container's
first request does after a deploy; the warm figure then is a cache hit. The first request alone (without
the import) is in the notes. Tracing is disabled (no X-Ray daemon here); bytecode is cached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from benchmarks.harness import BenchContext, BenchRow, latency_row, percentile
from eduautismo_local.template_routes import PROJECT_ROOT, match_route

PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"
RUNS = 5
WARM_REQUESTS = 20

_PROBE = """
import json, sys, time
started = time.perf_counter()
import {module} as handler_module
imported = time.perf_counter()
from eduautismo_local.events import LocalLambdaContext, http_api_event
event = http_api_event("GET", {path!r}, route_key={route_key!r}, claims={claims!r})
context = LocalLambdaContext(function_name={function!r})
before_first = time.perf_counter()
status = handler_module.lambda_handler(event, context)["statusCode"]
first = time.perf_counter()
warm = []
for _ in range({warm}):
    event = http_api_event("GET", {path!r}, route_key={route_key!r}, claims={claims!r})
    began = time.perf_counter()
    handler_module.lambda_handler(event, context)
    warm.append((time.perf_counter() - began) * 1000)
print(json.dumps({{
    "status": status,
    "import_ms": (imported - started) * 1000,
    "first_ms": (first - before_first) * 1000,
    "cold_ms": (imported - started) * 1000 + (first - before_first) * 1000,
    "warm_ms": warm,
}}))
"""


def _cold_process(code: str, code_dir: Path) -> dict[str, object]:
    unset = ("PYTHONDONTWRITEBYTECODE",)
    environment = {name: value for name, value in os.environ.items() if name not in unset}
    environment.update(
        {
            "PYTHONPATH": os.pathsep.join([str(code_dir), str(PROJECT_ROOT / "infra")]),
            "LAMBDA_TASK_ROOT": str(code_dir),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "CACHE_KEY_PREFIX": f"{os.environ.get('CACHE_KEY_PREFIX', 'bench')}-cold-{uuid.uuid4().hex[:8]}",
        }
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=code_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    if measured["status"] != 200:
        raise RuntimeError(f"pending-review answered {measured['status']}")
    return measured


def run(ctx: BenchContext) -> list[BenchRow]:
    route, _ = match_route("GET", PENDING_REVIEW) or (None, {})
    assert route is not None
    code_dir = (PROJECT_ROOT / route.code_uri).resolve()
    actor = ctx.dataset.professionals[0]
    code = _PROBE.format(
        module=route.handler.rsplit(".", 1)[0],
        path=PENDING_REVIEW,
        route_key=route.route_key,
        claims=actor.claims,
        function=route.function,
        warm=WARM_REQUESTS,
    )
    _cold_process(code, code_dir)  # fills the bytecode cache, as a deployed package ships it
    cold, first, warm = [], [], []
    for _ in range(RUNS):
        measured = _cold_process(code, code_dir)
        cold.append(float(measured["cold_ms"]))  # type: ignore[arg-type]
        first.append(float(measured["first_ms"]))  # type: ignore[arg-type]
        warm.extend(float(value) for value in measured["warm_ms"])  # type: ignore[attr-defined]
    return [
        latency_row(
            "cold request PlansFunction pending-review",
            cold,
            baseline="same request warm",
            baseline_p95_ms=percentile(warm, 95),
            target="reported",
            passed=True,
            notes=(
                f"import + first request; first request alone p50 {percentile(first, 50):.1f} ms; "
                f"warm p50 {percentile(warm, 50):.1f} ms ({len(warm)} warm requests over {RUNS} processes)"
            ),
        )
    ]
