"""Every query of the notifications feature. Every inbox statement is bounded to the caller's own,
unexpired rows."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo.db.models import Notification, NotificationInbox, User
from eduautismo.domain import NotificationPriority, NotificationType, UserStatus
from eduautismo.notifications.schemas import BulkAction, InboxFilters

NEWEST_FIRST = (Notification.created_at.desc(), Notification.id.desc())


def inbox_condition(filters: InboxFilters) -> ColumnElement[bool]:
    conditions = [in_archive(filters.archived), *kind_conditions(filters.type, filters.priority)]
    if filters.unread_only:
        conditions.append(Notification.is_read.is_(False))
    if filters.unseen_only:
        conditions.append(unseen())
    return and_(*conditions)


def kind_conditions(
    notification_type: NotificationType | None, priority: NotificationPriority | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if notification_type is not None:
        conditions.append(Notification.type == notification_type.value)
    if priority is not None:
        conditions.append(Notification.priority == priority.value)
    return conditions


def in_archive(archived: bool) -> ColumnElement[bool]:
    return Notification.archived_at.is_not(None) if archived else Notification.archived_at.is_(None)


def unseen() -> ColumnElement[bool]:
    """Read implies seen: only unread rows can be unseen (so the unread partial index serves both counts)."""
    return and_(Notification.is_read.is_(False), Notification.seen_at.is_(None))


def visible(user_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    """The caller's own rows that have not expired: the only rows any inbox query touches."""
    return and_(
        Notification.user_id == user_id,
        or_(Notification.expires_at.is_(None), Notification.expires_at > now),
    )


# ---- who may be notified ----


def sql_may_notify(user_id: str, notification_type: str) -> str:
    """SQL condition over SQL expressions: the user is active (users.status: Cognito did not disable them)
    and has not muted the type. The daily job filters its recipients with it, plan events through
    `may_notify` (and `active_users`); ``system`` cannot be muted (a check constraint)."""
    # Only trusted SQL expressions and an enum value are interpolated.
    status = f"mu.id = {user_id} AND mu.status = '{UserStatus.ACTIVE.value}'"
    active = f"EXISTS (SELECT 1 FROM users mu WHERE {status})"  # noqa: S608
    muted = f"np.user_id = {user_id} AND ({notification_type}) = ANY(np.muted_types)"
    return f"{active} AND NOT EXISTS (SELECT 1 FROM notification_preferences np WHERE {muted})"  # noqa: S608


def may_notify(session: Session, user_id: uuid.UUID, notification_type: NotificationType) -> bool:
    condition = sql_may_notify("CAST(:user_id AS uuid)", "CAST(:type AS text)")
    return bool(
        session.scalar(text(f"SELECT {condition}"), {"user_id": user_id, "type": notification_type.value})
    )


# ---- the inbox version (ETags) ----


def inbox_state(session: Session, user_id: uuid.UUID) -> NotificationInbox | None:
    return session.get(NotificationInbox, user_id)


def next_expiry_after(session: Session, user_id: uuid.UUID, now: datetime) -> datetime | None:
    """The earliest instant after ``now`` at which one of the user's notifications expires."""
    return session.scalar(
        select(func.min(Notification.expires_at)).where(
            Notification.user_id == user_id, Notification.expires_at > now
        )
    )


