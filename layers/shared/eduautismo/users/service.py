"""Use cases of the users API: ``verb(ctx, request) -> response model``, each in its own unit of work
(docs/ARCHITECTURE.md)."""

from __future__ import annotations

from eduautismo.context import Context
from eduautismo.users import repository
from eduautismo.users.schemas import Preferences, PreferencesUpdate, UserOut, UserPage, UserQuery


def list_users(ctx: Context, query: UserQuery) -> UserPage:
    """Coordinator: the organization's users; professional: a page holding only themselves."""
    with ctx.uow() as session:
        users, total = repository.list_users(session, ctx.caller, query.role, query.skip, query.limit)
        items = [UserOut.model_validate(user) for user in users]
    return UserPage.of(items, total, query.skip, query.limit)


def get_preferences(ctx: Context) -> Preferences:
    """The caller's reminder preferences; the defaults when they never changed one."""
    with ctx.uow() as session:
        stored = repository.preferences(session, ctx.caller.user_id)
        return Preferences.model_validate(stored) if stored is not None else Preferences()


def update_preferences(ctx: Context, body: PreferencesUpdate) -> Preferences:
    """Change the fields sent; the others keep their current (or default) value."""
    with ctx.uow() as session:
        stored = repository.preferences(session, ctx.caller.user_id)
        current = Preferences.model_validate(stored) if stored is not None else Preferences()
        merged = current.model_copy(update=body.changes())
        saved = repository.save_preferences(session, ctx.caller.user_id, _row(merged))
        return Preferences.model_validate(saved)


def _row(preferences: Preferences) -> dict[str, object]:
    return {
        "email_digest": preferences.email_digest.value,
        "digest_hour": preferences.digest_hour,
        "digest_weekday": preferences.digest_weekday,
        "muted_types": sorted({kind.value for kind in preferences.muted_types}),
    }
