"""Queries of the plan document: the plans in the caller's scope, their newest reviews, and the reviews
per month graded by the compliance report's on-time rule (the same SQL, ``reports.repository``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from eduautismo.db.models import InterventionPlan, Organization, PlanReview, User
from eduautismo.domain import PlanStatus, add_months
from eduautismo.identity.principal import Principal
from eduautismo.plan_document.schemas import CHART_MONTHS
from eduautismo.plans.repository import plan_scope
from eduautismo.reports.repository import NO_JIT, ReportWindow, graded_reviews, is_late

# Active plans first, then paused, completed and archived ones.
STATUS_ORDER = {PlanStatus.ACTIVE: 0, PlanStatus.PAUSED: 1, PlanStatus.COMPLETED: 2, PlanStatus.ARCHIVED: 3}


@dataclass(frozen=True)
class ReviewRow:
    plan_id: uuid.UUID
    reviewed_at: datetime
    reviewer_name: str
    notes: str | None


def document_scope(
    principal: Principal, student_id: uuid.UUID, include_archived: bool
) -> ColumnElement[bool]:
    """The student's plans the caller may see: a coordinator all of them, a professional their own."""
    conditions = [*plan_scope(principal), InterventionPlan.student_id == student_id]
    if not include_archived:
        conditions.append(InterventionPlan.status != PlanStatus.ARCHIVED.value)
    return and_(*conditions)


def organization_name(session: Session, organization_id: uuid.UUID) -> str:
    return str(session.scalar(select(Organization.name).where(Organization.id == organization_id)) or "")


def document_plans(session: Session, scope: ColumnElement[bool]) -> list[tuple[InterventionPlan, str]]:
    """The plans with their responsible professional's name: active first, then by priority (high to
    low), start date and id."""
    status_rank = case(
        {status.value: rank for status, rank in STATUS_ORDER.items()}, value=InterventionPlan.status
    )
    rows = session.execute(
        select(InterventionPlan, User.name)
        .join(User, User.id == InterventionPlan.professional_id)
        .where(scope)
        .order_by(
            status_rank, InterventionPlan.priority_rank, InterventionPlan.start_date, InterventionPlan.id
        )
    )
    return [(plan, name) for plan, name in rows]


def newest_reviews(
    session: Session, plan_ids: list[uuid.UUID], per_plan: int
) -> tuple[list[ReviewRow], dict[uuid.UUID, int]]:
    """Each plan's ``per_plan`` newest reviews (newest first, with the reviewer's name), and how many
    reviews each plan has in all."""
    position = func.row_number().over(
        partition_by=PlanReview.plan_id, order_by=(PlanReview.reviewed_at.desc(), PlanReview.id.desc())
    )
    ranked = (
        select(
            PlanReview.plan_id,
            PlanReview.reviewed_at,
            PlanReview.notes,
            func.coalesce(User.name, "").label("reviewer_name"),
            position.label("position"),
        )
        .outerjoin(User, User.id == PlanReview.reviewer_id)
        .where(PlanReview.plan_id.in_(plan_ids))
        .subquery("ranked_reviews")
    )
    rows = session.execute(
        select(ranked.c.plan_id, ranked.c.reviewed_at, ranked.c.reviewer_name, ranked.c.notes)
        .where(ranked.c.position <= per_plan)
        .order_by(ranked.c.plan_id, ranked.c.position)
    )
    totals = session.execute(
        select(PlanReview.plan_id, func.count())
        .where(PlanReview.plan_id.in_(plan_ids))
        .group_by(PlanReview.plan_id)
    )
    return [ReviewRow(**row._mapping) for row in rows], {plan_id: int(count) for plan_id, count in totals}


def reviews_per_month(
    session: Session, scope: ColumnElement[bool], window: ReportWindow
) -> dict[date, tuple[int, int]]:
    """{first day of month: (on time, late)} over the window's period, by the compliance report's rule."""
    session.execute(text(NO_JIT))
    graded = graded_reviews(scope, window)
    month: ColumnElement[Any] = cast(func.date_trunc("month", graded.c.review_date), Date)
    reviews = select(month.label("month"), is_late(graded).label("late")).subquery("monthly_reviews")
    rows = session.execute(
        select(
            reviews.c.month, func.count().filter(~reviews.c.late), func.count().filter(reviews.c.late)
        ).group_by(reviews.c.month)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def chart_window(today: date, timezone: str) -> ReportWindow:
    """The current month and the 11 before it, up to today."""
    first = add_months(today.replace(day=1), -(CHART_MONTHS - 1))
    return ReportWindow(date_from=first, date_to=today, today=today, due_horizon=today, timezone=timezone)
