"""Use cases of the users API: ``verb(ctx, request) -> response model``, each in its own unit of work
(docs/ARCHITECTURE.md)."""

from __future__ import annotations

from eduautismo.context import Context
from eduautismo.users import repository
from eduautismo.users.schemas import UserOut, UserPage, UserQuery


def list_users(ctx: Context, query: UserQuery) -> UserPage:
    """Coordinator: the organization's users; professional: a page holding only themselves."""
    with ctx.uow() as session:
        users, total = repository.list_users(session, ctx.caller, query.role, query.skip, query.limit)
        items = [UserOut.model_validate(user) for user in users]
    return UserPage.of(items, total, query.skip, query.limit)