def record_expiry_check(
    session: Session, user_id: uuid.UUID, version: int, now: datetime, next_expiry: datetime | None
) -> None:
    """Remember that nothing of ``version`` expires between ``now`` and ``next_expiry``. Skipped when the
    version moved on meanwhile (the check was about other rows) or a writer holds the row (never waits)."""
    still_current = (
        select(NotificationInbox.user_id)
        .where(NotificationInbox.user_id == user_id, NotificationInbox.version == version)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    values = {"expiry_checked_at": now, "next_expiry": next_expiry}
    if version == 0:  # no row yet: the user's rows predate the triggers, or there are none
        session.execute(
            insert(NotificationInbox)
            .values(user_id=user_id, version=0, **values)
            .on_conflict_do_nothing(index_elements=[NotificationInbox.user_id])
        )
    session.execute(
        update(NotificationInbox).where(NotificationInbox.user_id == still_current).values(values)
    )


# ---- reads ----


def active_users(session: Session, user_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``user_ids`` Cognito lets act now (users.status): nobody disabled is notified."""
    if not user_ids:
        return set()
    return set(
        session.scalars(select(User.id).where(User.id.in_(user_ids), User.status == UserStatus.ACTIVE.value))
    )


def insert_once(session: Session, values: Mapping[str, Any]) -> Notification:
    """Insert the notification unless the user already has one with its dedupe key; either way return
    the one stored."""
    statement = (
        insert(Notification)
        .values(values)
        .on_conflict_do_nothing(index_elements=[Notification.user_id, Notification.dedupe_key])
        .returning(Notification)
    )
    created = session.scalars(statement).one_or_none()
    if created is not None:
        return created
    return session.scalars(
        select(Notification).where(
            Notification.user_id == values["user_id"], Notification.dedupe_key == values["dedupe_key"]
        )
    ).one()


def page(
    session: Session, user_id: uuid.UUID, filters: InboxFilters, now: datetime, skip: int, limit: int
) -> tuple[list[Notification], int, int]:
    """One page newest first, the number of rows matching ``filters`` and the caller's unread badge."""
    mine = visible(user_id, now)
    total, unread = session.execute(
        select(
            func.count().filter(inbox_condition(filters)),
            func.count().filter(Notification.is_read.is_(False), in_archive(False)),
        ).where(mine)
    ).one()
    items = list(
        session.scalars(
            select(Notification)
            .where(mine, inbox_condition(filters))
            .order_by(*NEWEST_FIRST)
            .offset(skip)
            .limit(limit)
        )
    )
    return items, int(total), int(unread)


def badge_counts(session: Session, user_id: uuid.UUID, now: datetime) -> tuple[int, int]:
    """(unread, unseen) over the unarchived inbox: one scan of the unread partial index."""
    unread, unseen_count = session.execute(
        select(func.count(), func.count().filter(Notification.seen_at.is_(None))).where(
            visible(user_id, now), Notification.is_read.is_(False), in_archive(False)
        )
    ).one()
    return int(unread), int(unseen_count)


def counts_by_kind(session: Session, user_id: uuid.UUID, now: datetime) -> list[tuple[str, str, bool, int]]:
    rows = session.execute(
        select(Notification.type, Notification.priority, Notification.is_read, func.count())
        .where(visible(user_id, now), in_archive(False))
        .group_by(Notification.type, Notification.priority, Notification.is_read)
    ).all()
    return [(str(kind), str(priority), bool(is_read), int(count)) for kind, priority, is_read, count in rows]


# ---- writes ----


def update_one(
    session: Session, user_id: uuid.UUID, notification_id: uuid.UUID, now: datetime, values: Mapping[str, Any]
) -> Notification | None:
    return session.scalars(
        update(Notification)
        .where(Notification.id == notification_id, visible(user_id, now))
        .values(dict(values))
        .returning(Notification)
        .execution_options(populate_existing=True)
    ).one_or_none()


def delete_one(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID, now: datetime) -> bool:
    deleted = session.execute(
        delete(Notification)
        .where(Notification.id == notification_id, visible(user_id, now))
        .returning(Notification.id)
    ).first()
    return deleted is not None


def update_where(
    session: Session,
    user_id: uuid.UUID,
    now: datetime,
    conditions: Collection[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> int:
    """Set ``values`` on the caller's visible rows meeting ``conditions``; how many changed."""
    result = session.execute(
        update(Notification)
        .where(visible(user_id, now), *conditions)
        .values(dict(values))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for UPDATE


def delete_where(
    session: Session, user_id: uuid.UUID, now: datetime, conditions: Collection[ColumnElement[bool]]
) -> int:
    result = session.execute(
        delete(Notification)
        .where(visible(user_id, now), *conditions)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for DELETE


# ---- inbox actions ----


def transition(action: BulkAction, now: datetime) -> tuple[list[ColumnElement[bool]], dict[str, Any]]:
    """What ``action`` sets, and which rows it would change (the others are left alone and not counted)."""
    column = Notification
    transitions: dict[BulkAction, tuple[list[ColumnElement[bool]], dict[str, Any]]] = {
        BulkAction.READ: (
            [column.is_read.is_(False)],
            {
                "is_read": True,
                "read_at": func.coalesce(column.read_at, now),
                "seen_at": func.coalesce(column.seen_at, now),
            },
        ),
        BulkAction.UNREAD: ([column.is_read.is_(True)], {"is_read": False, "read_at": None}),
        BulkAction.SEEN: ([unseen()], {"seen_at": now}),
        BulkAction.ARCHIVE: (
            [column.archived_at.is_(None)],
            {"archived_at": func.coalesce(column.archived_at, now)},
        ),
        BulkAction.UNARCHIVE: ([column.archived_at.is_not(None)], {"archived_at": None}),
        BulkAction.DELETE: ([], {}),
    }
    return transitions[action]


def mark_all(
    session: Session,
    user_id: uuid.UUID,
    call_started_at: datetime,
    action: BulkAction,
    notification_type: NotificationType | None,
    priority: NotificationPriority | None,
) -> int:
    """``action`` over the inbox rows of that kind that existed when the call began; how many changed."""
    pending, values = transition(action, call_started_at)
    conditions = [
        *pending,
        in_archive(False),
        Notification.created_at <= call_started_at,
        *kind_conditions(notification_type, priority),
    ]
    return update_where(session, user_id, call_started_at, conditions, values)


def act_on_ids(
    session: Session, user_id: uuid.UUID, now: datetime, action: BulkAction, ids: Collection[uuid.UUID]
) -> int:
    """``action`` on those of ``ids`` that are the user's visible rows and that it changes."""
    pending, values = transition(action, now)
    conditions = [Notification.id.in_(set(ids)), *pending]
    if action is BulkAction.DELETE:
        return delete_where(session, user_id, now, conditions)
    return update_where(session, user_id, now, conditions, values)
