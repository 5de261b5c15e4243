"""Every query of the identity module: the organization and user rows provisioning writes, and the role
and status Cognito's events keep."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute, Session

from eduautismo.db.models import Organization, User
from eduautismo.domain import Role, UserStatus
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


@dataclass(frozen=True)
class StoredIdentity:
    role: Role
    status: UserStatus
    role_event_at: datetime | None


def stored_identity(session: Session, user_id: uuid.UUID) -> StoredIdentity | None:
    row = session.execute(
        select(User.role, User.status, User.role_event_at).where(User.id == user_id)
    ).one_or_none()
    return None if row is None else StoredIdentity(Role(row.role), UserStatus(row.status), row.role_event_at)


def _apply_if_later(
    session: Session,
    user_id: uuid.UUID,
    event_at: InstrumentedAttribute[datetime | None],
    at: datetime,
    **values: str,
) -> bool:
    """Write ``values`` and the event's time unless a later event already wrote them; whether it did."""
    applied = session.execute(
        update(User)
        .where(User.id == user_id, or_(event_at.is_(None), event_at <= at))
        .values(**values, **{event_at.key: at})
        .returning(User.id)
    ).scalar_one_or_none()
    return applied is not None


def apply_role(session: Session, user_id: uuid.UUID, role: Role, at: datetime) -> bool:
    return _apply_if_later(session, user_id, User.role_event_at, at, role=role.value)


def apply_status(session: Session, user_id: uuid.UUID, status: UserStatus, at: datetime) -> bool:
    return _apply_if_later(session, user_id, User.status_event_at, at, status=status.value)
