"""The daily job (DESIGN §6): review reminders, escalation to coordinators, and cleanup.

"Now" is the scheduled event's time, never the wall clock, so a retried or replayed event computes the same
reminders. Reminders are set-based INSERT ... SELECT statements per organization (in its own timezone), each
over a bounded batch of plans in id order and in its own transaction; the unique (user_id, dedupe_key) with
ON CONFLICT DO NOTHING makes reruns, duplicate deliveries and concurrent runs create nothing twice, and a run
that dies midway is completed by the next one. No plan is loaded into Python.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from sqlalchemy import Engine, text

from eduautismo.clock import local_today
from eduautismo.domain import NotificationPriority, NotificationType, PlanStatus, Priority, Role, UserStatus
from eduautismo.notifications import texts
from eduautismo.notifications.service import OVERDUE_URGENT_AFTER_DAYS
from eduautismo.observability import logger, metrics
from eduautismo.settings import Settings

REMINDER_TYPES = (NotificationType.REVIEW_DUE_SOON, NotificationType.REVIEW_OVERDUE)
PLANS_SCANNED = "plans_scanned"
ALREADY_EXPIRED = "already_expired"


def _rendered(template: str) -> str:
    return texts.sql_render(
        template, plan_title="c.plan_title", days="c.days_overdue", due_date="c.next_review_due"
    )


# Candidates: due soon and overdue to the responsible professional, escalations to every coordinator.
# Ordered by the unique key so that concurrent runs take row locks in the same order (no deadlock).
# Only trusted fragments are interpolated (the text and key expressions); every value is a bind parameter.
_DEDUPE_KEY = texts.sql_dedupe_key("c.type", "c.plan_id", "c.next_review_due")
_REMINDERS_SQL = f"""
WITH due AS MATERIALIZED (
    SELECT p.id AS plan_id, p.professional_id, p.title AS plan_title, p.priority AS plan_priority,
           p.next_review_due, CAST(:today AS date) - p.next_review_due AS days_overdue
    FROM intervention_plans p
    WHERE p.organization_id = :organization_id
      AND p.status = :active
      AND p.next_review_due <= CAST(:today AS date) + CAST(:due_soon_days AS integer)
      AND (CAST(:after_plan_id AS uuid) IS NULL OR p.id > CAST(:after_plan_id AS uuid))
    ORDER BY p.id
    LIMIT :batch_size
),
-- Escalations go to the roles stored now (Cognito's events keep them current), active users only.
coordinators AS (
    SELECT u.id FROM users u
    WHERE u.organization_id = :organization_id AND u.role = :coordinator AND u.status = :active_user
),
candidates AS (
    SELECT d.*, d.professional_id AS user_id, CAST(:due_soon_type AS text) AS type,
           CAST(:medium AS text) AS priority, CAST(:due_soon_title AS text) AS title_template,
           CAST(:due_soon_message AS text) AS message_template,
           CAST(:due_soon_expiry_days AS integer) AS expiry_days
    FROM due d WHERE d.days_overdue <= 0
    UNION ALL
    SELECT d.*, d.professional_id, :overdue_type,
           CASE WHEN d.days_overdue >= CAST(:urgent_after_days AS integer) OR d.plan_priority = :high_plan
                THEN CAST(:urgent AS text) ELSE CAST(:high AS text) END,
           :overdue_title, :overdue_message, :overdue_expiry_days
    FROM due d WHERE d.days_overdue > 0
    UNION ALL
    SELECT d.*, c.id, :overdue_type, :urgent, :escalated_title, :escalated_message, :overdue_expiry_days
    FROM due d CROSS JOIN coordinators c WHERE d.days_overdue >= CAST(:escalate_after_days AS integer)
),
inserted AS (
    INSERT INTO notifications (
        id, organization_id, user_id, type, priority, title, message, intervention_plan_id,
        action_url, dedupe_key, is_read, created_at, expires_at
    )
    SELECT gen_random_uuid(), :organization_id, c.user_id, c.type, c.priority,
           {_rendered("c.title_template")}, {_rendered("c.message_template")}, c.plan_id,
           CAST(:action_url_prefix AS text) || CAST(c.plan_id AS text), keyed.dedupe_key, false,
           :now, CAST(:now AS timestamptz) + make_interval(days => c.expiry_days)
    FROM candidates c
    CROSS JOIN LATERAL (SELECT {_DEDUPE_KEY}) AS keyed(dedupe_key)
    -- Rows that already exist are skipped before their text is built (a rerun costs index probes only);
    -- ON CONFLICT still settles the race with a concurrent run.
    WHERE NOT EXISTS (
        SELECT 1 FROM notifications n WHERE n.user_id = c.user_id AND n.dedupe_key = keyed.dedupe_key
    )
    -- A user Cognito disabled (users.status) gets no reminder nor escalation: keep this when rewriting.
    AND EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.status = :active_user)
    ORDER BY c.user_id, keyed.dedupe_key
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
    RETURNING type, expires_at
)
SELECT :plans_scanned AS counter, count(*) AS amount,
       (SELECT plan_id FROM due ORDER BY plan_id DESC LIMIT 1) AS last_plan_id
