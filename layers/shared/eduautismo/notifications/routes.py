"""HTTP routes of the notifications function (seed §2.4 shapes). Every route acts on the caller's own rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict, StrictBool

from eduautismo.api.app import current_principal
from eduautismo.clock import Clock, SystemClock
from eduautismo.db.engine import session_scope
from eduautismo.db.models import Notification
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.notifications.service import NotificationFilters, NotificationService

router = APIGatewayHttpRouter()
clock: Clock = SystemClock()


class NotificationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_read: StrictBool


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def notification_json(notification: Notification) -> dict[str, Any]:
    return {
        "id": str(notification.id),
        "type": notification.type,
        "priority": notification.priority,
        "title": notification.title,
        "message": notification.message,
        "intervention_plan_id": str(notification.intervention_plan_id)
        if notification.intervention_plan_id
        else None,
        "is_read": notification.is_read,
        "read_at": _iso(notification.read_at),
        "action_url": notification.action_url,
        "created_at": _iso(notification.created_at),
        "expires_at": _iso(notification.expires_at),
    }


@router.get("/notifications", summary="The caller's notifications, newest first", tags=["notifications"])
def list_notifications(
    unread_only: bool = False,
    priority: NotificationPriority | None = None,
    type: NotificationType | None = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    principal = current_principal(router)
    filters = NotificationFilters(unread_only=unread_only, priority=priority, type=type)
    with session_scope() as session:
        page = NotificationService(session, clock).list_notifications(principal.user_id, filters, skip, limit)
        items = [notification_json(item) for item in page.items]
    return {
        "items": items,
        "total": page.total,
        "unread_count": page.unread_count,
        "skip": skip,
        "limit": limit,
        "has_more": page.has_more,
    }


@router.get("/notifications/unread-count", summary="How many unread notifications", tags=["notifications"])
def unread_count() -> dict[str, Any]:
    principal = current_principal(router)
    with session_scope() as session:
        return {"unread_count": NotificationService(session, clock).unread_count(principal.user_id)}


@router.get("/notifications/stats", summary="Counts by type and priority", tags=["notifications"])
def notification_stats() -> dict[str, Any]:
    principal = current_principal(router)
    with session_scope() as session:
        stats = NotificationService(session, clock).stats(principal.user_id)
    return {
        "total": stats.total,
        "unread": stats.unread,
        "by_type": stats.by_type,
        "by_priority": stats.by_priority,
        "urgent_count": stats.urgent_count,
    }


@router.post(
    "/notifications/mark-all-read", summary="Mark every unread notification read", tags=["notifications"]
)
def mark_all_read() -> dict[str, Any]:
    call_started_at = clock.now()
    principal = current_principal(router)
    with session_scope() as session:
        updated = NotificationService(session, clock).mark_all_read(principal.user_id, call_started_at)
    return {"updated_count": updated, "message": f"{updated} notifications marked as read"}


@router.patch(
    "/notifications/<notification_id>", summary="Mark one notification read or unread", tags=["notifications"]
)
def update_notification(notification_id: uuid.UUID, body: NotificationUpdate) -> dict[str, Any]:
    principal = current_principal(router)
    with session_scope() as session:
        notification = NotificationService(session, clock).set_read(
            principal.user_id, notification_id, body.is_read
        )
        return notification_json(notification)


@router.delete("/notifications/<notification_id>", summary="Dismiss one notification", tags=["notifications"])
def dismiss_notification(notification_id: uuid.UUID) -> Response[None]:
    principal = current_principal(router)
    with session_scope() as session:
        NotificationService(session, clock).dismiss(principal.user_id, notification_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body=None)
