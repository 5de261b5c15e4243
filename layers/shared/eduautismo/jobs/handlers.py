"""The Lambda entry point of the daily job: it builds the context from the scheduled event, its clock fixed
to the event's time, runs the job and publishes the summary (functions/daily_job/ is one line)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.jobs import service
from eduautismo.jobs.schemas import DailyJobRequest, DailyJobSummary, event_time
from eduautismo.observability import logger, metrics


def run_scheduled(event: dict[str, Any]) -> dict[str, Any]:
    """The scheduled run: "now" is the event's time, so a retried or replayed event does the same."""
    ctx = build_context(clock=FixedClock(event_time(event)))
    summary = service.run_daily_job(ctx, DailyJobRequest())
    publish_summary(summary)
    return summary.as_dict()


def publish_summary(summary: DailyJobSummary) -> None:
    """The summary as one structured log line and CloudWatch EMF metrics (flushed by the handler)."""
    logger.info("daily job finished", extra={"summary": summary.as_dict()})
    metrics.add_metric(name="DailyJobOrganizations", unit=MetricUnit.Count, value=summary.organizations)
    metrics.add_metric(name="DailyJobPlansScanned", unit=MetricUnit.Count, value=summary.plans_scanned)
    metrics.add_metric(name="DailyJobNotificationsDeleted", unit=MetricUnit.Count, value=summary.deleted)
    metrics.add_metric(name="DailyJobDuration", unit=MetricUnit.Milliseconds, value=summary.duration_ms)
    for notification_type, created in summary.created_by_type.items():
        with single_metric(
            name="DailyJobNotificationsCreated",
            unit=MetricUnit.Count,
            value=created,
            namespace=metrics.namespace,
        ) as metric:
            metric.add_dimension(name="type", value=notification_type)
