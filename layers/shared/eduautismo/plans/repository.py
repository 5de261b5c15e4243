"""Database access for students and plans, always within the caller's scope.

Every lookup by id filters by the caller's organization (and, for professionals, their caseload), so
an id outside the scope is indistinguishable from a missing one.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan, Organization, User
from eduautismo.identity.principal import Principal
from eduautismo.plans.pending_review import (
    PageRequest,
    PendingReviewFilters,
    PendingReviewWindow,
    count_pending_review,
    pending_review_query,
    plan_scope,
)

# A plan with its student's name when the page was asked with include_student, else None.
PlanWithStudent = tuple[InterventionPlan, str | None]


def organization_user_exists(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return bool(
        session.scalar(select(exists().where(User.id == user_id, User.organization_id == organization_id)))
    )


def find_plan(
    session: Session, principal: Principal, plan_id: uuid.UUID, *, for_update: bool = False
) -> InterventionPlan | None:
    statement = select(InterventionPlan).where(InterventionPlan.id == plan_id, *plan_scope(principal))
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


def organization_timezone(session: Session, organization_id: uuid.UUID) -> str | None:
    return session.scalar(select(Organization.timezone).where(Organization.id == organization_id))


def pending_review_page(
    session: Session,
    principal: Principal,
    filters: PendingReviewFilters,
    window: PendingReviewWindow,
    page: PageRequest,
) -> tuple[list[PlanWithStudent], int]:
    """One page of the pending-review list and the total it is a page of."""
    statement = pending_review_query(principal, filters, window, page.include_student)
    rows = session.execute(statement.offset(page.skip).limit(page.limit))
    plans = [(row[0], row[1] if page.include_student else None) for row in rows]
    return plans, count_pending_review(session, principal, filters, window)
