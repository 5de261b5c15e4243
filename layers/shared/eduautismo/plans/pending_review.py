"""The pending-review list (DESIGN §3, §4): its filters, the caller's scope and the query, in the page order.

Shared with the exports feature, so that a CSV/XLSX export lists exactly the plans the pending-review page
lists for the same caller and filters:

- ``PendingReviewFilters``: the validated filters (no pagination, no cache switch); ``PageRequest``:
  skip/limit/include_student.
- ``PendingReviewWindow(today, timezone)``: build it with ``plans.service.organization_window(...)``:
  ``today`` is always the organization's local date, never the server's.
- ``authorize_filters(principal, filters)``: 403 when a professional asks for someone else's plans
  (the queries below call it too).
- ``pending_review_query`` / ``count_pending_review``: the ordered statement and the total.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, ValidationInfo, field_validator
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from eduautismo.api.contract import DEFAULT_PAGE_LIMIT, BoundedDate
from eduautismo.api.model import ApiModel
from eduautismo.db.models import InterventionPlan, Student
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo.errors import Forbidden
from eduautismo.identity.principal import Principal
from eduautismo.settings import get_settings

# The contract's order: priority high -> low, then due date, then id (stable across pages).
ORDER = (InterventionPlan.priority_rank, InterventionPlan.next_review_due, InterventionPlan.id)


class PendingReviewFilters(ApiModel):
    """Filters of seed §3.3. ``date_from``/``date_to`` bound the plan's creation date (inclusive) in the
    organization's timezone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: Priority | None = None
    professional_id: uuid.UUID | None = None
    student_id: uuid.UUID | None = None
    review_frequency: ReviewFrequency | None = None
    date_from: BoundedDate | None = None
    date_to: BoundedDate | None = None
    overdue_only: bool = False

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("date_from")
        if value is not None and start is not None and value < start:
            raise ValueError("date_to must be on or after date_from")
        return value

    def cache_fingerprint(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class PageRequest:
    """Which slice of the list, and whether each item names its student."""

    skip: int = 0
    limit: int = DEFAULT_PAGE_LIMIT
    include_student: bool = False


@dataclass(frozen=True)
class PendingReviewWindow:
    """The organization's "today" and the dates derived from it."""

    today: date
    timezone: str

    @property
    def due_horizon(self) -> date:
        return self.today + timedelta(days=get_settings().review_due_soon_days)

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(self.timezone))


def authorize_filters(principal: Principal, filters: PendingReviewFilters) -> None:
    """A professional sees only their own plans: asking for another professional's is 403."""
    if (
        not principal.is_coordinator
        and filters.professional_id is not None
        and filters.professional_id != principal.user_id
    ):
        raise Forbidden("professionals can only list their own plans")


def plan_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """The plans a caller may see at all: their organization's; a professional only their own."""
    conditions = [InterventionPlan.organization_id == principal.organization_id]
    if not principal.is_coordinator:
        conditions.append(InterventionPlan.professional_id == principal.user_id)
    return conditions


def _conditions(
    principal: Principal, filters: PendingReviewFilters, window: PendingReviewWindow
) -> ColumnElement[bool]:
    authorize_filters(principal, filters)
    conditions = [
        *plan_scope(principal),
        InterventionPlan.status == PlanStatus.ACTIVE.value,
        InterventionPlan.next_review_due <= window.due_horizon,
    ]
    if filters.overdue_only:
        conditions.append(InterventionPlan.next_review_due < window.today)
    if filters.priority is not None:
        conditions.append(InterventionPlan.priority == filters.priority.value)
    if filters.professional_id is not None:
        conditions.append(InterventionPlan.professional_id == filters.professional_id)
    if filters.student_id is not None:
        conditions.append(InterventionPlan.student_id == filters.student_id)
    if filters.review_frequency is not None:
        conditions.append(InterventionPlan.review_frequency == filters.review_frequency.value)
    if filters.date_from is not None:
        conditions.append(InterventionPlan.created_at >= window.start_of(filters.date_from))
    if filters.date_to is not None:
        conditions.append(InterventionPlan.created_at < window.start_of(filters.date_to + timedelta(days=1)))
    return and_(*conditions)


def pending_review_query(
    principal: Principal, filters: PendingReviewFilters, window: PendingReviewWindow, include_student: bool
) -> Select[Any]:
    """The main query, ordered, without offset/limit (callers page it or stream it)."""
    statement: Select[Any] = select(InterventionPlan)
    if include_student:
        statement = statement.add_columns(Student.full_name).join(
            Student, Student.id == InterventionPlan.student_id
        )
    return statement.where(_conditions(principal, filters, window)).order_by(*ORDER)


def pending_review_count_query(
    principal: Principal, filters: PendingReviewFilters, window: PendingReviewWindow
) -> Select[int]:
    return select(func.count()).select_from(InterventionPlan).where(_conditions(principal, filters, window))


def count_pending_review(
    session: Session, principal: Principal, filters: PendingReviewFilters, window: PendingReviewWindow
) -> int:
    return int(session.scalar(pending_review_count_query(principal, filters, window)) or 0)
