"""Every statement of the daily job. The service passes a session per short transaction; no plan is loaded
into Python.

Per organization (in its own timezone) one statement writes the day's summaries: a user with more than
REMINDER_DIGEST_THRESHOLD reminders of a type gets one summary row of it, each coordinator one escalation
row. Then set-based INSERT ... SELECT statements, each over a bounded batch of plans in id order, write the
individual reminders of everyone else. The urgency, text, dedupe-key, expiry and muting rules come from the
notifications feature. The unique (user_id, dedupe_key) with ON CONFLICT DO NOTHING makes reruns, duplicate
deliveries and concurrent runs create nothing twice, and a run that dies midway is completed by the next one.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from eduautismo.domain import NotificationPriority, NotificationType, PlanStatus, Role
from eduautismo.jobs.schemas import (
    ALREADY_EXPIRED,
    PLANS_SCANNED,
    REMINDER_TYPES,
    SUMMARISED,
    OrganizationDay,
)
from eduautismo.notifications import repository, rules, texts
from eduautismo.settings import Settings

_ORGANIZATIONS_SQL = "SELECT id, timezone FROM organizations ORDER BY id"


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


def organizations(session: Session) -> Sequence[Row[uuid.UUID, str]]:
    """Every organization's (id, timezone), in id order."""
    return session.connection().execute(text(_ORGANIZATIONS_SQL)).all()


def reminder_parameters(settings: Settings, day: OrganizationDay, now: datetime) -> dict[str, Any]:
    """The binds of one organization's summary and reminder statements."""
    return {
        **_static_parameters(settings),
        "organization_id": day.organization_id,
        "today": day.today,
        "now": now,
        "batch_size": settings.daily_job_plan_batch_size,
        "due_soon_summary_key": rules.summary_dedupe_key(NotificationType.REVIEW_DUE_SOON, day.today),
        "overdue_summary_key": rules.summary_dedupe_key(NotificationType.REVIEW_OVERDUE, day.today),
        "escalation_key": rules.escalation_dedupe_key(day.today),
    }


def write_summaries(
    session: Session, parameters: dict[str, Any]
) -> tuple[Counter[str], dict[str, list[str]]]:
    """Writes the summaries of one organization's day. Answers the rows created (by type, and
    ALREADY_EXPIRED) and, per type, the users summarised (now or earlier that day)."""
    counts: Counter[str] = Counter()
    summarised: dict[str, list[str]] = {t.value: [] for t in REMINDER_TYPES}
    for counter, detail, notification_type in session.connection().execute(text(_SUMMARIES_SQL), parameters):
        if counter == SUMMARISED:
            summarised[notification_type].append(detail)
        elif counter == ALREADY_EXPIRED:
            counts[ALREADY_EXPIRED] += 1
        else:
            counts[notification_type] += 1
    return counts, summarised


def remind_batch(
    session: Session, parameters: dict[str, Any], after_plan_id: uuid.UUID | None
) -> Sequence[Row[str, int, uuid.UUID | None]]:
    """The individual reminders of the next batch of plans after ``after_plan_id``: rows of (counter,
    amount, last plan id of the batch on the PLANS_SCANNED row)."""
    binds = {**parameters, "after_plan_id": after_plan_id}
    return session.connection().execute(text(_REMINDERS_SQL), binds).all()


def _delete_batch(session: Session, condition: str, parameters: dict[str, Any], batch_size: int) -> int:
    statement = text(_DELETE_BATCH_SQL.format(condition=condition))
    return session.connection().execute(statement, {**parameters, "batch_size": batch_size}).rowcount


def delete_expired(session: Session, now: datetime, batch_size: int) -> int:
    """Up to ``batch_size`` notifications expired at ``now``; answers how many were deleted."""
    return _delete_batch(session, _EXPIRED, {"now": now}, batch_size)


def delete_read_before(session: Session, read_before: datetime, batch_size: int) -> int:
    """Up to ``batch_size`` read notifications read before ``read_before``; answers how many were deleted."""
    return _delete_batch(session, _READ_AND_OLD, {"read_before": read_before}, batch_size)
