"""Request and response models of the review compliance report."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import ConfigDict, Field

from eduautismo.api.contract import BoundedDate
from eduautismo.api.model import ApiModel

# "The last 90 days up to today": today and the 89 days before it.
DEFAULT_PERIOD_DAYS = 90


class ComplianceQuery(ApiModel):
    """The period asked for, inclusive, in the organization's timezone (None: the default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date_from: BoundedDate | None = None
    date_to: BoundedDate | None = None


class CompliancePeriod(ApiModel):
    date_from: date
    date_to: date
    timezone: str = Field(description="The organization's IANA timezone: every date above is local to it")


class ComplianceCounters(ApiModel):
    """The counters of one professional, or of the caller's whole scope (``totals``)."""

    active_plans: int = Field(ge=0)
    overdue_now: int = Field(ge=0, description="Active plans due before today")
    due_soon: int = Field(ge=0, description="Active plans due today … today + REVIEW_DUE_SOON_DAYS")
    reviews_in_period: int = Field(ge=0, description="Reviews recorded on a local date within the period")
    on_time_reviews: int = Field(ge=0, description="Reviews recorded on or before the due date in force")
    late_reviews: int = Field(ge=0)
    on_time_rate: float | None = Field(
        ge=0, le=1, description="on_time_reviews / reviews_in_period, 4 decimals; null when no review"
    )
    average_days_late: float | None = Field(
        ge=0, description="Mean days past the due date of the late reviews, 2 decimals; null when none"
    )


class ResponsibleProfessional(ApiModel):
    professional_id: uuid.UUID
    professional_name: str


class ComplianceItem(ComplianceCounters, ResponsibleProfessional):
    """One responsible professional's counters (the professional's fields come first)."""


class ComplianceReport(ApiModel):
    period: CompliancePeriod
    totals: ComplianceCounters
    items: list[ComplianceItem] = Field(description="One per responsible professional, by name then id")
