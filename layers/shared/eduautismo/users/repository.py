"""Every query of the users feature, always within the caller's organization (and, for a professional,
themselves)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import User
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
