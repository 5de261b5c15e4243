"""The compliance query: one statement that counts, per responsible professional of the caller's scope,
the plans' state today and the reviews of the period graded on time or late.

The on-time rule runs in SQL over ``plan_reviews``: a window (``lag`` over each plan's reviews of the
period in time order) gives every review the local date of the review before it; for a plan's first
review of the period that is the last review before the period, or the plan's ``start_date`` when there
is none. That date plus the plan's interval is the due date in force when the review was recorded. The
interval is the plan's *current* ``review_frequency``: past cycles are graded with it, since plans keep
no history of their frequency. Calendar months are added by PostgreSQL (``date + interval``), which
clamps to the end of a shorter month exactly as ``domain.add_months`` does (31 Jan + 1 month = 28/29 Feb).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Select, Subquery, and_, case, cast, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from eduautismo.clock import start_of
from eduautismo.db.models import InterventionPlan, PlanReview, User
from eduautismo.domain import PlanStatus, ReviewFrequency, review_interval
from eduautismo.identity.principal import Principal
from eduautismo.plans.repository import plan_scope


@dataclass(frozen=True)
class ReportWindow:
    """The period (inclusive local dates) and the organization's today."""

    date_from: date
    date_to: date
    today: date
    due_horizon: date  # today + REVIEW_DUE_SOON_DAYS
    timezone: str

    def start_of(self, day: date) -> datetime:
        return start_of(day, self.timezone)

    @property
    def period_end(self) -> datetime:
        """The first instant after the period."""
        return self.start_of(self.date_to + timedelta(days=1))


@dataclass(frozen=True)
class ProfessionalCounts:
    professional_id: uuid.UUID
    professional_name: str
    active_plans: int
    overdue_now: int
    due_soon: int
    reviews_in_period: int
    on_time_reviews: int
    late_reviews: int
    days_late: int  # summed over the late reviews


def _local_date(
    instant: ColumnElement[Any] | InstrumentedAttribute[Any], timezone: str
) -> ColumnElement[date]:
    return cast(func.timezone(timezone, instant), Date)


def _interval_part(frequency: ColumnElement[Any], part: Mapping[ReviewFrequency, int]) -> ColumnElement[int]:
    return case({member.value: count for member, count in part.items()}, value=frequency, else_=0)


def _due_date(base_date: ColumnElement[Any], frequency: ColumnElement[Any]) -> ColumnElement[date]:
    """``base_date`` + the frequency's interval (calendar months, or days), as a date."""
    months = {member: review_interval(member)[0] for member in ReviewFrequency}
    days = {member: review_interval(member)[1] for member in ReviewFrequency}
    interval = func.make_interval(0, _interval_part(frequency, months), 0, _interval_part(frequency, days))
    return cast(base_date + interval, Date)


def graded_reviews(scope: ColumnElement[bool], window: ReportWindow) -> Subquery:
    """Every review of the period of the plans matching ``scope``, graded by the on-time rule: columns
    ``professional_id`` (the plan's responsible), ``plan_id``, ``review_date`` (local) and ``due_date``
    (in force when the review was recorded). ``is_late`` tells the late ones.

    Only the period's reviews are read in bulk: the review just before the period, which sets the due
    date of a plan's first review in it, is one backward step of ``ix_plan_reviews_plan_reviewed`` per
    plan, so the cost follows the period, not the whole history.
    """
    period_start = window.start_of(window.date_from)
    period = (
        select(
            InterventionPlan.professional_id,
            InterventionPlan.review_frequency,
            InterventionPlan.start_date,
            PlanReview.plan_id,
            PlanReview.reviewed_at,
            _local_date(PlanReview.reviewed_at, window.timezone).label("review_date"),
        )
        .join_from(PlanReview, InterventionPlan, InterventionPlan.id == PlanReview.plan_id)
        .where(scope, PlanReview.reviewed_at >= period_start, PlanReview.reviewed_at < window.period_end)
        .subquery("period_reviews")
    )
    before = aliased(PlanReview, name="review_before")
    review_before_period = (
        select(_local_date(func.max(before.reviewed_at), window.timezone))
        .where(before.plan_id == period.c.plan_id, before.reviewed_at < period_start)
        .scalar_subquery()
    )
    previous_review = func.lag(period.c.review_date).over(
        partition_by=period.c.plan_id, order_by=period.c.reviewed_at
    )
    base_date = func.coalesce(previous_review, review_before_period, period.c.start_date)
    return select(
        period.c.professional_id,
        period.c.plan_id,
        period.c.review_date,
        _due_date(base_date, period.c.review_frequency).label("due_date"),
    ).subquery("graded_reviews")


def is_late(graded: Subquery) -> ColumnElement[bool]:
    """A review is on time when its local date is on or before the due date in force."""
    return graded.c.review_date > graded.c.due_date


def compliance_statement(principal: Principal, window: ReportWindow) -> Select[Any]:
    """One row per responsible professional with at least one plan in the caller's scope."""
    scope = and_(*plan_scope(principal))
    graded = graded_reviews(scope, window)
    late = is_late(graded)
    reviews = (
        select(
            graded.c.professional_id,
            func.count().label("reviews_in_period"),
            func.count().filter(~late).label("on_time_reviews"),
            func.count().filter(late).label("late_reviews"),
            func.sum(graded.c.review_date - graded.c.due_date, type_=Integer).filter(late).label("days_late"),
        )
        .group_by(graded.c.professional_id)
        .subquery("review_counts")
    )
    active = InterventionPlan.status == PlanStatus.ACTIVE.value
    plan_counts = (
        select(
            InterventionPlan.professional_id,
            func.count().filter(active).label("active_plans"),
            func.count()
            .filter(and_(active, InterventionPlan.next_review_due < window.today))
            .label("overdue_now"),
            func.count()
            .filter(and_(active, InterventionPlan.next_review_due.between(window.today, window.due_horizon)))
            .label("due_soon"),
        )
        .where(scope)
        .group_by(InterventionPlan.professional_id)
        .subquery("plan_counts")
    )
    return (
        select(
            User.id.label("professional_id"),
            User.name.label("professional_name"),
            plan_counts.c.active_plans,
            plan_counts.c.overdue_now,
            plan_counts.c.due_soon,
            func.coalesce(reviews.c.reviews_in_period, 0).label("reviews_in_period"),
            func.coalesce(reviews.c.on_time_reviews, 0).label("on_time_reviews"),
            func.coalesce(reviews.c.late_reviews, 0).label("late_reviews"),
            func.coalesce(reviews.c.days_late, 0).label("days_late"),
        )
        .join_from(
            plan_counts,
            User,
            and_(User.id == plan_counts.c.professional_id, User.organization_id == principal.organization_id),
        )
        .outerjoin(reviews, reviews.c.professional_id == plan_counts.c.professional_id)
    )


# The planner's estimate for the per-plan lookup crosses jit_above_cost: compiling took about 300 ms of a
# 1.4 s report in benchmarks/scenarios/reports.py and speeds up nothing over some 60,000 rows.
NO_JIT = "SET LOCAL jit = off"


def professional_counts(
    session: Session, principal: Principal, window: ReportWindow
) -> list[ProfessionalCounts]:
    session.execute(text(NO_JIT))
    return [
        ProfessionalCounts(**row._mapping) for row in session.execute(compliance_statement(principal, window))
    ]
