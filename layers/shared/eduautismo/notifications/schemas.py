"""Request and response models of the notifications API (the inbox states: see ``service``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool

from eduautismo.api.contract import Page, PageQuery, PartialUpdate
from eduautismo.api.model import ApiModel
from eduautismo.db.models import Notification
from eduautismo.domain import NotificationPriority, NotificationType

MAX_BULK_IDS = 200


class NotificationOut(ApiModel):
    """One notification: the seed's fields, plus the inbox states (read implies seen)."""

    id: uuid.UUID
    type: NotificationType
    priority: NotificationPriority
    title: str
    message: str
    intervention_plan_id: uuid.UUID | None
    is_read: bool
    read_at: datetime | None
    is_seen: bool
    seen_at: datetime | None = Field(description="When first seen (or read, which implies seen)")
    is_archived: bool
    archived_at: datetime | None
    action_url: str | None
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> NotificationOut:
        return cls(
            id=row.id,
            type=NotificationType(row.type),
            priority=NotificationPriority(row.priority),
            title=row.title,
            message=row.message,
            intervention_plan_id=row.intervention_plan_id,
            is_read=row.is_read,
            read_at=row.read_at,
            is_seen=row.is_seen,
            seen_at=row.first_seen_at,
            is_archived=row.is_archived,
            archived_at=row.archived_at,
            action_url=row.action_url,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


class NotificationPage(Page[NotificationOut]):
    """One page of the inbox; ``unread_count`` is the caller's whole badge, whatever the filters."""

    unread_count: int = Field(ge=0)


class UnreadCount(ApiModel):
    unread_count: int = Field(ge=0, description="Unread, unarchived, unexpired notifications")
    unseen_count: int = Field(ge=0, description="Of those, the ones never seen (the badge)")


Count = Annotated[int, Field(ge=0)]


class CountsByType(ApiModel):
    """A count per notification type, every type present (zeros included): a client reads
    ``by_type.review_overdue`` without guarding for a missing key. Keys: ``NotificationType``."""

    review_overdue: Count
    review_due_soon: Count
    plan_created: Count
    plan_updated: Count
    plan_reviewed: Count
    high_priority: Count
    system: Count


class CountsByPriority(ApiModel):
    """A count per priority, every one present (zeros included). Keys: ``NotificationPriority``."""

    low: Count
    medium: Count
    high: Count
    urgent: Count


class NotificationStats(ApiModel):
    """Stats over the caller's unarchived, unexpired notifications."""

    total: int = Field(ge=0)
    unread: int = Field(ge=0)
    by_type: CountsByType
    by_priority: CountsByPriority
    urgent_count: int = Field(ge=0)


class MarkAllResult(ApiModel):
    updated_count: int = Field(ge=0)
    message: str


class BulkResult(ApiModel):
    updated_count: int = Field(ge=0, description="The caller's notifications this call changed")


class BulkAction(StrEnum):
    READ = "read"
    UNREAD = "unread"
    SEEN = "seen"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"
    DELETE = "delete"


class NotificationUpdate(PartialUpdate):
    """PATCH body: at least one field, never null; unknown fields are refused."""

    min_fields = 1

    is_read: StrictBool | None = None
    is_archived: StrictBool | None = None


class BulkRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_BULK_IDS)]
    action: BulkAction


@dataclass(frozen=True)
class InboxFilters:
    """What a list shows; ``archived`` picks the archive instead of the inbox."""

    unread_only: bool = False
    unseen_only: bool = False
    archived: bool = False
    priority: NotificationPriority | None = None
    type: NotificationType | None = None


@dataclass(frozen=True)
class InboxQuery:
    """GET /notifications: filters, page, and the ETags of the copies the caller holds."""

    filters: InboxFilters = field(default_factory=InboxFilters)
    page: PageQuery = field(default_factory=PageQuery)
    known_etags: Collection[str] = ()


@dataclass(frozen=True)
class MarkAllRequest:
    """POST /notifications/mark-all-read|seen: the action, and the kind of rows it covers."""

    action: BulkAction
    type: NotificationType | None = None
    priority: NotificationPriority | None = None
