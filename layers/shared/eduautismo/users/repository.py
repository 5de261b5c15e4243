"""Every query of the users feature, always within the caller's organization (and, for a professional,
themselves)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo.db.models import NotificationPreference, User
from eduautismo.domain import Role
from eduautismo.identity.principal import Principal


def user_scope(principal: Principal, role: Role | None) -> list[ColumnElement[bool]]:
    """A coordinator sees the organization's users; a professional only themselves."""
    conditions = [User.organization_id == principal.organization_id]
    if not principal.is_coordinator:
        conditions.append(User.id == principal.user_id)
    if role is not None:
        conditions.append(User.role == role.value)
    return conditions


def list_users(
    session: Session, principal: Principal, role: Role | None, skip: int, limit: int
) -> tuple[list[User], int]:
    """One page, sorted by name then id (stable across pages), and the total."""
    scope = user_scope(principal, role)
    rows = session.scalars(select(User).where(*scope).order_by(User.name, User.id).offset(skip).limit(limit))
    total = session.scalar(select(func.count()).select_from(User).where(*scope)) or 0
    return list(rows), int(total)


def preferences(session: Session, user_id: uuid.UUID) -> NotificationPreference | None:
    return session.get(NotificationPreference, user_id)


def save_preferences(
    session: Session, user_id: uuid.UUID, values: Mapping[str, Any]
) -> NotificationPreference:
    """Insert or update the user's row in one statement (two concurrent PATCHes both land)."""
    statement = insert(NotificationPreference).values(user_id=user_id, **values)
    changed = {name: statement.excluded[name] for name in values if name != "user_id"}
    return session.scalars(
        statement.on_conflict_do_update(
            index_elements=[NotificationPreference.user_id], set_={**changed, "updated_at": func.now()}
        )
        .returning(NotificationPreference)
        .execution_options(populate_existing=True)
    ).one()
