"""The review compliance report for the coordinator of the big organization (50,000 plans, half of the
scale data set's ~300,000 reviews), default period (the last 90 days), through the reports Lambda handler
in-process, against the same SQL statement (literal binds) on a raw DBAPI cursor.

Target: p95 <= 1.5x the raw SQL (the handler adds authentication, the timezone lookup and the models).
The notes hold the EXPLAIN (ANALYZE, BUFFERS) of the statement and the raw SQL's p95 with a candidate
index on plan_reviews (reviewed_at, plan_id), built for the measurement and dropped afterwards: the
migration 0004_reports_indexes exists only if that index measurably helps.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql

from benchmarks.harness import BenchContext, BenchRow, latency_row, percentile, sample_ms
from benchmarks.scenarios.plans import handler_call
from eduautismo.context import build_context
from eduautismo.reports.repository import NO_JIT, compliance_statement
from eduautismo.reports.schemas import ComplianceQuery
from eduautismo.reports.service import report_window
from tests.support.factories import Actor

REPORT = "/api/v1/reports/review-compliance"
ITERATIONS = 20
MAX_RATIO = 1.5
CANDIDATE_INDEX = "CREATE INDEX bench_plan_reviews_reviewed ON plan_reviews (reviewed_at, plan_id)"


def _report_sql(actor: Actor) -> str:
    principal = actor.principal
    statement = compliance_statement(principal, report_window(build_context(principal), ComplianceQuery()))
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _raw_sql_call(engine: Engine, sql: str) -> Callable[[], None]:
    """The statement under the session setting the repository gives it (JIT off)."""
    connection = engine.raw_connection()
    connection.cursor().execute(NO_JIT.replace("LOCAL ", ""))

    def call() -> None:
        cursor = connection.cursor()
        cursor.execute(sql)
        cursor.fetchall()
        cursor.close()

    return call


def _explain(engine: Engine, sql: str) -> str:
    with engine.connect() as connection:
        connection.execute(text(NO_JIT))
        return "\n".join(
            str(line[0]) for line in connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
        )


def _with_candidate_index_p95(engine: Engine, sql: str) -> float:
    with engine.begin() as connection:
        connection.execute(text(CANDIDATE_INDEX))
        connection.execute(text("ANALYZE plan_reviews"))
    try:
        return percentile(sample_ms(_raw_sql_call(engine, sql), ITERATIONS, warmup=2), 95)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX bench_plan_reviews_reviewed"))
            connection.execute(text("ANALYZE plan_reviews"))


def run(ctx: BenchContext) -> list[BenchRow]:
    actor = ctx.dataset.coordinator
    handler_samples = sample_ms(handler_call(actor, {}, REPORT), ITERATIONS, warmup=2)
    sql = _report_sql(actor)
    raw_samples = sample_ms(_raw_sql_call(ctx.engine, sql), ITERATIONS, warmup=2)
    p95, raw_p95 = percentile(handler_samples, 95), percentile(raw_samples, 95)
    indexed_p95 = _with_candidate_index_p95(ctx.engine, sql)
    return [
        latency_row(
            "reports: review compliance (coordinator, 90 days)",
            handler_samples,
            baseline="raw SQL (the same statement)",
            baseline_p95_ms=raw_p95,
            target=f"p95 <= {MAX_RATIO}x raw SQL",
            passed=p95 <= MAX_RATIO * raw_p95,
            notes=(
                f"{ctx.dataset.reviews} reviews seeded; raw SQL p95 with a candidate index on "
                f"plan_reviews (reviewed_at, plan_id): {indexed_p95:.1f} ms (without: {raw_p95:.1f} ms)\n"
                f"EXPLAIN (ANALYZE, BUFFERS):\n{_explain(ctx.engine, sql)}"
            ),
        )
    ]
