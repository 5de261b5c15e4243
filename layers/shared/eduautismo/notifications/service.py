"""The notifications use cases: ``NotificationService`` creates notifications idempotently inside the
caller's unit of work (plan events, the daily job); the functions below serve a user's inbox, each
``verb(ctx, request)`` in its own unit of work (docs/ARCHITECTURE.md).

Inbox states (as Knock and Novu): a notification arrives unseen and unread; ``seen`` stamps ``seen_at``;
``read`` stamps ``read_at`` and implies seen; ``unread`` clears the read state but not the seen one;
``archive`` hides it from the inbox and every count (read state kept), ``unarchive`` brings it back;
``delete`` removes it. Expired notifications are in no list, count or action.

Polling is cheap: the badge and the first page of a list carry an ETag derived from the user's inbox
version (raised by triggers in the transaction of every change to the user's rows) and the next instant a
row expires, so a matching ``If-None-Match`` is answered from one primary-key read.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from eduautismo.clock import Clock
from eduautismo.context import Context
from eduautismo.db.models import InterventionPlan, Notification
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.errors import NotFound, found
from eduautismo.notifications import repository, rules, texts
from eduautismo.notifications.schemas import (
    BulkAction,
    BulkRequest,
    BulkResult,
    CountsByPriority,
    CountsByType,
    InboxFilters,
    InboxQuery,
    MarkAllRequest,
    MarkAllResult,
    NotificationOut,
    NotificationPage,
    NotificationStats,
    NotificationUpdate,
    UnreadCount,
)
from eduautismo.observability import NOTIFICATION_CREATION_TIME, timed_metric

BodyT = TypeVar("BodyT")

# The fixed priority and the text of each notification a plan write causes.
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


class NotificationService:
    def __init__(self, session: Session, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    # ---- creation ----

    def create_notification(self, data: NotificationCreate) -> Notification | None:
        """Insert once: the same (user, dedupe key) again returns the notification created first; None
        when the user muted the type. Its time is the ``notification_creation_time`` metric (ms)."""
        with timed_metric(NOTIFICATION_CREATION_TIME):
            if not repository.may_notify(self.session, data.user_id, data.type):
                return None
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
        return repository.insert_once(self.session, values)

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
    ) -> Notification | None:
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

    def notify_review_due_soon(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification | None:
        return self._notify_about_plan(
            user_id,
            plan,
            NotificationType.REVIEW_DUE_SOON,
            NotificationPriority.MEDIUM,
            texts.REVIEW_DUE_SOON,
            plan.next_review_due,
        )

    def notify_review_overdue(
        self, user_id: uuid.UUID, plan: InterventionPlan, days_overdue: int, *, escalate_after_days: int
    ) -> Notification | None:
        """To the responsible professional (coordinators get the daily escalation summary instead)."""
        return self._notify_about_plan(
            user_id,
            plan,
            NotificationType.REVIEW_OVERDUE,
            rules.overdue_priority(days_overdue, plan.priority, escalate_after_days),
            texts.REVIEW_OVERDUE,
            plan.next_review_due,
            days=days_overdue,
        )

    def _notify_plan_event(
        self,
        user_id: uuid.UUID,
        plan: InterventionPlan,
        notification_type: NotificationType,
        occasion: object,
    ) -> Notification | None:
        priority, template = _PLAN_EVENTS[notification_type]
        return self._notify_about_plan(user_id, plan, notification_type, priority, template, occasion)

    def notify_plan_created(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification | None:
        return self._notify_plan_event(user_id, plan, NotificationType.PLAN_CREATED, "created")

    def notify_plan_updated(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification | None:
        """One per write: keyed by the write's updated_at."""
        return self._notify_plan_event(
            user_id, plan, NotificationType.PLAN_UPDATED, _instant_key(plan.updated_at)
        )

    def notify_plan_reviewed(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification | None:
        key = _instant_key(plan.last_reviewed_at)
        return self._notify_plan_event(user_id, plan, NotificationType.PLAN_REVIEWED, key)

    def notify_high_priority(self, user_id: uuid.UUID, plan: InterventionPlan) -> Notification | None:
        """Keyed by the write that made the plan high: raised again later, it notifies again."""
        key = _instant_key(plan.updated_at)
        return self._notify_plan_event(user_id, plan, NotificationType.HIGH_PRIORITY, key)


# ---- a user's inbox ----

# Part of every ETag: raise it when a tagged body changes shape, so no client keeps a copy of the old one.
ETAG_FORMAT = "inbox-1"


@dataclass(frozen=True)
class Conditional(Generic[BodyT]):
    """A tagged answer; ``body`` is None when the caller's copy (``If-None-Match``) is still current."""

    etag: str | None
    body: BodyT | None


def _inbox_version(session: Session, user_id: uuid.UUID, now: datetime) -> tuple[int, datetime | None]:
    """The user's inbox version and the earliest expiry after ``now`` (a lower bound of it).

    Within one version the rows are fixed, so what shows at ``now`` is every row expiring never or at or
    after that instant: the pair identifies the visible rows. The stored pair is used while ``now`` lies
    in the checked span; otherwise (an expiry passed, or never checked) one index scan finds it again.
    """
    state = repository.inbox_state(session, user_id)
    if state is not None and _checked_through(state.expiry_checked_at, state.next_expiry, now):
        return state.version, state.next_expiry
    version = state.version if state is not None else 0
    next_expiry = repository.next_expiry_after(session, user_id, now)
    repository.record_expiry_check(session, user_id, version, now, next_expiry)
    return version, next_expiry


def _checked_through(checked_at: datetime | None, next_expiry: datetime | None, now: datetime) -> bool:
    """Whether ``now`` lies in the span known to have no expiry: [checked_at, next_expiry)."""
    return checked_at is not None and checked_at <= now and (next_expiry is None or now < next_expiry)


def _inbox_etag(session: Session, user_id: uuid.UUID, now: datetime, view: str) -> str:
    """A strong ETag of what ``view`` shows the user at ``now``. The user id is part of it: a copy cached
    for one user never revalidates for another."""
    version, next_expiry = _inbox_version(session, user_id, now)
    expiry = next_expiry.isoformat() if next_expiry is not None else "never"
    material = "|".join((ETAG_FORMAT, str(user_id), str(version), expiry, view))
    return '"' + hashlib.sha256(material.encode()).hexdigest()[:32] + '"'


def _is_current(etag: str, known_etags: Collection[str]) -> bool:
    """If-None-Match: one of the caller's tags, or ``*`` (any current representation)."""
    return etag in known_etags or "*" in known_etags


def _list_view(filters: InboxFilters, limit: int) -> str:
    return (
        f"list|{filters.unread_only}|{filters.unseen_only}|{filters.archived}|{filters.priority}|"
        f"{filters.type}|{limit}"
    )


def list_page(ctx: Context, query: InboxQuery) -> Conditional[NotificationPage]:
    """A page of the inbox (or archive) newest first; the first page is tagged. The version is read
    before the rows, so a tag never claims rows newer than the body it comes with."""
    user_id, now, page = ctx.caller.user_id, ctx.clock.now(), query.page
    with ctx.uow() as session:
        first = page.skip == 0
        etag = _inbox_etag(session, user_id, now, _list_view(query.filters, page.limit)) if first else None
        if etag is not None and _is_current(etag, query.known_etags):
            return Conditional(etag, None)
        items, total, unread = repository.page(session, user_id, query.filters, now, page.skip, page.limit)
        body = NotificationPage.of(
            [NotificationOut.of(item) for item in items], total, page.skip, page.limit, unread_count=unread
        )
    return Conditional(etag, body)


def unread_count(ctx: Context, known_etags: Collection[str] = ()) -> Conditional[UnreadCount]:
    user_id, now = ctx.caller.user_id, ctx.clock.now()
    with ctx.uow() as session:
        etag = _inbox_etag(session, user_id, now, "unread-count")
        if _is_current(etag, known_etags):
            return Conditional(etag, None)
        unread, unseen = repository.badge_counts(session, user_id, now)
    return Conditional(etag, UnreadCount(unread_count=unread, unseen_count=unseen))


def stats(ctx: Context) -> NotificationStats:
    by_type: Counter[str] = Counter()
    by_priority: Counter[str] = Counter()
    unread = 0
    with ctx.uow() as session:
        counts = repository.counts_by_kind(session, ctx.caller.user_id, ctx.clock.now())
    for notification_type, priority, is_read, count in counts:
        by_type[notification_type] += count
        by_priority[priority] += count
        unread += 0 if is_read else count
    return NotificationStats(
        total=sum(by_type.values()),
        unread=unread,
        by_type=CountsByType.model_validate({kind.value: by_type[kind.value] for kind in NotificationType}),
        by_priority=CountsByPriority.model_validate(
            {level.value: by_priority[level.value] for level in NotificationPriority}
        ),
        urgent_count=by_priority.get(NotificationPriority.URGENT.value, 0),
    )


def _patch_values(body: NotificationUpdate, now: datetime) -> Mapping[str, Any]:
    values: dict[str, Any] = {}
    if body.is_read is not None:
        values.update(repository.transition(BulkAction.READ if body.is_read else BulkAction.UNREAD, now)[1])
    if body.is_archived is not None:
        archive = BulkAction.ARCHIVE if body.is_archived else BulkAction.UNARCHIVE
        values.update(repository.transition(archive, now)[1])
    return values


def update_notification(
    ctx: Context, notification_id: uuid.UUID, body: NotificationUpdate
) -> NotificationOut:
    now = ctx.clock.now()
    with ctx.uow() as session:
        values = _patch_values(body, now)
        updated = repository.update_one(session, ctx.caller.user_id, notification_id, now, values)
        return NotificationOut.of(found(updated, "notification"))


def delete_notification(ctx: Context, notification_id: uuid.UUID) -> None:
    with ctx.uow() as session:
        if not repository.delete_one(session, ctx.caller.user_id, notification_id, ctx.clock.now()):
            raise NotFound("notification")


def mark_all(ctx: Context, request: MarkAllRequest) -> MarkAllResult:
    """``read`` or ``seen`` over the inbox rows matching the filters that existed when the call began:
    rows created later (or not yet committed) are left as they are."""
    call_started_at = ctx.clock.now()
    with ctx.uow() as session:
        updated = repository.mark_all(
            session, ctx.caller.user_id, call_started_at, request.action, request.type, request.priority
        )
    message = f"{updated} notifications marked as {request.action.value}"
    return MarkAllResult(updated_count=updated, message=message)


def bulk(ctx: Context, request: BulkRequest) -> BulkResult:
    """``action`` on those of ``ids`` that are the caller's visible rows and that it changes; other ids
    (someone else's, expired, unknown) are neither touched nor counted."""
    with ctx.uow() as session:
        updated = repository.act_on_ids(
            session, ctx.caller.user_id, ctx.clock.now(), request.action, request.ids
        )
    return BulkResult(updated_count=updated)


def _instant_key(instant: datetime | date | None) -> str:
    return instant.isoformat() if instant is not None else "never"
