"""Use cases of the students API: create, read, correct, export (LGPD access/portability) and erase.

Each use case is ``verb(ctx, request)`` in its own unit of work (docs/ARCHITECTURE.md). A change that
shows in pending-review pages (a corrected name, an erased student) bumps the organization's cache
generation only after that unit of work has committed, so a reader can never cache a page built before
the change under the new generation.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from eduautismo.api.contract import Page, PageQuery
from eduautismo.clock import local_today
from eduautismo.context import Context
from eduautismo.db.models import ExportJob, Student
from eduautismo.domain import ExportFormat
from eduautismo.errors import Forbidden, found
from eduautismo.exports import delivery
from eduautismo.exports.schemas import ExportLink
from eduautismo.identity.principal import Principal
from eduautismo.observability import logger
from eduautismo.organizations import service as organizations
from eduautismo.plans.schemas import PlanOut, ReviewRecord
from eduautismo.plans.service import invalidate_pending_review
from eduautismo.students import repository
from eduautismo.students.schemas import (
    ExportJobRecord,
    NotificationRecord,
    PlanRecord,
    StudentCreate,
    StudentDataDocument,
    StudentOut,
    StudentUpdate,
)

DATA_EXPORT_KIND = "student_data"


def _require_coordinator(principal: Principal, action: str) -> None:
    if not principal.is_coordinator:
        raise Forbidden(f"only coordinators {action}")


def _scoped_student(
    session: Session, principal: Principal, student_id: uuid.UUID, *, for_update: bool = False
) -> Student:
    return found(repository.find_student(session, principal, student_id, for_update=for_update), "student")


def create_student(ctx: Context, body: StudentCreate) -> StudentOut:
    principal = ctx.caller
    _require_coordinator(principal, "create students")
    with ctx.uow() as session:
        student = Student(
            organization_id=principal.organization_id, full_name=body.full_name, birth_date=body.birth_date
        )
        session.add(student)
        session.flush()
        session.refresh(student)
        return StudentOut.model_validate(student)


def get_student(ctx: Context, student_id: uuid.UUID) -> StudentOut:
    with ctx.uow() as session:
        return StudentOut.model_validate(_scoped_student(session, ctx.caller, student_id))


def list_students(ctx: Context, query: PageQuery) -> Page[StudentOut]:
    with ctx.uow() as session:
        students, total = repository.list_students(session, ctx.caller, query.skip, query.limit)
        items = [StudentOut.model_validate(student) for student in students]
    return Page[StudentOut].of(items, total, query.skip, query.limit)


def update_student(ctx: Context, student_id: uuid.UUID, body: StudentUpdate) -> StudentOut:
    """LGPD correction: pages naming the student (include_student) must not keep the old name."""
    principal = ctx.caller
    _require_coordinator(principal, "correct a student's record")
    with ctx.uow() as session:
        # No row lock: the UPDATE names only the columns sent, so concurrent corrections of different
        # fields both stand, and plan writes (which key-share-lock the student) are never blocked.
        student = _scoped_student(session, principal, student_id)
        for name, value in body.changes().items():
            setattr(student, name, value)
        session.flush()
        updated = StudentOut.model_validate(student)
    invalidate_pending_review(ctx, principal.organization_id)
    return updated


def erase_student(ctx: Context, student_id: uuid.UUID) -> None:
    """LGPD deletion in one transaction; an audit row without personal data remains. The files of every
    export that may hold the student are deleted before it commits (their jobs marked expired): S3 not
    answering fails the erasure (503, nothing erased) rather than leave a file behind."""
    principal = ctx.caller
    _require_coordinator(principal, "erase a student")
    with ctx.uow() as session:
        student = _scoped_student(session, principal, student_id, for_update=True)
        now = ctx.clock.now()
        expired_files = repository.expire_exports_touching(session, student, now)
        erasure = repository.erase_student(session, student, principal.user_id, now)
        ctx.storage.delete(expired_files)
        counts = {
            "plans_deleted": erasure.plans_deleted,
            "reviews_deleted": erasure.reviews_deleted,
            "notifications_deleted": erasure.notifications_deleted,
            "export_files_deleted": len(expired_files),
        }
    invalidate_pending_review(ctx, principal.organization_id)
    logger.info("student erased", extra={"erasure_id": str(erasure.id), **counts})


def _export_job_record(job: ExportJob) -> ExportJobRecord:
    values = {name: getattr(job, name) for name in ExportJobRecord.model_fields if name != "match"}
    named = repository.student_filter_of(job) is not None
    return ExportJobRecord(**values, match="student_filter" if named else "organization_scope")


def _data_document(session: Session, student: Student, now: datetime, timezone: str) -> StudentDataDocument:
    plans = repository.student_plans(session, student.id)
    plan_ids = [plan.id for plan in plans]
    reviews: dict[uuid.UUID, list[ReviewRecord]] = {plan_id: [] for plan_id in plan_ids}
    for review in repository.plan_reviews(session, plan_ids):
        reviews[review.plan_id].append(ReviewRecord.model_validate(review))
    today = local_today(now, timezone)
    notifications = repository.plan_notifications(session, plan_ids)
    jobs = repository.exports_touching(session, student)
    return StudentDataDocument(
        generated_at=now,
        organization_id=student.organization_id,
        student=StudentOut.model_validate(student),
        plans=[
            PlanRecord(**PlanOut.build(plan, today).model_dump(exclude={"student"}), reviews=reviews[plan.id])
            for plan in plans
        ],
        notifications=[NotificationRecord.model_validate(notification) for notification in notifications],
        export_jobs=[_export_job_record(job) for job in jobs],
    )


def _data_export_filename(student_id: uuid.UUID, local_now: datetime) -> str:
    return f"dados_aluno_{student_id}_{local_now:%Y%m%d_%H%M%S}.json"


def export_student_data(ctx: Context, student_id: uuid.UUID) -> ExportLink:
    """LGPD access and portability: everything held about the student as one JSON file behind a
    presigned link; audited in export_jobs and counted in the caller's daily export quota."""
    principal = ctx.caller
    _require_coordinator(principal, "export a student's data")
    now = ctx.clock.now()
    timezone = organizations.timezone(ctx, principal.organization_id)
    with ctx.uow() as session:
        student = _scoped_student(session, principal, student_id)
        delivery.claim_quota(ctx, session, timezone)
        # Built before its own audit row: the document lists the exports made before this one.
        document = _data_document(session, student, now, timezone)
        request = {"kind": DATA_EXPORT_KIND, "filters": {"student_id": str(student_id)}}
        job_id = delivery.record_job(ctx, session, ExportFormat.JSON, request)

    def write(path: Path) -> int:
        path.write_text(document.model_dump_json(indent=2), encoding="utf-8")
        return document.record_count

    filename = _data_export_filename(student_id, now.astimezone(ZoneInfo(timezone)))
    return delivery.deliver_file(ctx, job_id, ExportFormat.JSON, filename, write)
