"""SQLAlchemy 2 typed ORM for every table (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eduautismo.domain import (
    DEFAULT_TIMEZONE,
    ExportFormat,
    ExportStatus,
    NotificationPriority,
    NotificationType,
    PlanStatus,
    Priority,
    ReviewFrequency,
    Role,
    UserStatus,
)


def _one_of(column: str, values: type[Any]) -> CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class Base(DeclarativeBase):
    pass


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), server_default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        _one_of("role", Role),
        _one_of("status", UserStatus),
        Index("ix_users_organization_role", "organization_id", "role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # Kept by Cognito's events (identity/cognito_events.py): a disabled user is refused, notified of nothing.
    status: Mapped[str] = mapped_column(String(20), server_default=UserStatus.ACTIVE.value)
    # When the last Cognito event applied to the role / the status happened: an older event delivered late
    # changes nothing, and a token issued before role_event_at no longer sets the role.
    role_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Student(Base):
    __tablename__ = "students"
    __table_args__ = (Index("ix_students_organization_created", "organization_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InterventionPlan(Base):
    __tablename__ = "intervention_plans"
    __table_args__ = (
        _one_of("status", PlanStatus),
        _one_of("priority", Priority),
        _one_of("review_frequency", ReviewFrequency),
        # Pending-review list: filter by org/status/due date, read in the contract's order.
        Index(
            "ix_plans_pending_order",
            "organization_id",
            "status",
            "priority_rank",
            "next_review_due",
            "id",
        ),
        Index(
            "ix_plans_professional_pending",
            "professional_id",
            "status",
            "priority_rank",
            "next_review_due",
            "id",
        ),
        Index("ix_plans_status_due", "status", "next_review_due"),
        Index("ix_plans_student", "student_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    student_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    professional_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(20), server_default=PlanStatus.ACTIVE.value)
    priority: Mapped[str] = mapped_column(String(10), server_default=Priority.MEDIUM.value)
    priority_rank: Mapped[int] = mapped_column(
        SmallInteger,
        Computed("CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END", persisted=True),
    )
    review_frequency: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_review_due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class PlanReview(Base):
    __tablename__ = "plan_reviews"
    __table_args__ = (Index("ix_plan_reviews_plan_reviewed", "plan_id", "reviewed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("intervention_plans.id", ondelete="CASCADE"))
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        _one_of("type", NotificationType),
        _one_of("priority", NotificationPriority),
        UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_user_dedupe"),
        # The badge counts (unread, unseen) and the unread list: index-only over the unread inbox rows.
        Index(
            "ix_notifications_inbox_unread",
            "user_id",
            "created_at",
            postgresql_include=["expires_at", "seen_at"],
            postgresql_where=text("NOT is_read AND archived_at IS NULL"),
        ),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_expires", "expires_at"),
        Index("ix_notifications_read_at", "read_at", postgresql_where=text("is_read")),
        Index("ix_notifications_plan", "intervention_plan_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(50))
    priority: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    intervention_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("intervention_plans.id", ondelete="CASCADE")
    )
    is_read: Mapped[bool] = mapped_column(server_default=text("false"))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    action_url: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Read implies seen: a row read before seen_at existed (or written read) counts as seen at read_at.
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def first_seen_at(self) -> datetime | None:
        return self.seen_at or self.read_at

    @property
    def is_seen(self) -> bool:
        return self.is_read or self.seen_at is not None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class NotificationInbox(Base):
    """One row per user, maintained by triggers on ``notifications`` (migration 0002): ``version`` rises in
    the transaction of every change to the user's notifications; no ``next_expiry`` between
    ``expiry_checked_at`` and itself. Together they identify what the user's inbox shows (the ETags)."""

    __tablename__ = "notification_inboxes"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    expiry_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_expiry: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationPreference(Base):
    """A user's reminder choices (README "Reminders"); a user without a row has the defaults."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("email_digest IN ('off', 'daily', 'weekly')", name="email_digest_allowed"),
        CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour_range"),
        CheckConstraint("digest_weekday BETWEEN 1 AND 7", name="digest_weekday_range"),
        CheckConstraint("NOT ('system' = ANY(muted_types))", name="system_not_muted"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email_digest: Mapped[str] = mapped_column(String(10))
    digest_hour: Mapped[int] = mapped_column(SmallInteger)
    digest_weekday: Mapped[int] = mapped_column(SmallInteger)
    muted_types: Mapped[list[str]] = mapped_column(ARRAY(Text))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EmailDelivery(Base):
    """One row per user and digest period (unique): duplicate deliveries and concurrent workers send once."""

    __tablename__ = "email_deliveries"
    __table_args__ = (UniqueConstraint("user_id", "period", name="uq_email_deliveries_user_period"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailSuppression(Base):
    """Addresses SES reported as bounced or complaining: no digest is sent to them again."""

    __tablename__ = "email_suppressions"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        _one_of("format", ExportFormat),
        _one_of("status", ExportStatus),
        Index("ix_export_jobs_user_created", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), server_default=ExportStatus.PENDING.value)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    s3_key: Mapped[str | None] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(100))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StudentErasure(Base):
    """What remains of an erased student (LGPD Art. 18, VI): who erased which student id, when, and how
    many rows of each kind went with it. No name, no birth date, no plan text."""

    __tablename__ = "student_erasures"
    __table_args__ = (Index("ix_student_erasures_organization_erased", "organization_id", "erased_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # No foreign key: the student row is gone; the id is the subject's reference in the trail.
    student_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    erased_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    plans_deleted: Mapped[int] = mapped_column(BigInteger)
    reviews_deleted: Mapped[int] = mapped_column(BigInteger)
    notifications_deleted: Mapped[int] = mapped_column(BigInteger)
