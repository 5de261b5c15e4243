"""Every query of the organizations module."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from eduautismo.db.models import Organization, User
from eduautismo.domain import Role


def timezone(session: Session, organization_id: uuid.UUID) -> str | None:
    return session.scalar(select(Organization.timezone).where(Organization.id == organization_id))


def has_user(session: Session, organization_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return bool(
        session.scalar(select(exists().where(User.id == user_id, User.organization_id == organization_id)))
    )


def coordinators(session: Session, organization_id: uuid.UUID) -> list[uuid.UUID]:
    """The organization's coordinators, in id order."""
    return list(
        session.scalars(
            select(User.id)
            .where(User.organization_id == organization_id, User.role == Role.COORDINATOR.value)
            .order_by(User.id)
        )
    )
