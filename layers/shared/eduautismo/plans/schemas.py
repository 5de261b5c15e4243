"""Request and response models of the intervention plans API.

The pending-review list's filters (``PendingReviewFilters``) are shared with the exports feature, so that
a CSV/XLSX export lists exactly the plans the pending-review page lists for the same caller and filters.

Request models forbid unknown fields: a body that tries to set ``organization_id``, ``created_by_id``,
``next_review_due`` or ``last_reviewed_at`` is refused (422), never silently applied or ignored. Dates are
``BoundedDate``: the latest start date plus the longest interval (a quarter) stays far from ``date.max``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from eduautismo.api.contract import DEFAULT_PAGE_LIMIT, BoundedDate, Page, PartialUpdate, ShortText
from eduautismo.api.model import ApiModel
from eduautismo.cache.cached import dumps
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency, days_overdue
from eduautismo.errors import Forbidden
from eduautismo.identity.principal import Principal

Title = ShortText
Description = Annotated[str, StringConstraints(max_length=10_000)]
Notes = Annotated[str, StringConstraints(max_length=10_000)]


class RequestModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class PlanCreate(RequestModel):
    student_id: uuid.UUID
    professional_id: uuid.UUID | None = Field(
        default=None, description="Responsible professional; defaults to the caller. Coordinators only."
    )
    title: Title
    description: Description = ""
    status: PlanStatus = PlanStatus.ACTIVE
    priority: Priority = Priority.MEDIUM
    review_frequency: ReviewFrequency
    start_date: BoundedDate | None = Field(default=None, description="Defaults to today in the organization.")


class PlanUpdate(PartialUpdate):
    """Every field optional; nothing here may be cleared (null is refused)."""

    professional_id: uuid.UUID | None = None
    title: Title | None = None
    description: Description | None = None
    status: PlanStatus | None = None
    priority: Priority | None = None
    review_frequency: ReviewFrequency | None = None
    start_date: BoundedDate | None = None


class ReviewCreate(RequestModel):
    notes: Notes | None = None


class PendingReviewFilters(ApiModel):
    """The pending-review list's filters. ``date_from``/``date_to`` bound the plan's creation date
    (inclusive) in the organization's timezone."""

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

    def authorize(self, principal: Principal) -> None:
        """A professional sees only their own plans: asking for another professional's is 403."""
        if (
            not principal.is_coordinator
            and self.professional_id is not None
            and self.professional_id != principal.user_id
        ):
            raise Forbidden("professionals can only list their own plans")


@dataclass(frozen=True)
class PageRequest:
    """Which slice of the list, and whether each item names its student."""

    skip: int = 0
    limit: int = DEFAULT_PAGE_LIMIT
    include_student: bool = False


@dataclass(frozen=True)
class PendingReviewQuery:
    """GET /intervention-plans/pending-review: the filters, the page, and whether the cache may answer."""

    filters: PendingReviewFilters = field(default_factory=PendingReviewFilters)
    page: PageRequest = field(default_factory=PageRequest)
    use_cache: bool = True


# Every cached page of an organization lives under this namespace and its generation: one bump hides all.
PENDING_REVIEW_NAMESPACE = "pending-review"


def pending_review_namespace(organization_id: uuid.UUID) -> str:
    return f"{PENDING_REVIEW_NAMESPACE}:{organization_id}"


def pending_review_cache_key(
    principal: Principal,
    filters: PendingReviewFilters,
    today: date,
    generation: int,
    page: PageRequest,
) -> str:
    """Organization + generation + caller scope + local date + every parameter that shapes the page."""
    scope = "coordinator" if principal.is_coordinator else f"professional:{principal.user_id}"
    digest = hashlib.sha256(dumps([filters.cache_fingerprint(), asdict(page)]).encode()).hexdigest()[:40]
    return f"{pending_review_namespace(principal.organization_id)}:g{generation}:{scope}:{today}:{digest}"


class StudentRef(ApiModel):
    id: uuid.UUID
    full_name: str


class PlanOut(ApiModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    student_id: uuid.UUID
    professional_id: uuid.UUID
    created_by_id: uuid.UUID
    title: str
    description: str
    status: PlanStatus
    priority: Priority
    review_frequency: ReviewFrequency
    start_date: date
    last_reviewed_at: datetime | None
    next_review_due: date
    is_overdue: bool
    days_overdue: int
    created_at: datetime
    updated_at: datetime
    student: StudentRef | None = Field(
        default=None, description="The student {id, full_name} when the list was asked with include_student"
    )

    @classmethod
    def build(cls, plan: InterventionPlan, today: date, student_name: str | None = None) -> PlanOut:
        overdue = days_overdue(plan.next_review_due, today)
        return cls(
            id=plan.id,
            organization_id=plan.organization_id,
            student_id=plan.student_id,
            professional_id=plan.professional_id,
            created_by_id=plan.created_by_id,
            title=plan.title,
            description=plan.description,
            status=PlanStatus(plan.status),
            priority=Priority(plan.priority),
            review_frequency=ReviewFrequency(plan.review_frequency),
            start_date=plan.start_date,
            last_reviewed_at=plan.last_reviewed_at,
            next_review_due=plan.next_review_due,
            is_overdue=plan.next_review_due < today,
            days_overdue=overdue,
            created_at=plan.created_at,
            updated_at=plan.updated_at,
            student=None if student_name is None else StudentRef(id=plan.student_id, full_name=student_name),
        )


# One page of plans: ``{items, total, skip, limit, has_more}``.
PlanPage = Page[PlanOut]


class ReviewRecord(ApiModel):
    """One review of a plan's history."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    plan_id: uuid.UUID
    reviewer_id: uuid.UUID
    reviewed_at: datetime
    notes: str | None


class ReviewOut(ReviewRecord):
    """A review just recorded, with the plan as it is after the review (its new ``next_review_due``)."""

    plan: PlanOut