FROM due
UNION ALL
SELECT type, count(*), NULL FROM inserted GROUP BY type
UNION ALL
SELECT :already_expired, count(*), NULL FROM inserted WHERE expires_at <= statement_timestamp()
"""  # noqa: S608

_DELETE_BATCH_SQL = """
DELETE FROM notifications WHERE id IN (
    SELECT id FROM notifications WHERE {condition} LIMIT :batch_size FOR UPDATE SKIP LOCKED
)
"""
_EXPIRED = "expires_at <= :now"
_READ_AND_OLD = "is_read AND read_at < :read_before"


@dataclass
class DailyJobSummary:
    organizations: int = 0
    plans_scanned: int = 0
    created_by_type: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in REMINDER_TYPES})
    # Created already past their expiry (a run for an event time long gone): they reach no inbox.
    already_expired: int = 0
    deleted: int = 0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "organizations": self.organizations,
            "plans_scanned": self.plans_scanned,
            "created_by_type": dict(self.created_by_type),
            "already_expired": self.already_expired,
            "deleted": self.deleted,
            "duration_ms": self.duration_ms,
        }


def event_time(event: dict[str, Any]) -> datetime:
    """The scheduled event's ``time`` (ISO 8601, UTC 'Z'); refusing to guess keeps reruns deterministic."""
    raw = event.get("time")
    if not isinstance(raw, str) or not raw:
        raise ValueError("scheduled event has no 'time'")
    instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError("scheduled event 'time' has no timezone")
    return instant.astimezone(UTC)


def _static_parameters(settings: Settings) -> dict[str, Any]:
    return {
        **texts.SQL_TEXT_PARAMS,
        "active": PlanStatus.ACTIVE.value,
        "coordinator": Role.COORDINATOR.value,
        "active_user": UserStatus.ACTIVE.value,
        "high_plan": Priority.HIGH.value,
        "medium": NotificationPriority.MEDIUM.value,
        "high": NotificationPriority.HIGH.value,
        "urgent": NotificationPriority.URGENT.value,
        "due_soon_type": NotificationType.REVIEW_DUE_SOON.value,
        "overdue_type": NotificationType.REVIEW_OVERDUE.value,
        "due_soon_title": texts.REVIEW_DUE_SOON.title,
        "due_soon_message": texts.REVIEW_DUE_SOON.message,
        "overdue_title": texts.REVIEW_OVERDUE.title,
        "overdue_message": texts.REVIEW_OVERDUE.message,
        "escalated_title": texts.REVIEW_ESCALATED.title,
        "escalated_message": texts.REVIEW_ESCALATED.message,
        "due_soon_expiry_days": texts.EXPIRES_AFTER_DAYS[NotificationType.REVIEW_DUE_SOON],
        "overdue_expiry_days": texts.EXPIRES_AFTER_DAYS[NotificationType.REVIEW_OVERDUE],
        "due_soon_days": settings.review_due_soon_days,
        "urgent_after_days": OVERDUE_URGENT_AFTER_DAYS,
        "escalate_after_days": settings.escalate_after_days,
        "plans_scanned": PLANS_SCANNED,
        "already_expired": ALREADY_EXPIRED,
    }


def remind_organization(
    engine: Engine, organization_id: uuid.UUID, today: date, now: datetime, settings: Settings
) -> Counter[str]:
    """Reminders of one organization for its local ``today``: counts of plans scanned and rows created."""
    batch_size = settings.daily_job_plan_batch_size
    parameters = {
        **_static_parameters(settings),
        "organization_id": organization_id,
        "today": today,
        "now": now,
        "batch_size": batch_size,
    }
    counts: Counter[str] = Counter()
    after_plan_id: uuid.UUID | None = None
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                text(_REMINDERS_SQL), {**parameters, "after_plan_id": after_plan_id}
            ).all()
        scanned = 0
        for counter, amount, last_plan_id in rows:
            counts[str(counter)] += int(amount)
            if counter == PLANS_SCANNED:
                scanned, after_plan_id = int(amount), last_plan_id
        if scanned < batch_size:
            return counts


def _delete_in_batches(engine: Engine, condition: str, parameters: dict[str, Any], batch_size: int) -> int:
    """One short transaction per batch, so a timeout or crash keeps what was done and the next run resumes."""
    statement = text(_DELETE_BATCH_SQL.format(condition=condition))
    deleted = 0
    while True:
        with engine.begin() as connection:
            count = connection.execute(statement, {**parameters, "batch_size": batch_size}).rowcount
        deleted += count
        if count < batch_size:
            return deleted


def cleanup(engine: Engine, now: datetime, settings: Settings) -> int:
    """Delete expired notifications, and read ones older than the retention period; unread unexpired stay."""
    batch_size = settings.notification_cleanup_batch_size
    read_before = now - timedelta(days=settings.notification_retention_days)
    return _delete_in_batches(engine, _EXPIRED, {"now": now}, batch_size) + _delete_in_batches(
        engine, _READ_AND_OLD, {"read_before": read_before}, batch_size
    )


def run_daily_job(
    engine: Engine, now: datetime, settings: Settings, timer: Callable[[], float] = time.perf_counter
) -> DailyJobSummary:
    started = timer()
    summary = DailyJobSummary()
    with engine.connect() as connection:
        organizations = connection.execute(text("SELECT id, timezone FROM organizations ORDER BY id")).all()
    for organization_id, timezone in organizations:
        counts = remind_organization(engine, organization_id, local_today(now, timezone), now, settings)
        summary.organizations += 1
        summary.plans_scanned += counts.pop(PLANS_SCANNED, 0)
        summary.already_expired += counts.pop(ALREADY_EXPIRED, 0)
        for notification_type, created in counts.items():
            summary.created_by_type[notification_type] += created
    summary.deleted = cleanup(engine, now, settings)
    summary.duration_ms = round((timer() - started) * 1000)
    return summary


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
