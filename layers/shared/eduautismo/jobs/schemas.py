"""What the daily job takes and answers: its request, one organization's day, the run's summary, and the
scheduled event's time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from eduautismo.domain import NotificationType

REMINDER_TYPES = (NotificationType.REVIEW_DUE_SOON, NotificationType.REVIEW_OVERDUE)
# Counters the reminder statements answer besides the created rows of each type.
PLANS_SCANNED = "plans_scanned"
SUMMARISED = "summarised"
ALREADY_EXPIRED = "already_expired"


@dataclass(frozen=True, slots=True)
class DailyJobRequest:
    """One run over every organization. It carries nothing else: "now" is the context's clock, which the
    handler fixes to the scheduled event's time."""


@dataclass(frozen=True, slots=True)
class OrganizationDay:
    """One organization's reminders for its local ``today``."""

    organization_id: uuid.UUID
    today: date


@dataclass
class DailyJobSummary:
    organizations: int = 0
    plans_scanned: int = 0
    created_by_type: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in REMINDER_TYPES})
    # Created already past their expiry (a run for an event time long gone): they reach no inbox.
    already_expired: int = 0
    deleted: int = 0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "organizations": self.organizations,
            "plans_scanned": self.plans_scanned,
            "created_by_type": dict(self.created_by_type),
            "already_expired": self.already_expired,
            "deleted": self.deleted,
            "duration_ms": self.duration_ms,
        }


def event_time(event: dict[str, Any]) -> datetime:
    """The scheduled event's ``time`` (ISO 8601, UTC 'Z'); refusing to guess keeps reruns deterministic."""
    raw = event.get("time")
    if not isinstance(raw, str) or not raw:
        raise ValueError("scheduled event has no 'time'")
    instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise ValueError("scheduled event 'time' has no timezone")
    return instant.astimezone(UTC)
