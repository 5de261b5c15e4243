"""Request and response models of the exports API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, NonNegativeInt
from pydantic.json_schema import SkipJsonSchema

from eduautismo.api.model import ApiModel
from eduautismo.domain import MAX_PAGE_OFFSET, ExportFormat, ExportStatus
from eduautismo.exports.rows import MAX_EXPORT_ROWS
from eduautismo.plans.schemas import PendingReviewFilters

T = TypeVar("T")


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


# A key the body leaves out when it does not apply: documented as its type (optional), never as null.
Absent = Annotated[
    T | SkipJsonSchema[None],
    Field(exclude_if=lambda value: value is None, json_schema_extra=_without_default),
]


@dataclass(frozen=True)
class RowRange:
    """Which part of the matching list an export holds : ``skip`` rows left out, then at most
    ``limit`` rows; without a limit, all the rest."""

    skip: int = 0
    limit: int | None = None

    @property
    def is_whole_list(self) -> bool:
        return self.skip == 0 and self.limit is None

    def rows_of(self, matching: int) -> int:
        """How many of ``matching`` rows the range holds."""
        remaining = max(matching - self.skip, 0)
        return remaining if self.limit is None else min(remaining, self.limit)


class ExportSelection(PendingReviewFilters):
    """Which plans an export holds: the pending-review filters, then ``skip``/``limit`` over the list in
    its order (priority, due date, id), as the seed's front end sends them (``limit=1000``)."""

    skip: int = Field(
        default=0, ge=0, le=MAX_PAGE_OFFSET, description="Leave out the first `skip` matching plans"
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPORT_ROWS,
        description=(
            f"At most this many plans (1-{MAX_EXPORT_ROWS}); without it every matching plan, "
            f"refused (422) when they are more than {MAX_EXPORT_ROWS}"
        ),
    )

    def filters(self) -> PendingReviewFilters:
        return PendingReviewFilters.model_validate(
            self.model_dump(include=set(PendingReviewFilters.model_fields))
        )

    def row_range(self) -> RowRange:
        return RowRange(skip=self.skip, limit=self.limit)


class ExportQuery(ExportSelection):
    """The query string of a CSV or XLSX export: the selection and the file's options."""

    include_student: bool = Field(default=False, description="Add the Aluno column (student's name)")
    delimiter: Literal[",", ";"] = Field(default=",", description="CSV delimiter; ; for pt-BR Excel")
    redirect: bool = Field(default=False, description="303 to the download link instead of JSON")


class ExportSummary(ApiModel):
    """What an export with the same query would hold."""

    total: int = Field(ge=0)
    high_priority: int = Field(ge=0)
    medium_priority: int = Field(ge=0)
    low_priority: int = Field(ge=0)
    excel_available: bool = Field(description=f"false above {MAX_EXPORT_ROWS} rows (Excel's limit)")


class ExportLink(ApiModel):
    """A stored export: its presigned download link and what the file holds. Every export
    answers it: pending-review CSV/XLSX, the compliance report's XLSX, a student's data (JSON)."""

    download_url: str = Field(
        description="Presigned (SigV4) link; a bearer credential, valid until expires_at"
    )
    expires_at: datetime
    filename: str = Field(
        description="planos_pendentes_YYYYMMDD_HHMMSS.csv|xlsx, conformidade_revisoes_YYYYMMDD_HHMMSS.xlsx, "
        "or the student's data_*.json"
    )
    content_type: str
    row_count: int = Field(
        ge=0, description="Plans in the file; professionals in the report; records in a student's data"
    )
    size_bytes: int = Field(ge=0)


class ExportAccepted(ApiModel):
    """A large export handed to the worker; follow ``status_url`` (also the Location header)."""

    job_id: uuid.UUID
    status: Literal["pending"] = "pending"
    status_url: str


class ExportJobStatus(ApiModel):
    """An export job. The link's fields are there once it succeeded, ``error`` once it failed; otherwise
    those keys are absent (never null)."""

    job_id: uuid.UUID
    status: ExportStatus
    format: ExportFormat
    created_at: datetime
    completed_at: datetime | None
    download_url: Absent[str] = None
    expires_at: Absent[datetime] = None
    filename: Absent[str] = None
    content_type: Absent[str] = None
    row_count: Absent[NonNegativeInt] = None
    size_bytes: Absent[NonNegativeInt] = None
    error: Absent[str] = None
