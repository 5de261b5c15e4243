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
from eduautismo.plans.pending_review import plan_scope


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
