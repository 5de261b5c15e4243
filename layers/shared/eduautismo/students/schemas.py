"""Request and response models of the students API, and the document of a student's data export.

Request models forbid unknown fields (422): a body can never set ``organization_id`` or ``created_at``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from eduautismo.api.contract import BoundedDate, PartialUpdate, ShortText
from eduautismo.api.model import ApiModel
from eduautismo.domain import ExportFormat, ExportStatus, NotificationPriority, NotificationType
from eduautismo.plans.schemas import PlanOut, ReviewRecord

FullName = ShortText


class StudentCreate(ApiModel):
    model_config = ConfigDict(extra="forbid")

    full_name: FullName
    birth_date: BoundedDate | None = None


class StudentUpdate(PartialUpdate):
    """A correction (LGPD Art. 18, III): only the fields sent change. ``birth_date`` may be cleared with
    null (it is optional); ``full_name`` may not."""

    clearable = frozenset({"birth_date"})

    full_name: FullName | None = None
    birth_date: BoundedDate | None = Field(default=None, description="null clears the birth date")


class StudentOut(ApiModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    full_name: str
    birth_date: date | None
    created_at: datetime


# ---- the data export document (stored in S3, not an HTTP body) ----


class PlanRecord(PlanOut):
    """A plan as the API shows it (overdue state as of the export's day), with its review history."""

    student: SkipJsonSchema[None] = Field(default=None, exclude=True)  # the document's student is the one
    reviews: list[ReviewRecord]


class NotificationRecord(ApiModel):
    """A notification about one of the student's plans; the recipient by id only (no other person's
    name or e-mail)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    intervention_plan_id: uuid.UUID
    user_id: uuid.UUID
    type: NotificationType
    priority: NotificationPriority
    title: str
    message: str
    is_read: bool
    read_at: datetime | None
    created_at: datetime
    expires_at: datetime | None


ExportMatch = Literal["student_filter", "organization_scope"]


class ExportJobRecord(ApiModel):
    """An export that included, or may have included, the student's rows (see ``match``)."""

    id: uuid.UUID
    user_id: uuid.UUID
    format: ExportFormat
    status: ExportStatus
    filters: dict[str, Any]
    row_count: int | None
    created_at: datetime
    completed_at: datetime | None
    match: ExportMatch = Field(
        description=(
            "student_filter: the export named this student (a student_id filter, or this student's data "
            "export). organization_scope: an export of the organization without a student filter, "
            "made while the student existed; it held the student's plans only if they were pending "
            "review and in the requester's scope at that moment (export files record filters, not rows)."
        )
    )


class StudentDataDocument(ApiModel):
    """Everything the system holds about one student (LGPD Art. 18, II and V)."""

    generated_at: datetime
    organization_id: uuid.UUID
    student: StudentOut
    plans: list[PlanRecord]
    notifications: list[NotificationRecord]
    export_jobs: list[ExportJobRecord]

    @property
    def record_count(self) -> int:
        reviews = sum(len(plan.reviews) for plan in self.plans)
        return 1 + len(self.plans) + reviews + len(self.notifications) + len(self.export_jobs)
