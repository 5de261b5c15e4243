"""The vocabulary and review rules shared by every feature."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "America/Sao_Paulo"
# Largest `skip` a list accepts: far beyond any real list, and inside PostgreSQL's bigint OFFSET
# (a larger value would reach the database and fail there as a 500).
MAX_PAGE_OFFSET = 1_000_000

# Every date the API takes lies in this range: far from date.max, so adding a review interval
# or a day to it can never overflow into a 500.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)


class Role(StrEnum):
    COORDINATOR = "coordinator"
    PROFESSIONAL = "professional"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# Pending-review order is high -> low; the plans table stores this rank as a generated column.
PRIORITY_RANK: dict[Priority, int] = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


class ReviewFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class NotificationType(StrEnum):
    REVIEW_OVERDUE = "review_overdue"
    REVIEW_DUE_SOON = "review_due_soon"
    PLAN_CREATED = "plan_created"
    PLAN_UPDATED = "plan_updated"
    PLAN_REVIEWED = "plan_reviewed"
    HIGH_PRIORITY = "high_priority"
    SYSTEM = "system"


class NotificationPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"  # a student's data export (LGPD access and portability)
    PDF = "pdf"  # a student's plan document


class ExportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Its file was deleted because data it may hold was erased: never linked again.
    EXPIRED = "expired"


class UserStatus(StrEnum):
    """Whether Cognito lets the user act (a disabled or deleted account is ``disabled``)."""

    ACTIVE = "active"
    DISABLED = "disabled"


_DAY_INTERVALS = {ReviewFrequency.DAILY: 1, ReviewFrequency.WEEKLY: 7, ReviewFrequency.BIWEEKLY: 14}
_MONTH_INTERVALS = {ReviewFrequency.MONTHLY: 1, ReviewFrequency.QUARTERLY: 3}


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the last day of a shorter month (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_interval(frequency: ReviewFrequency) -> tuple[int, int]:
    """The interval of a frequency as (calendar months, days); the report's SQL states the same rule."""
    return _MONTH_INTERVALS.get(frequency, 0), _DAY_INTERVALS.get(frequency, 0)


def next_review_due(
    frequency: ReviewFrequency, start_date: date, last_reviewed_at: datetime | None, timezone: str
) -> date:
    """(Date of last review in the org's timezone, else start date) + the frequency's interval."""
    base = last_reviewed_at.astimezone(ZoneInfo(timezone)).date() if last_reviewed_at else start_date
    if frequency in _DAY_INTERVALS:
        return base + timedelta(days=_DAY_INTERVALS[frequency])
    return add_months(base, _MONTH_INTERVALS[frequency])


def days_overdue(due: date, today: date) -> int:
    return max((today - due).days, 0)


def age_in_years(birth_date: date, today: date) -> int | None:
    """Whole years; None for a birth date after today."""
    if birth_date > today:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
