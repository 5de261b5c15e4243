"""NotificationService: creates notifications idempotently and serves a user's inbox (DESIGN §6, seed §2)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eduautismo.clock import Clock
from eduautismo.db.models import InterventionPlan, Notification
from eduautismo.domain import NotificationPriority, NotificationType, Priority
from eduautismo.errors import NotFound
from eduautismo.notifications import texts
from eduautismo.observability import NOTIFICATION_CREATION_TIME, timed_metric

# DESIGN §6: an overdue review is urgent from this many days late (or when the plan is high priority).
OVERDUE_URGENT_AFTER_DAYS = 7


# Seed §2.2: the fixed priority and the text of each notification a plan write causes.
_PLAN_EVENTS: dict[NotificationType, tuple[NotificationPriority, texts.Template]] = {
    NotificationType.PLAN_CREATED: (NotificationPriority.MEDIUM, texts.PLAN_CREATED),
    NotificationType.PLAN_UPDATED: (NotificationPriority.LOW, texts.PLAN_UPDATED),
    NotificationType.PLAN_REVIEWED: (NotificationPriority.MEDIUM, texts.PLAN_REVIEWED),
    NotificationType.HIGH_PRIORITY: (NotificationPriority.URGENT, texts.HIGH_PRIORITY),
}


@dataclass(frozen=True)
class NotificationCreate:
    organization_id: uuid.UUID
    user_id: uuid.UUID
    type: NotificationType
    priority: NotificationPriority
    title: str
    message: str
    intervention_plan_id: uuid.UUID | None = None
    action_url: str | None = None
    dedupe_key: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class NotificationFilters:
    unread_only: bool = False
    priority: NotificationPriority | None = None
    type: NotificationType | None = None


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    total: int
    unread_count: int
    has_more: bool


@dataclass(frozen=True)
class NotificationStats:
    total: int
    unread: int
    by_type: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)

    @property
    def urgent_count(self) -> int:
        return self.by_priority.get(NotificationPriority.URGENT.value, 0)


def overdue_priority(days_overdue: int, plan_priority: str) -> NotificationPriority:
    if days_overdue >= OVERDUE_URGENT_AFTER_DAYS or plan_priority == Priority.HIGH.value:
        return NotificationPriority.URGENT
    return NotificationPriority.HIGH


class NotificationService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    # ---- creation ----

    def create_notification(self, data: NotificationCreate) -> Notification:
        """Insert once: the same (user, dedupe key) again returns the notification created first.
        Its time is the ``notification_creation_time`` metric (ms)."""
        with timed_metric(NOTIFICATION_CREATION_TIME):
            return self._insert_once(data)

    def _insert_once(self, data: NotificationCreate) -> Notification:
        values = {
            "id": uuid.uuid4(),
            "organization_id": data.organization_id,
            "user_id": data.user_id,
            "type": data.type.value,
            "priority": data.priority.value,
            "title": data.title,
            "message": data.message,
            "intervention_plan_id": data.intervention_plan_id,
            "action_url": data.action_url,
            "dedupe_key": data.dedupe_key,
            "created_at": self.clock.now(),
            "expires_at": data.expires_at,
        }
        statement = (
            insert(Notification)
            .values(values)
            .on_conflict_do_nothing(index_elements=[Notification.user_id, Notification.dedupe_key])
            .returning(Notification)
        )
        created = self.session.scalars(statement).one_or_none()
        if created is not None:
            return created
        return self.session.scalars(
            select(Notification).where(
                Notification.user_id == data.user_id, Notification.dedupe_key == data.dedupe_key
            )
        ).one()

    def _notify_about_plan(
        self,
        user_id: uuid.UUID,
        plan: InterventionPlan,
        notification_type: NotificationType,
        priority: NotificationPriority,
        template: texts.Template,
        occasion: object,
        *,
        days: int = 0,
    ) -> Notification:
        def text(part: str) -> str:
            return texts.render(part, plan_title=plan.title, days=days, due_date=plan.next_review_due)

        return self.create_notification(
            NotificationCreate(
                organization_id=plan.organization_id,
                user_id=user_id,
                type=notification_type,
                priority=priority,
                title=text(template.title),
                message=text(template.message),
                intervention_plan_id=plan.id,
                action_url=texts.action_url(plan.id),
                dedupe_key=texts.dedupe_key(notification_type, plan.id, occasion),
                expires_at=self.clock.now() + texts.expires_after(notification_type),
            )
        )

    def notify_review_due_soon(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification:
        return self._notify_about_plan(
            user_id,
            plan,
            NotificationType.REVIEW_DUE_SOON,
            NotificationPriority.MEDIUM,
            texts.REVIEW_DUE_SOON,
            plan.next_review_due,
        )

    def notify_review_overdue(
        self, user_id: uuid.UUID, plan: InterventionPlan, days_overdue: int, *, escalated: bool = False
    ) -> Notification:
        """To the responsible professional; ``escalated`` (always urgent) to a coordinator."""
        return self._notify_about_plan(
            user_id,
            plan,
            NotificationType.REVIEW_OVERDUE,
            NotificationPriority.URGENT if escalated else overdue_priority(days_overdue, plan.priority),
            texts.REVIEW_ESCALATED if escalated else texts.REVIEW_OVERDUE,
            plan.next_review_due,
            days=days_overdue,
        )

    def _notify_plan_event(
        self,
        user_id: uuid.UUID,
        plan: InterventionPlan,
        notification_type: NotificationType,
        occasion: object,
    ) -> Notification:
        priority, template = _PLAN_EVENTS[notification_type]
        return self._notify_about_plan(user_id, plan, notification_type, priority, template, occasion)

    def notify_plan_created(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification:
        return self._notify_plan_event(user_id, plan, NotificationType.PLAN_CREATED, "created")

    def notify_plan_updated(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification:
        """One per write: keyed by the write's updated_at."""
        return self._notify_plan_event(
            user_id, plan, NotificationType.PLAN_UPDATED, _instant_key(plan.updated_at)
        )

    def notify_plan_reviewed(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification:
        key = _instant_key(plan.last_reviewed_at)
        return self._notify_plan_event(user_id, plan, NotificationType.PLAN_REVIEWED, key)

    def notify_high_priority(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification:
        """Keyed by the write that made the plan high: raised again later, it notifies again."""
        key = _instant_key(plan.updated_at)
        return self._notify_plan_event(user_id, plan, NotificationType.HIGH_PRIORITY, key)

    # ---- a user's inbox ----

    def _visible(self, user_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
        """The caller's own rows that have not expired: the only rows any inbox query touches."""
        return and_(
            Notification.user_id == user_id,
            or_(Notification.expires_at.is_(None), Notification.expires_at > now),
        )

    def list_notifications(
        self, user_id: uuid.UUID, filters: NotificationFilters, skip: int, limit: int
    ) -> NotificationPage:
        visible = self._visible(user_id, self.clock.now())
        matching = _matching(filters)
        total, unread = self.session.execute(
            select(
                func.count().filter(matching),
                func.count().filter(Notification.is_read.is_(False)),
            ).where(visible)
        ).one()
        items = list(
            self.session.scalars(
                select(Notification)
                .where(visible, matching)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .offset(skip)
                .limit(limit)
            )
        )
        return NotificationPage(items, int(total), int(unread), skip + len(items) < total)

    def unread_count(self, user_id: uuid.UUID) -> int:
        count = self.session.scalar(
            select(func.count()).where(
                self._visible(user_id, self.clock.now()), Notification.is_read.is_(False)
            )
        )
        return int(count or 0)

    def stats(self, user_id: uuid.UUID) -> NotificationStats:
        rows = self.session.execute(
            select(Notification.type, Notification.priority, Notification.is_read, func.count())
            .where(self._visible(user_id, self.clock.now()))
            .group_by(Notification.type, Notification.priority, Notification.is_read)
        ).all()
        by_type: Counter[str] = Counter()
        by_priority: Counter[str] = Counter()
        unread = 0
        for notification_type, priority, is_read, count in rows:
            by_type[notification_type] += count
            by_priority[priority] += count
            unread += 0 if is_read else count
        return NotificationStats(sum(by_type.values()), unread, dict(by_type), dict(by_priority))

    def set_read(self, user_id: uuid.UUID, notification_id: uuid.UUID, is_read: bool) -> Notification:
        """``is_read`` true stamps ``read_at`` (kept if already read); false clears it."""
        read_at = func.coalesce(Notification.read_at, self.clock.now()) if is_read else None
        updated = self.session.scalars(
            update(Notification)
            .where(Notification.id == notification_id, self._visible(user_id, self.clock.now()))
            .values(is_read=is_read, read_at=read_at)
            .returning(Notification)
        ).one_or_none()
        if updated is None:
            raise NotFound("notification")
        return updated

    def dismiss(self, user_id: uuid.UUID, notification_id: uuid.UUID) -> None:
        deleted = self.session.execute(
            delete(Notification)
            .where(Notification.id == notification_id, self._visible(user_id, self.clock.now()))
            .returning(Notification.id)
        ).first()
        if deleted is None:
            raise NotFound("notification")

    def mark_all_read(self, user_id: uuid.UUID, call_started_at: datetime) -> int:
        """Marks what existed when the call began: rows created later (or not yet committed) stay unread."""
        result = self.session.execute(
            update(Notification)
            .where(
                self._visible(user_id, call_started_at),
                Notification.is_read.is_(False),
                Notification.created_at <= call_started_at,
            )
            .values(is_read=True, read_at=call_started_at)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for UPDATE


def _matching(filters: NotificationFilters) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if filters.unread_only:
        conditions.append(Notification.is_read.is_(False))
    if filters.priority is not None:
        conditions.append(Notification.priority == filters.priority.value)
    if filters.type is not None:
        conditions.append(Notification.type == filters.type.value)
    return and_(True, *conditions)


def _instant_key(instant: datetime | date | None) -> str:
    return instant.isoformat() if instant is not None else "never"
