"""Database access for students, always within the caller's scope.

Every lookup by id filters by the caller's organization (and, for professionals, their caseload), so an
id outside the scope is indistinguishable from a missing one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from eduautismo.db.lookup import one_in_scope
from eduautismo.db.models import (
    ExportJob,
    InterventionPlan,
    Notification,
    PlanReview,
    Student,
    StudentErasure,
)
from eduautismo.domain import ExportStatus
from eduautismo.identity.principal import Principal


def student_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """A coordinator sees every student of the organization; a professional the students of their plans."""
    conditions = [Student.organization_id == principal.organization_id]
    if not principal.is_coordinator:
        conditions.append(
            exists().where(
                InterventionPlan.student_id == Student.id,
                InterventionPlan.professional_id == principal.user_id,
            )
        )
    return conditions


def find_student(
    session: Session, principal: Principal, student_id: uuid.UUID, *, for_update: bool = False
) -> Student | None:
    conditions = [Student.id == student_id, *student_scope(principal)]
    return one_in_scope(session, Student, conditions, for_update=for_update)


def list_students(session: Session, principal: Principal, skip: int, limit: int) -> tuple[list[Student], int]:
    scope = student_scope(principal)
    rows = session.scalars(
        select(Student).where(*scope).order_by(Student.full_name, Student.id).offset(skip).limit(limit)
    ).all()
    total = session.scalar(select(func.count()).select_from(Student).where(*scope)) or 0
    return list(rows), int(total)


def student_plans(
    session: Session, student_id: uuid.UUID, *, for_update: bool = False
) -> list[InterventionPlan]:
    statement = (
        select(InterventionPlan)
        .where(InterventionPlan.student_id == student_id)
        .order_by(InterventionPlan.created_at, InterventionPlan.id)
    )
    if for_update:
        statement = statement.with_for_update()
    return list(session.scalars(statement))


def plan_reviews(session: Session, plan_ids: list[uuid.UUID]) -> list[PlanReview]:
    statement = select(PlanReview).where(PlanReview.plan_id.in_(plan_ids))
    return list(session.scalars(statement.order_by(PlanReview.reviewed_at, PlanReview.id)))


def plan_notifications(session: Session, plan_ids: list[uuid.UUID]) -> list[Notification]:
    statement = select(Notification).where(Notification.intervention_plan_id.in_(plan_ids))
    return list(session.scalars(statement.order_by(Notification.created_at, Notification.id)))


def student_filter_of(job: ExportJob) -> str | None:
    """The student id an export was restricted to, if any (pending-review exports and data exports
    both keep it under ``filters.filters.student_id``)."""
    filters: Any = job.filters.get("filters")
    return filters.get("student_id") if isinstance(filters, dict) else None


def _touching(student: Student) -> ColumnElement[bool]:
    """Export jobs of the student's organization that named the student, or that had no student filter
    and were made while the student existed (they may have held the student's rows). Decided on the
    recorded filters, never on the export's kind, so every kind (CSV, XLSX, JSON, reports, ...) is
    covered."""
    named = ExportJob.filters["filters"]["student_id"].astext
    return (ExportJob.organization_id == student.organization_id) & or_(
        named == str(student.id),
        named.is_(None) & (ExportJob.created_at >= student.created_at),
    )


def exports_touching(session: Session, student: Student) -> list[ExportJob]:
    return list(
        session.scalars(
            select(ExportJob).where(_touching(student)).order_by(ExportJob.created_at, ExportJob.id)
        )
    )


def expire_exports_touching(session: Session, student: Student, now: datetime) -> list[str]:
    """Mark expired every running or succeeded export that may hold the student's data, and answer the
    keys of their stored files (a running one may be reading the student right now: its writer finds it
    expired when it finishes and deletes its own file)."""
    keys = session.scalars(
        update(ExportJob)
        .where(
            _touching(student),
            ExportJob.status.in_((ExportStatus.RUNNING.value, ExportStatus.SUCCEEDED.value)),
        )
        # A finished job keeps its completion time (the audit trail); an unfinished one ends now.
        .values(status=ExportStatus.EXPIRED.value, completed_at=func.coalesce(ExportJob.completed_at, now))
        .returning(ExportJob.s3_key)
    ).all()
    return [key for key in keys if key]


def erase_student(
    session: Session, student: Student, erased_by_id: uuid.UUID, now: datetime
) -> StudentErasure:
    """Delete the student, their plans, the plans' reviews and notifications; record the erasure. The
    caller holds the student's row lock; the plans are locked here so nothing is added to them meanwhile."""
    plan_ids = [plan.id for plan in student_plans(session, student.id, for_update=True)]
    notifications = session.scalars(
        delete(Notification).where(Notification.intervention_plan_id.in_(plan_ids)).returning(Notification.id)
    ).all()
    reviews = session.scalars(
        delete(PlanReview).where(PlanReview.plan_id.in_(plan_ids)).returning(PlanReview.id)
    ).all()
    session.execute(delete(InterventionPlan).where(InterventionPlan.id.in_(plan_ids)))
    session.execute(delete(Student).where(Student.id == student.id))
    erasure = StudentErasure(
        organization_id=student.organization_id,
        student_id=student.id,
        erased_by_id=erased_by_id,
        erased_at=now,
        plans_deleted=len(plan_ids),
        reviews_deleted=len(reviews),
        notifications_deleted=len(notifications),
    )
    session.add(erasure)
    session.flush()
    return erasure
