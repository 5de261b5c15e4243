"""The digest feature's queries: who is due now (one set-based statement), what goes into a digest, the
delivery row that makes each digest go out once, suppressed addresses and unsubscribing."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo.db.models import (
    EmailDelivery,
    EmailSuppression,
    InterventionPlan,
    NotificationPreference,
    Organization,
    User,
)
from eduautismo.digests.schemas import DigestPlan, Escalation, Recipient
from eduautismo.domain import PlanStatus, Role, UserStatus
from eduautismo.users.schemas import EmailDigest, Preferences

DEFAULTS = Preferences()

# Active users (Cognito did not disable them) due at ``now``: digest on, at their hour in their
# organization's timezone (weekly: on their weekday too), address not suppressed, this period not
# delivered yet. ``:everyone`` drops the hour and weekday. The local time and the period names
# (daily:YYYY-MM-DD, weekly:IYYY-Www) are computed once per organization, not per user.
DUE_USERS_SQL = """
WITH local AS MATERIALIZED (
    SELECT o.id AS organization_id, CAST(extract(hour FROM t.at) AS integer) AS hour,
           CAST(extract(isodow FROM t.at) AS integer) AS weekday,
           'daily:' || to_char(t.at, 'YYYY-MM-DD') AS daily_period,
           'weekly:' || to_char(t.at, 'IYYY-"W"IW') AS weekly_period
    FROM organizations o
    CROSS JOIN LATERAL (SELECT CAST(:now AS timestamptz) AT TIME ZONE o.timezone AS at) AS t
),
chosen AS (
    SELECT u.id, u.email, l.hour AS local_hour, l.weekday AS local_weekday,
           coalesce(np.email_digest, CAST(:default_digest AS text)) AS digest,
           coalesce(np.digest_hour, CAST(:default_hour AS integer)) AS hour,
           coalesce(np.digest_weekday, CAST(:default_weekday AS integer)) AS weekday,
           CASE WHEN coalesce(np.email_digest, CAST(:default_digest AS text)) = :weekly
                THEN l.weekly_period ELSE l.daily_period END AS period
    FROM users u
    JOIN local l ON l.organization_id = u.organization_id
    LEFT JOIN notification_preferences np ON np.user_id = u.id
    WHERE u.status = :active_user
)
SELECT c.id, c.period
FROM chosen c
WHERE c.digest <> :off
  AND (CAST(:everyone AS boolean)
       OR (c.hour = c.local_hour AND (c.digest = :daily OR c.weekday = c.local_weekday)))
  AND NOT EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower(c.email))
  AND NOT EXISTS (SELECT 1 FROM email_deliveries d WHERE d.user_id = c.id AND d.period = c.period)
