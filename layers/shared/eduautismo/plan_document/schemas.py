"""The plan document's request and its content, as the PDF lays it out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from eduautismo.domain import PlanStatus, Priority, ReviewFrequency

# The newest reviews a plan lists; older ones are counted in one line ("e mais N revisões").
REVIEWS_SHOWN = 50
# The chart covers the current month and the 11 before it.
CHART_MONTHS = 12


@dataclass(frozen=True)
class PlanDocumentRequest:
    """What a plan document is asked for: whose plans, and whether archived plans are listed."""

    student_id: uuid.UUID
    include_archived: bool = False


@dataclass(frozen=True)
class ReviewLine:
    reviewed_on: date  # local date, organization timezone
    reviewer_name: str
    notes: str | None


@dataclass(frozen=True)
class PlanSection:
    title: str
    description: str | None
    status: PlanStatus
    priority: Priority
    review_frequency: ReviewFrequency
    start_date: date
    professional_name: str
    next_review_due: date
    days_overdue: int  # 0 unless the plan is active and due before today
    reviews: list[ReviewLine]  # newest first, at most REVIEWS_SHOWN
    more_reviews: int  # reviews older than those listed


@dataclass(frozen=True)
class MonthCount:
    """Reviews of one calendar month graded by the compliance report's on-time rule."""

    month: date  # its first day
    on_time: int
    late: int


@dataclass(frozen=True)
class PlanDocument:
    organization_name: str
    student_name: str
    birth_date: date | None
    age_years: int | None
    generated_at: datetime  # organization-local
    timezone: str
    plans: list[PlanSection]
    months: list[MonthCount]  # CHART_MONTHS, oldest first
