"""The daily job: bounded review reminders, the coordinators' escalation summary, and cleanup (README
"Reminders").

"Now" is the scheduled event's time, never the wall clock, so a retried or replayed event computes the same
reminders. Per organization (in its own timezone) one statement writes the day's summaries: a user with
more than REMINDER_DIGEST_THRESHOLD reminders of a type gets one summary row of it, each coordinator one
escalation row. Then set-based INSERT ... SELECT statements, each over a bounded batch of plans in id order
and in its own transaction, write the individual reminders of everyone else. The urgency, text, dedupe-key,
expiry and muting rules come from the notifications feature. The unique (user_id, dedupe_key) with ON
CONFLICT DO NOTHING makes reruns, duplicate deliveries and concurrent runs create nothing twice, and a run
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
from sqlalchemy import Connection, Engine, text

from eduautismo.clock import local_today
from eduautismo.domain import NotificationPriority, NotificationType, PlanStatus, Role
from eduautismo.notifications import repository, rules, texts
from eduautismo.observability import logger, metrics
from eduautismo.settings import Settings

REMINDER_TYPES = (NotificationType.REVIEW_DUE_SOON, NotificationType.REVIEW_OVERDUE)
PLANS_SCANNED = "plans_scanned"
SUMMARISED = "summarised"
ALREADY_EXPIRED = "already_expired"


def _rendered(template: str) -> str:
    return texts.sql_render(
        template, plan_title="c.plan_title", days="c.days_overdue", due_date="c.next_review_due"
    )


def _summary(template: str) -> str:
    return texts.sql_render_summary(
        template,
        plans="r.plans",
        days="CAST(:escalate_after_days AS integer)",
        professionals="coalesce(r.names, '')",
    )


# The organization's plans due soon or overdue at its local ``today``, and the type of reminder each gets.
_DUE = """
due AS MATERIALIZED (
    SELECT p.id AS plan_id, p.professional_id, p.title AS plan_title, p.priority AS plan_priority,
           p.next_review_due, CAST(:today AS date) - p.next_review_due AS days_overdue,
           CASE WHEN p.next_review_due < CAST(:today AS date) THEN CAST(:overdue_type AS text)
                ELSE CAST(:due_soon_type AS text) END AS type
    FROM intervention_plans p
    WHERE p.organization_id = :organization_id
      AND p.status = :active
      AND p.next_review_due <= CAST(:today AS date) + CAST(:due_soon_days AS integer)
      {batch}
)"""

# Rows are inserted once (the unique (user_id, dedupe_key) with ON CONFLICT DO NOTHING settles a race
# with a concurrent run) and only for users who have not muted the type; existing ones are skipped before
# their text is built (a rerun costs index probes only). Ordered by the unique key so that concurrent runs
# take row locks in the same order (no deadlock).
_INSERT = f"""
inserted AS (
    INSERT INTO notifications (
        id, organization_id, user_id, type, priority, title, message, intervention_plan_id,
        action_url, dedupe_key, is_read, created_at, expires_at
    )
    SELECT gen_random_uuid(), :organization_id, r.user_id, r.type, r.priority, r.title, r.message,
           r.plan_id, r.action_url, r.dedupe_key, false, :now,
           CAST(:now AS timestamptz) + make_interval(days => CASE WHEN r.type = :due_soon_type
               THEN CAST(:due_soon_expiry_days AS integer) ELSE CAST(:overdue_expiry_days AS integer) END)
    FROM outgoing r
    WHERE {repository.sql_may_notify("r.user_id", "r.type")}
      AND NOT EXISTS (
        SELECT 1 FROM notifications n WHERE n.user_id = r.user_id AND n.dedupe_key = r.dedupe_key
      )
    ORDER BY r.user_id, r.dedupe_key
    ON CONFLICT (user_id, dedupe_key) DO NOTHING
    RETURNING type, expires_at
)"""  # noqa: S608

# Once per organization and run: one summary per (user, type) above the threshold, and the coordinators'
# escalation summary (plans overdue >= ESCALATE_AFTER_DAYS and the three professionals with most of them).
# Answers every (user, type) pair summarised (created now or earlier today): their plans get no individual
# row in the batches that follow.
_SUMMARIES_SQL = f"""
WITH {_DUE.format(batch="")},
over AS (
    SELECT d.professional_id AS user_id, d.type, count(*) AS plans,
           bool_or({rules.sql_overdue_priority("d.days_overdue", "d.plan_priority")} = :rule_urgent
                   AND d.type = :overdue_type) AS any_urgent
    FROM due d GROUP BY d.professional_id, d.type HAVING count(*) > CAST(:threshold AS integer)
),
escalated AS (
    SELECT d.professional_id, count(*) AS plans
    FROM due d WHERE d.days_overdue >= CAST(:escalate_after_days AS integer) GROUP BY d.professional_id
),
top AS (
    SELECT u.name, u.id, e.plans FROM escalated e JOIN users u ON u.id = e.professional_id
    ORDER BY e.plans DESC, u.name, u.id LIMIT 3
),
escalation AS (
    SELECT (SELECT sum(plans) FROM escalated) AS plans,
           (SELECT string_agg(t.name || ' (' || t.plans || ')', ', ' ORDER BY t.plans DESC, t.name, t.id)
            FROM top t) AS names
),
summaries AS (
    SELECT o.user_id, o.type, o.plans, CAST(NULL AS text) AS names, CAST(NULL AS uuid) AS plan_id,
           CASE WHEN o.type = :due_soon_type THEN CAST(:medium AS text)
                WHEN o.any_urgent THEN CAST(:urgent AS text) ELSE CAST(:high AS text) END AS priority,
           CASE WHEN o.type = :due_soon_type THEN CAST(:due_soon_summary_title AS text)
                ELSE CAST(:overdue_summary_title AS text) END AS title_template,
           CASE WHEN o.type = :due_soon_type THEN CAST(:due_soon_summary_message AS text)
                ELSE CAST(:overdue_summary_message AS text) END AS message_template,
           CASE WHEN o.type = :due_soon_type THEN CAST(:due_soon_summary_url AS text)
                ELSE CAST(:overdue_summary_url AS text) END AS action_url,
           CASE WHEN o.type = :due_soon_type THEN CAST(:due_soon_summary_key AS text)
                ELSE CAST(:overdue_summary_key AS text) END AS dedupe_key
    FROM over o
    UNION ALL
    SELECT c.id, :overdue_type, e.plans, e.names, NULL, :urgent, :escalation_title, :escalation_message,
           :overdue_summary_url, :escalation_key
    FROM users c CROSS JOIN escalation e
    WHERE c.organization_id = :organization_id AND c.role = :coordinator AND e.plans > 0
),
outgoing AS (
    SELECT r.user_id, r.type, r.priority, {_summary("r.title_template")} AS title,
           {_summary("r.message_template")} AS message, r.plan_id, r.action_url, r.dedupe_key
    FROM summaries r
),
{_INSERT.strip()}
SELECT CAST(:summarised AS text) AS counter, CAST(o.user_id AS text) AS detail, o.type AS type FROM over o
UNION ALL
SELECT type, NULL, type FROM inserted
UNION ALL
SELECT CAST(:already_expired AS text), NULL, NULL FROM inserted WHERE expires_at <= statement_timestamp()
"""  # noqa: S608

# Individual reminders of a bounded batch of plans (id order), skipping the users summarised for the type.
_REMINDERS_SQL = f"""
WITH {
    _DUE.format(
        batch='''AND (CAST(:after_plan_id AS uuid) IS NULL OR p.id > CAST(:after_plan_id AS uuid))
    ORDER BY p.id
    LIMIT :batch_size'''
    )
},
candidates AS (
    SELECT d.*, d.professional_id AS user_id,
           CASE WHEN d.type = :due_soon_type THEN CAST(:medium AS text)
                ELSE {rules.sql_overdue_priority("d.days_overdue", "d.plan_priority")} END AS priority,
           CASE WHEN d.type = :due_soon_type THEN CAST(:due_soon_title AS text)
                ELSE CAST(:overdue_title AS text) END AS title_template,
           CASE WHEN d.type = :due_soon_type THEN CAST(:due_soon_message AS text)
                ELSE CAST(:overdue_message AS text) END AS message_template
    FROM due d
    WHERE NOT (d.type = :due_soon_type AND d.professional_id = ANY(CAST(:summarised_due_soon AS uuid[])))
      AND NOT (d.type = :overdue_type AND d.professional_id = ANY(CAST(:summarised_overdue AS uuid[])))
),
outgoing AS (
    SELECT c.user_id, c.type, c.priority, {_rendered("c.title_template")} AS title,
           {_rendered("c.message_template")} AS message, c.plan_id,
           CAST(:action_url_prefix AS text) || CAST(c.plan_id AS text) AS action_url,
           {texts.sql_dedupe_key("c.type", "c.plan_id", "c.next_review_due")} AS dedupe_key
    FROM candidates c
),
{_INSERT.strip()}
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
        **rules.SQL_RULE_PARAMS,
        "active": PlanStatus.ACTIVE.value,
        "coordinator": Role.COORDINATOR.value,
        "medium": NotificationPriority.MEDIUM.value,
        "high": NotificationPriority.HIGH.value,
        "urgent": NotificationPriority.URGENT.value,
        "due_soon_type": NotificationType.REVIEW_DUE_SOON.value,
        "overdue_type": NotificationType.REVIEW_OVERDUE.value,
        "due_soon_title": texts.REVIEW_DUE_SOON.title,
        "due_soon_message": texts.REVIEW_DUE_SOON.message,
        "overdue_title": texts.REVIEW_OVERDUE.title,
        "overdue_message": texts.REVIEW_OVERDUE.message,
        "due_soon_summary_title": texts.REVIEW_DUE_SOON_SUMMARY.title,
        "due_soon_summary_message": texts.REVIEW_DUE_SOON_SUMMARY.message,
        "overdue_summary_title": texts.REVIEW_OVERDUE_SUMMARY.title,
        "overdue_summary_message": texts.REVIEW_OVERDUE_SUMMARY.message,
        "escalation_title": texts.REVIEW_ESCALATION_SUMMARY.title,
        "escalation_message": texts.REVIEW_ESCALATION_SUMMARY.message,
        "due_soon_summary_url": rules.SUMMARY_ACTION_URL[NotificationType.REVIEW_DUE_SOON],
        "overdue_summary_url": rules.SUMMARY_ACTION_URL[NotificationType.REVIEW_OVERDUE],
        "due_soon_expiry_days": texts.EXPIRES_AFTER_DAYS[NotificationType.REVIEW_DUE_SOON],
        "overdue_expiry_days": texts.EXPIRES_AFTER_DAYS[NotificationType.REVIEW_OVERDUE],
        "due_soon_days": settings.review_due_soon_days,
        "escalate_after_days": settings.escalate_after_days,
        "threshold": settings.reminder_digest_threshold,
        "plans_scanned": PLANS_SCANNED,
        "summarised": SUMMARISED,
        "already_expired": ALREADY_EXPIRED,
    }


def _summarise(
    connection: Connection, parameters: dict[str, Any], counts: Counter[str]
) -> dict[str, list[str]]:
    """The summaries of one organization's day; answers, per type, the users summarised."""
    summarised: dict[str, list[str]] = {t.value: [] for t in REMINDER_TYPES}
    for counter, detail, notification_type in connection.execute(text(_SUMMARIES_SQL), parameters):
        if counter == SUMMARISED:
            summarised[notification_type].append(detail)
        elif counter == ALREADY_EXPIRED:
            counts[ALREADY_EXPIRED] += 1
        else:
            counts[notification_type] += 1
    return summarised


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
        "due_soon_summary_key": rules.summary_dedupe_key(NotificationType.REVIEW_DUE_SOON, today),
        "overdue_summary_key": rules.summary_dedupe_key(NotificationType.REVIEW_OVERDUE, today),
        "escalation_key": rules.escalation_dedupe_key(today),
    }
    counts: Counter[str] = Counter()
    with engine.begin() as connection:
        summarised = _summarise(connection, parameters, counts)
    parameters["summarised_due_soon"] = summarised[NotificationType.REVIEW_DUE_SOON.value]
    parameters["summarised_overdue"] = summarised[NotificationType.REVIEW_OVERDUE.value]
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
