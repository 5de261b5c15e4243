"""Request and response models of the exports API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, RootModel

from eduautismo.api.model import ApiModel
from eduautismo.domain import MAX_PAGE_OFFSET, ExportFormat
from eduautismo.exports.rows import MAX_EXPORT_ROWS
from eduautismo.plans.schemas import PendingReviewFilters


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
    """The query string of an XLSX export: the selection and the file's options."""

    include_student: bool = Field(default=False, description="Add the Aluno column (student's name)")
    redirect: bool = Field(default=False, description="303 to the download link instead of JSON")


class CsvExportQuery(ExportQuery):
    """The query string of a CSV export: an XLSX export's, and the delimiter (a sheet has none)."""

    delimiter: Literal[",", ";"] = Field(default=",", description="CSV delimiter; ; for pt-BR Excel")


class ExportSummary(ApiModel):
    """What an export with the same query would hold."""

    total: int = Field(ge=0)
    high_priority: int = Field(ge=0)
    medium_priority: int = Field(ge=0)
    low_priority: int = Field(ge=0)
    excel_available: bool = Field(description=f"false above {MAX_EXPORT_ROWS} rows (Excel's limit)")


class ExportLink(ApiModel):
    """A stored export: its presigned download link and what the file holds. Every export answers it:
    pending-review CSV/XLSX, the compliance report's XLSX, a student's data (JSON), a student's plan
    document (PDF). Tagged ``status: "succeeded"``, so a client tells it from an ``ExportAccepted`` by that
    field alone."""

    status: Literal["succeeded"]
    download_url: str = Field(
        description="Presigned (SigV4) link; a bearer credential, valid until expires_at"
    )
    expires_at: datetime
    filename: str = Field(
        description="planos_pendentes_YYYYMMDD_HHMMSS.csv|xlsx, conformidade_revisoes_YYYYMMDD_HHMMSS.xlsx, "
        "the student's data_*.json, or plano_intervencao_YYYYMMDD_HHMMSS.pdf"
    )
    content_type: str
    row_count: int = Field(
        ge=0,
        description=(
            "Plans in the file or the plan document; professionals in the report; records in a student's data"
        ),
    )
    size_bytes: int = Field(ge=0)


class ExportAccepted(ApiModel):
    """A large export handed to the worker; follow ``status_url`` (also the Location header)."""

    status: Literal["pending"]
    job_id: uuid.UUID
    status_url: str


class _ExportJob(ApiModel):
    job_id: uuid.UUID
    format: ExportFormat
    created_at: datetime


class ExportJobUnfinished(_ExportJob):
    """Waiting for the worker, or being written."""

    status: Literal["pending", "running"]


class ExportJobSucceeded(_ExportJob, ExportLink):
    """Done: the link to the file (minted anew on each ask)."""

    completed_at: datetime


class ExportJobFailed(_ExportJob):
    """Failed, or its file is no longer there."""

    status: Literal["failed"]
    completed_at: datetime | None
    error: str


class ExportJobStatus(
    RootModel[
        Annotated[ExportJobUnfinished | ExportJobSucceeded | ExportJobFailed, Field(discriminator="status")]
    ]
):
    """An export job, tagged by ``status``: a succeeded job's link fields are always there."""

    model_config = ConfigDict(defer_build=True)
