"""The daily job over the scale data set (100,000 plans), then a rerun that must create nothing
(issue: Daily job, item 5). Peak Python memory (tracemalloc) shows that no plan is loaded into Python.
The first run also reports the reminder rows it created per user (max and p95): bounded by
2 x REMINDER_DIGEST_THRESHOLD, plus exactly one escalation summary per coordinator (README "Reminders")."""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from benchmarks.harness import BenchContext, BenchRow, percentile
from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.db.engine import build_engine
from eduautismo.jobs.schemas import REMINDER_TYPES, DailyJobRequest, DailyJobSummary
from eduautismo.jobs.service import run_daily_job
from eduautismo.settings import get_settings

# The floor of any approach: one scan of every active plan due within the reminder window.
RAW_DUE_SCAN = """
SELECT count(*) FROM intervention_plans p JOIN organizations o ON o.id = p.organization_id
WHERE p.status = 'active'
  AND p.next_review_due
      <= CAST(CAST(:now AS timestamptz) AT TIME ZONE o.timezone AS date) + CAST(:due_soon_days AS integer)
"""
BACKUP_CLEANED = """
CREATE TABLE bench_daily_job_cleaned AS
SELECT * FROM notifications WHERE expires_at <= :now OR (is_read AND read_at < :read_before)
"""
MAINTENANCE_SECONDS = 900.0
REMOVE_CREATED = "DELETE FROM notifications WHERE created_at = :now AND type = ANY(:types)"
# Rows the run created per user: reminders (individual or summaries) and escalation summaries apart.
CREATED_PER_USER = """
SELECT count(*) FILTER (WHERE dedupe_key NOT LIKE '%:escalation:%') AS reminders,
       count(*) FILTER (WHERE dedupe_key LIKE '%:escalation:%') AS escalations
FROM notifications WHERE created_at = :now AND type = ANY(:types)
GROUP BY user_id
"""
COORDINATORS = "SELECT count(*) FROM users WHERE role = 'coordinator'"


def _created_per_user(engine: Engine, now: datetime) -> tuple[list[int], list[int], int]:
    with engine.connect() as connection:
        rows = connection.execute(text(CREATED_PER_USER), {"now": now, "types": list(REMINDER_TYPES)}).all()
        coordinators = int(connection.execute(text(COORDINATORS)).scalar_one())
    return [int(row[0]) for row in rows], [int(row[1]) for row in rows], coordinators


def _vacuum_notifications(engine: Engine) -> None:
    """VACUUM refuses a transaction block: the driver's connection in autocommit mode for this statement."""
    connection = engine.raw_connection()
    driver_connection: Any = connection.dbapi_connection
    try:
        connection.rollback()
        driver_connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute("VACUUM ANALYZE notifications")
        cursor.close()
    finally:
        driver_connection.autocommit = False
        connection.close()


def _measured_run(now: datetime) -> tuple[DailyJobSummary, float, int]:
    # The context as the handler builds it from the event, before the measurement: the job's own memory.
    job = build_context(clock=FixedClock(now))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        summary = run_daily_job(job, DailyJobRequest())
        elapsed_ms = (time.perf_counter() - started) * 1000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return summary, elapsed_ms, peak


def _row(
    name: str, elapsed_ms: float, baseline_ms: float, target_ms: float, passed: bool, notes: str
) -> BenchRow:
    return BenchRow(
        scenario=name,
        p50_ms=elapsed_ms,
        p95_ms=elapsed_ms,
        throughput_rps=None,
        baseline="raw SQL scan of due plans",
        baseline_p95_ms=baseline_ms,
        target=f"<= {target_ms / 1000:g} s"
        + (", creates nothing" if "rerun" in name else ", rows per user <= 2 x threshold, 1 escalation each"),
        passed=passed,
        notes=notes,
    )


def run(ctx: BenchContext) -> list[BenchRow]:
    now = datetime.now(UTC)
    settings = get_settings()
    with ctx.engine.connect() as connection:
        started = time.perf_counter()
        due = connection.execute(
            text(RAW_DUE_SCAN), {"now": now, "due_soon_days": settings.review_due_soon_days}
        ).scalar_one()
        baseline_ms = (time.perf_counter() - started) * 1000
    restore = {"now": now, "read_before": now - timedelta(days=settings.notification_retention_days)}
    # Other scenarios expect the seeded notifications: keep the rows the cleanup will delete, and afterwards
    # remove what the job created (stamped with its "now") and put those rows back.
    # Copying a few hundred thousand rows back outlasts the API's timeouts: a connection without them.
    maintenance = build_engine(
        dataclasses.replace(
            settings, database_statement_timeout_ms=0, database_socket_timeout_seconds=MAINTENANCE_SECONDS
        )
    )
    with maintenance.begin() as connection:
        connection.execute(text(BACKUP_CLEANED), restore)
    try:
        first, first_ms, first_peak = _measured_run(now)
        reminders, escalations, coordinators = _created_per_user(ctx.engine, now)
        rerun, rerun_ms, rerun_peak = _measured_run(now)
    finally:
        with maintenance.begin() as connection:
            connection.execute(text(REMOVE_CREATED), {**restore, "types": list(REMINDER_TYPES)})
            connection.execute(text("INSERT INTO notifications SELECT * FROM bench_daily_job_cleaned"))
            connection.execute(text("DROP TABLE bench_daily_job_cleaned"))
        # The scenarios that follow read notifications: give them a table without the dead rows left here.
        _vacuum_notifications(maintenance)
        maintenance.dispose()
    rerun_created = sum(rerun.created_by_type.values())
    bound = 2 * settings.reminder_digest_threshold
    most, p95 = max(reminders, default=0), percentile([float(n) for n in reminders], 95) if reminders else 0.0
    bounded = most <= bound and sorted(set(escalations) - {0}) == [1] and sum(escalations) == coordinators
    per_user = (
        f"rows per user: max {most}, p95 {p95:.0f} (bound {bound}); escalation rows {sum(escalations)} "
        f"for {coordinators} coordinators, at most {max(escalations, default=0)} each"
    )
    return [
        _row(
            "daily job: first run",
            first_ms,
            baseline_ms,
            20_000,
            first_ms <= 20_000 and bounded,
            f"{per_user}; {first.as_dict()}; due plans {due}; "
            f"peak Python memory {first_peak / 1_048_576:.1f} MiB",
        ),
        _row(
            "daily job: rerun (same event)",
            rerun_ms,
            baseline_ms,
            5_000,
            rerun_ms <= 5_000 and rerun_created == 0,
            f"created {rerun_created}; peak Python memory {rerun_peak / 1_048_576:.1f} MiB",
        ),
    ]
