"""Every query of the identity module: the organization and user rows provisioning writes."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo.db.models import Organization, User
from eduautismo.domain import Role
from eduautismo.identity.principal import Principal


def ensure_organization(session: Session, organization_id: uuid.UUID, name: str | None) -> None:
    session.execute(
        insert(Organization)
        .values(id=organization_id, name=name or f"Organização {str(organization_id)[:8]}")
        .on_conflict_do_nothing(index_elements=[Organization.id])
    )


def upsert_user(session: Session, principal: Principal) -> None:
    """Create the user, or bring their e-mail, name and role up to date; never across organizations (the
    row of a user id that belongs to another organization is left as it is)."""
    upsert = insert(User).values(
        id=principal.user_id,
        organization_id=principal.organization_id,
        email=principal.email,
        name=principal.name,
        role=principal.role.value,
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[User.id],
            set_={"email": upsert.excluded.email, "name": upsert.excluded.name, "role": upsert.excluded.role},
            where=(User.organization_id == upsert.excluded.organization_id)
            & (
                (User.email != upsert.excluded.email)
                | (User.name != upsert.excluded.name)
                | (User.role != upsert.excluded.role)
            ),
        )
    )


def insert_user_once(
    session: Session, user_id: uuid.UUID, organization_id: uuid.UUID, email: str, name: str
) -> None:
    """A new user starts as a professional (the least privilege); an existing one is left untouched."""
    session.execute(
        insert(User)
        .values(
            id=user_id,
            organization_id=organization_id,
            email=email,
            name=name,
            role=Role.PROFESSIONAL.value,
        )
        .on_conflict_do_nothing(index_elements=[User.id])
    )


def user_organization(session: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(User.organization_id).where(User.id == user_id))
