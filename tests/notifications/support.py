"""Builders shared by the notification tests: rows written through the real service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.db.models import Notification
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.notifications.service import NotificationService
from tests.support.factories import Actor, notification_for


def add_notification(
    db: Engine,
    actor: Actor,
    *,
    type: NotificationType = NotificationType.SYSTEM,
    priority: NotificationPriority = NotificationPriority.MEDIUM,
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
    dedupe_key: str | None = None,
    is_read: bool = False,
) -> Notification:
    created = created_at or datetime.now(UTC) - timedelta(minutes=1)
    with Session(db, expire_on_commit=False) as session:
        request = notification_for(
            actor, type=type, priority=priority, dedupe_key=dedupe_key, expires_at=expires_at
        )
        notification = NotificationService(session, FixedClock(created)).create_notification(request)
        if is_read:
            notification.is_read = True
            notification.read_at = created
        session.commit()
    return notification


def notification_rows(db: Engine, **where: Any) -> list[Notification]:
    with Session(db) as session:
        statement = select(Notification).filter_by(**where).order_by(Notification.created_at, Notification.id)
        return list(session.scalars(statement))


def count_notifications(db: Engine) -> int:
    with Session(db) as session:
        return int(session.scalar(select(func.count()).select_from(Notification)) or 0)


def snapshot(db: Engine) -> list[tuple[Any, ...]]:
    """Every notification row as plain values, to prove a rejected request changed nothing."""
    with Session(db) as session:
        rows = session.execute(
            select(
                Notification.id,
                Notification.is_read,
                Notification.read_at,
                Notification.seen_at,
                Notification.archived_at,
            ).order_by(Notification.id)
        ).all()
    return [tuple(row) for row in rows]


def random_id() -> str:
    return str(uuid.uuid4())