"""


def due_parameters(now: datetime, everyone: bool) -> dict[str, object]:
    return {
        "now": now,
        "everyone": everyone,
        "active_user": UserStatus.ACTIVE.value,
        "off": EmailDigest.OFF.value,
        "daily": EmailDigest.DAILY.value,
        "weekly": EmailDigest.WEEKLY.value,
        "default_digest": DEFAULTS.email_digest.value,
        "default_hour": DEFAULTS.digest_hour,
        "default_weekday": DEFAULTS.digest_weekday,
    }


def due_users(connection: Connection, now: datetime, everyone: bool) -> list[tuple[uuid.UUID, str]]:
    rows = connection.execute(text(DUE_USERS_SQL), due_parameters(now, everyone)).all()
    return [(row[0], str(row[1])) for row in rows]


def recipient(session: Session, user_id: uuid.UUID) -> Recipient | None:
    """The user to mail, if they still want the digest: not turned off nor suppressed since selected."""
    suppressed = (
        select(EmailSuppression.email).where(EmailSuppression.email == func.lower(User.email)).exists()
    )
    row = session.execute(
        select(User.id, User.organization_id, User.email, User.name, User.role, Organization.timezone)
        .join(Organization, Organization.id == User.organization_id)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(
            User.id == user_id,
            User.status == UserStatus.ACTIVE.value,
            func.coalesce(NotificationPreference.email_digest, DEFAULTS.email_digest.value)
            != EmailDigest.OFF.value,
            ~suppressed,
        )
    ).one_or_none()
    if row is None:
        return None
    is_coordinator = row.role == Role.COORDINATOR.value
    return Recipient(row.id, row.organization_id, row.email, row.name, is_coordinator, row.timezone)


def own_plans(
    session: Session, user_id: uuid.UUID, today: date, due_soon_days: int, limit: int
) -> tuple[list[DigestPlan], list[DigestPlan], int, int]:
    """The user's overdue and due-soon plans (at most ``limit`` of each, most urgent first) and the totals,
    in one statement (a window per kind)."""
    plan = InterventionPlan
    horizon = date.fromordinal(today.toordinal() + due_soon_days)
    overdue = plan.next_review_due < today
    ranked = (
        select(
            plan.id,
            plan.title,
            plan.next_review_due,
            overdue.label("overdue"),
            func.row_number()
            .over(partition_by=overdue, order_by=(plan.next_review_due, plan.priority_rank, plan.id))
            .label("rank"),
            func.count().over(partition_by=overdue).label("total"),
        )
        .where(
            plan.professional_id == user_id,
            plan.status == PlanStatus.ACTIVE.value,
            plan.next_review_due <= horizon,
        )
        .subquery()
    )
    rows = session.execute(select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.rank)).all()
    listed: dict[bool, list[DigestPlan]] = {True: [], False: []}
    totals = {True: 0, False: 0}
    for row in rows:
        days = max(0, (today - row.next_review_due).days)
        listed[row.overdue].append(DigestPlan(row.id, row.title, row.next_review_due, days))
        totals[row.overdue] = int(row.total)
    return listed[True], listed[False], totals[True], totals[False]


def escalations(
    session: Session, organization_id: uuid.UUID, today: date, escalate_after_days: int, limit: int
) -> list[Escalation]:
    """Per professional, the organization's plans overdue ESCALATE_AFTER_DAYS days or more; most first."""
    plan = InterventionPlan
    latest_due = date.fromordinal(today.toordinal() - escalate_after_days)
    plans = func.count().label("plans")
    rows = session.execute(
        select(User.name, plans)
        .select_from(plan)
        .join(User, User.id == plan.professional_id)
        .where(
            plan.organization_id == organization_id,
            plan.status == PlanStatus.ACTIVE.value,
            plan.next_review_due <= latest_due,
        )
        .group_by(User.id, User.name)
        .order_by(plans.desc(), User.name, User.id)
        .limit(limit)
    ).all()
    return [Escalation(row.name, int(row.plans)) for row in rows]


def claim_delivery(session: Session, user_id: uuid.UUID, period: str, now: datetime) -> bool:
    """Take this user's digest of ``period`` for sending, in the caller's transaction: True when it is not
    sent yet and no concurrent worker holds it. A concurrent insert of the same row waits for the other
    transaction and then finds it (sent, or held)."""
    inserted = session.scalar(
        insert(EmailDelivery)
        .values(id=uuid.uuid4(), user_id=user_id, period=period, status="pending", created_at=now)
        .on_conflict_do_nothing(index_elements=[EmailDelivery.user_id, EmailDelivery.period])
        .returning(EmailDelivery.id)
    )
    if inserted is not None:  # ours, and locked by the insert until the commit
        return True
    claimed = session.scalar(
        select(EmailDelivery.id)
        .where(
            EmailDelivery.user_id == user_id,
            EmailDelivery.period == period,
            EmailDelivery.status == "pending",
        )
        .with_for_update(skip_locked=True)
    )
    return claimed is not None


def finish_delivery(
    session: Session, user_id: uuid.UUID, period: str, status: str, now: datetime, message_id: str | None
) -> None:
    session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.user_id == user_id, EmailDelivery.period == period)
        .values(status=status, sent_at=now, message_id=message_id)
    )


def suppress(session: Session, email: str, reason: str, now: datetime) -> None:
    session.execute(
        insert(EmailSuppression)
        .values(email=email.lower(), reason=reason, created_at=now)
        .on_conflict_do_nothing(index_elements=[EmailSuppression.email])
    )


def turn_digest_off(session: Session, user_id: uuid.UUID) -> bool:
    """Set the user's email digest off (their other preferences kept); False when the user is gone."""
    if session.get(User, user_id) is None:
        return False
    values = {
        "user_id": user_id,
        "email_digest": EmailDigest.OFF.value,
        "digest_hour": DEFAULTS.digest_hour,
        "digest_weekday": DEFAULTS.digest_weekday,
        "muted_types": [],
    }
    statement = insert(NotificationPreference).values(values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[NotificationPreference.user_id],
            set_={"email_digest": EmailDigest.OFF.value, "updated_at": func.now()},
        )
    )
    return True
