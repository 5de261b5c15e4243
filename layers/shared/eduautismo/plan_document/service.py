"""Use case of the plan document, ``create_plan_document(ctx, request)``: a student's intervention plans
as a PDF for meetings with families and the student's file, delivered like every export (quota, audit
row, encrypted object under a random key, presigned link).

Scope: a coordinator gets every plan of a student of the organization; a professional only their own
plans, of a student in their caseload; any other student is 404, as if it did not exist.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from eduautismo.context import Context
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import (
    ExportFormat,
    PlanStatus,
    Priority,
    ReviewFrequency,
    add_months,
    age_in_years,
    days_overdue,
)
from eduautismo.errors import found
from eduautismo.exports import delivery
from eduautismo.exports.schemas import ExportLink
from eduautismo.identity.principal import Principal
from eduautismo.organizations import service as organizations
from eduautismo.plan_document import repository
from eduautismo.plan_document.schemas import (
    CHART_MONTHS,
    REVIEWS_SHOWN,
    MonthCount,
    PlanDocument,
    PlanDocumentRequest,
    PlanSection,
    ReviewLine,
)
from eduautismo.reports.repository import ReportWindow
from eduautismo.students.repository import find_student

# export_jobs.filters["kind"] of a plan document; the student sits where every export keeps it
# (filters.filters.student_id), so the student's data export and erasure find these jobs too.
PLAN_DOCUMENT_KIND = "plan_document"


def _document_filename(local_now: datetime) -> str:
    """No student name in it: the file may be forwarded, and its name shows in mail and browsers."""
    return f"plano_intervencao_{local_now:%Y%m%d_%H%M%S}.pdf"


def _audit_request(request: PlanDocumentRequest) -> dict[str, Any]:
    """What the audit row records (the pipeline adds the requester's scope): the kind, the student where
    every export kind keeps it (so erasing the student expires the document's link), the option."""
    return {
        "kind": PLAN_DOCUMENT_KIND,
        "filters": {"student_id": str(request.student_id)},
        "include_archived": request.include_archived,
    }


def _months(counts: dict[date, tuple[int, int]], window: ReportWindow) -> list[MonthCount]:
    months = [add_months(window.date_from, offset) for offset in range(CHART_MONTHS)]
    return [MonthCount(month, *counts.get(month, (0, 0))) for month in months]


def _sections(
    session: Session, plans: list[tuple[InterventionPlan, str]], today: date, timezone: str
) -> list[PlanSection]:
    reviews, totals = repository.newest_reviews(session, [plan.id for plan, _ in plans], REVIEWS_SHOWN)
    by_plan: dict[uuid.UUID, list[ReviewLine]] = {}
    zone = ZoneInfo(timezone)
    for review in reviews:
        by_plan.setdefault(review.plan_id, []).append(
            ReviewLine(review.reviewed_at.astimezone(zone).date(), review.reviewer_name, review.notes)
        )
    sections = []
    for plan, professional_name in plans:
        shown = by_plan.get(plan.id, [])
        active = plan.status == PlanStatus.ACTIVE.value
        sections.append(
            PlanSection(
                title=plan.title,
                description=plan.description,
                status=PlanStatus(plan.status),
                priority=Priority(plan.priority),
                review_frequency=ReviewFrequency(plan.review_frequency),
                start_date=plan.start_date,
                professional_name=professional_name,
                next_review_due=plan.next_review_due,
                days_overdue=days_overdue(plan.next_review_due, today) if active else 0,
                reviews=shown,
                more_reviews=totals.get(plan.id, 0) - len(shown),
            )
        )
    return sections


def _load_document(
    session: Session, principal: Principal, request: PlanDocumentRequest, now: datetime, timezone: str
) -> PlanDocument:
    """The document's content as of ``now``; NotFound for a student outside the caller's scope."""
    student = found(find_student(session, principal, request.student_id), "student")
    local_now = now.astimezone(ZoneInfo(timezone))
    today = local_now.date()
    scope = repository.document_scope(principal, student.id, request.include_archived)
    window = repository.chart_window(today, timezone)
    return PlanDocument(
        organization_name=repository.organization_name(session, principal.organization_id),
        student_name=student.full_name,
        birth_date=student.birth_date,
        age_years=None if student.birth_date is None else age_in_years(student.birth_date, today),
        generated_at=local_now,
        timezone=timezone,
        plans=_sections(session, repository.document_plans(session, scope), today, timezone),
        months=_months(repository.reviews_per_month(session, scope, window), window),
    )


def read_document(ctx: Context, request: PlanDocumentRequest) -> PlanDocument:
    """The document's content now, without storing a file (the demo picture, the renderer's benchmark)."""
    principal = ctx.caller
    timezone = organizations.timezone(ctx, principal.organization_id)
    with ctx.uow() as session:
        return _load_document(session, principal, request, ctx.clock.now(), timezone)


def create_plan_document(ctx: Context, request: PlanDocumentRequest) -> ExportLink:
    """The student's plans in the caller's scope as a PDF behind a presigned link, through the exports'
    one pipeline: audited in export_jobs (format pdf) and counted in the caller's daily export quota."""
    principal = ctx.caller
    now = ctx.clock.now()
    timezone = organizations.timezone(ctx, principal.organization_id)
    with ctx.uow() as session:
        document = _load_document(session, principal, request, now, timezone)
        job_id = delivery.open_job(ctx, session, ExportFormat.PDF, _audit_request(request), timezone)

    def write(path: Path) -> int:
        from eduautismo.plan_document.pdf import render  # fpdf2 loads only for a plan document

        path.write_bytes(render(document))
        return len(document.plans)

    return delivery.deliver_file(
        ctx, job_id, ExportFormat.PDF, _document_filename(document.generated_at), write
    )
