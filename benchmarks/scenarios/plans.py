"""Pending-review latency through the plans Lambda handler, in-process, against the raw baselines.

- uncached (``use_cache=false``): handler vs the same two SQL statements (page + count) on a raw
  DBAPI cursor; target p95 <= 30 ms and <= 3x raw SQL.
The cached rows are the ``plans_cached`` scenario (``python -m benchmarks.run plans_cached`` runs them alone).
The EXPLAIN (ANALYZE, BUFFERS) of the main query goes in the notes.

Needs only ``ctx.engine``, ``ctx.dataset`` and ``ctx.redis_url``: it points the in-process runtime at
them under a private cache key prefix and restores the environment afterwards.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql

from benchmarks.harness import BenchContext, BenchRow, percentile, sample_ms
from eduautismo.cache.manager import get_cache_manager
from eduautismo.context import build_context
from eduautismo.domain import Priority
from eduautismo.identity.principal import Principal
from eduautismo.organizations import service as organizations
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.repository import pending_review_count_query, pending_review_query
from eduautismo.plans.schemas import PendingReviewFilters
from eduautismo.runtime import reset_runtime
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import load_handler, match_route
from tests.support.factories import Actor

PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"
ITERATIONS = 300
THROUGHPUT_REQUESTS = 3_000


@contextlib.contextmanager
def runtime(ctx: BenchContext) -> Iterator[str]:
    """Point settings, engine and Redis at the benchmark's services with a private key prefix."""
    prefix = f"bench-plans-{uuid.uuid4().hex[:8]}"
    # The runner's own DATABASE_URL wins (it may reach the server by socket); else ctx.engine's URL.
    database_url = os.environ.get("DATABASE_URL") or ctx.engine.url.render_as_string(hide_password=False)
    environment = {
        "DATABASE_URL": database_url,
        "REDIS_URL": ctx.redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    reset_runtime()
    try:
        yield prefix
    finally:
        get_cache_manager().delete_pattern("*")
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_runtime()


def handler_call(
    actor: Actor, query: dict[str, str], path: str = PENDING_REVIEW
) -> Callable[[], dict[str, Any]]:
    """GET ``path`` as ``actor`` through the Lambda handler template.yaml routes it to; not 200 raises."""
    route, parameters = match_route("GET", path) or (None, {})
    assert route is not None
    handler = load_handler(route.code_uri, route.handler)
    event = http_api_event(
        "GET",
        path,
        route_key=route.route_key,
        path_parameters=parameters,
        query=query,
        claims=actor.claims,
    )
    context = LocalLambdaContext(function_name=route.function)

    def call() -> dict[str, Any]:
        result = handler(event, context)
        if result["statusCode"] != 200:
            raise RuntimeError(f"{path} answered {result['statusCode']}")
        return result

    return call


def principal_of(actor: Actor) -> Principal:
    return actor.principal


def window_of(actor: Actor) -> LocalDay:
    return organizations.local_day(build_context(), actor.organization_id)


def _literal_sql(statement: Any) -> str:
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _raw_sql_call(
    engine: Engine, actor: Actor, filters: PendingReviewFilters
) -> tuple[Callable[[], None], str]:
    """The handler's two statements (page, count) as literal SQL on a raw DBAPI cursor."""
    principal, window = principal_of(actor), window_of(actor)
    page = pending_review_query(principal, filters, window, include_student=False).offset(0).limit(50)
    count = pending_review_count_query(principal, filters, window)
    page_sql, count_sql = _literal_sql(page), _literal_sql(count)
    connection = engine.raw_connection()

    def call() -> None:
        cursor = connection.cursor()
        cursor.execute(page_sql)
        cursor.fetchall()
        cursor.execute(count_sql)
        cursor.fetchall()
        cursor.close()

    return call, page_sql


def _explain(engine: Engine, page_sql: str) -> str:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {page_sql}")
        return "\n".join(str(row[0]) for row in cursor.fetchall())
    finally:
        connection.close()


def _p(samples: list[float], q: float) -> float:
    return round(percentile(samples, q), 3)


def latency_row(
    scenario: str,
    samples: list[float],
    baseline_samples: list[float],
    *,
    baseline: str,
    max_p95_ms: float,
    max_ratio: float,
    notes: str,
) -> BenchRow:
    p95, baseline_p95 = _p(samples, 95), _p(baseline_samples, 95)
    return BenchRow(
        scenario=scenario,
        p50_ms=_p(samples, 50),
        p95_ms=p95,
        throughput_rps=None,
        baseline=baseline,
        baseline_p95_ms=baseline_p95,
        target=f"p95 <= {max_p95_ms} ms and <= {max_ratio}x {baseline.split(' (')[0]}",
        passed=p95 <= max_p95_ms and p95 <= max_ratio * baseline_p95,
        notes=notes,
    )


def _uncached_row(
    ctx: BenchContext, name: str, actor: Actor, query: dict[str, str], filters: PendingReviewFilters
) -> BenchRow:
    handler_samples = sample_ms(handler_call(actor, {**query, "use_cache": "false"}), ITERATIONS)
    raw_call, page_sql = _raw_sql_call(ctx.engine, actor, filters)
    raw_samples = sample_ms(raw_call, ITERATIONS)
    return latency_row(
        f"pending-review uncached ({name})",
        handler_samples,
        raw_samples,
        baseline="raw SQL (page + count)",
        max_p95_ms=30,
        max_ratio=3,
        notes=f"EXPLAIN (ANALYZE, BUFFERS):\n{_explain(ctx.engine, page_sql)}",
    )


def run(ctx: BenchContext) -> list[BenchRow]:
    coordinator = ctx.dataset.coordinator
    professional = ctx.dataset.professionals[0]
    filtered = {"priority": "high", "overdue_only": "true"}
    with runtime(ctx), open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        # The handler prints one EMF document per request: to /dev/null here, as Lambda ships stdout.
        return [
            _uncached_row(ctx, "coordinator", coordinator, {}, PendingReviewFilters()),
            _uncached_row(
                ctx,
                "professional, high + overdue",
                professional,
                filtered,
                PendingReviewFilters(priority=Priority.HIGH, overdue_only=True),
            ),
        ]
