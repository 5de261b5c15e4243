"""Use cases of the users API, in the plans feature's style: the caller and what they asked for, then
the adapters by keyword; each opens its own unit of work and answers a response model."""

from __future__ import annotations

from eduautismo.db.engine import SessionScope
from eduautismo.domain import Role
from eduautismo.identity.principal import Principal
from eduautismo.users import repository
from eduautismo.users.schemas import UserOut, UserPage


def list_users(
    principal: Principal, role: Role | None, skip: int, limit: int, *, sessions: SessionScope
) -> UserPage:
    """Coordinator: the organization's users; professional: a page holding only themselves."""
    with sessions() as session:
        users, total = repository.list_users(session, principal, role, skip, limit)
        items = [UserOut.model_validate(user) for user in users]
    return UserPage.of(items, total, skip, limit)
