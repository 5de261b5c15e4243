"""Every query of the intervention plans feature, always within the caller's scope.

Every lookup by id filters by the caller's organization (and, for professionals, their own plans), so an
id outside the scope is indistinguishable from a missing one. The pending-review statement is shared with
the exports and reports features: an export lists exactly the plans the page lists.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from eduautismo.db.lookup import one_in_scope
from eduautismo.db.models import InterventionPlan, Student
from eduautismo.domain import PlanStatus
from eduautismo.identity.principal import Principal
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.schemas import PageRequest, PendingReviewFilters

# The contract's order: priority high -> low, then due date, then id (stable across pages).
ORDER = (InterventionPlan.priority_rank, InterventionPlan.next_review_due, InterventionPlan.id)

# A plan with its student's name when the page was asked with include_student, else None.
PlanWithStudent = tuple[InterventionPlan, str | None]


def plan_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """The plans a caller may see at all: their organization's; a professional only their own."""
    conditions = [InterventionPlan.organization_id == principal.organization_id]
    if not principal.is_coordinator:
        conditions.append(InterventionPlan.professional_id == principal.user_id)
    return conditions


def find_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, *, for_update: bool = False
) -> InterventionPlan | None:
    conditions = [InterventionPlan.id == plan_id, *plan_scope(principal)]
    return one_in_scope(session, InterventionPlan, conditions, for_update=for_update)


def _pending_conditions(
    principal: Principal, filters: PendingReviewFilters, day: LocalDay
) -> ColumnElement[bool]:
    filters.authorize(principal)
    conditions = [
        *plan_scope(principal),
        InterventionPlan.status == PlanStatus.ACTIVE.value,
        InterventionPlan.next_review_due <= day.due_horizon,
    ]
    if filters.overdue_only:
        conditions.append(InterventionPlan.next_review_due < day.today)
    if filters.priority is not None:
        conditions.append(InterventionPlan.priority == filters.priority.value)
    if filters.professional_id is not None:
        conditions.append(InterventionPlan.professional_id == filters.professional_id)
    if filters.student_id is not None:
        conditions.append(InterventionPlan.student_id == filters.student_id)
    if filters.review_frequency is not None:
        conditions.append(InterventionPlan.review_frequency == filters.review_frequency.value)
    if filters.date_from is not None:
        conditions.append(InterventionPlan.created_at >= day.start_of(filters.date_from))
    if filters.date_to is not None:
        conditions.append(InterventionPlan.created_at < day.start_of(filters.date_to + timedelta(days=1)))
    return and_(*conditions)


def pending_review_query(
    principal: Principal, filters: PendingReviewFilters, day: LocalDay, include_student: bool
) -> Select[Any]:
    """The list's statement, ordered, without offset/limit (callers page it or stream it)."""
    statement: Select[Any] = select(InterventionPlan)
    if include_student:
        statement = statement.add_columns(Student.full_name).join(
            Student, Student.id == InterventionPlan.student_id
        )
    return statement.where(_pending_conditions(principal, filters, day)).order_by(*ORDER)


def pending_review_count_query(
    principal: Principal, filters: PendingReviewFilters, day: LocalDay
) -> Select[int]:
    return (
        select(func.count()).select_from(InterventionPlan).where(_pending_conditions(principal, filters, day))
    )


def count_pending_review(
    session: Session, principal: Principal, filters: PendingReviewFilters, day: LocalDay
) -> int:
    return int(session.scalar(pending_review_count_query(principal, filters, day)) or 0)


def pending_review_page(
    session: Session, principal: Principal, filters: PendingReviewFilters, day: LocalDay, page: PageRequest
) -> tuple[list[PlanWithStudent], int]:
    """One page of the pending-review list and the total it is a page of."""
    statement = pending_review_query(principal, filters, day, page.include_student)
    rows = session.execute(statement.offset(page.skip).limit(page.limit))
    plans = [(row[0], row[1] if page.include_student else None) for row in rows]
    return plans, count_pending_review(session, principal, filters, day)
