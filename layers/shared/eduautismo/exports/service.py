"""Use cases of exports: summary, export (inline or handed to the worker), the worker's run, job status;
each ``verb(ctx, request)`` (docs/ARCHITECTURE.md), every file through the one pipeline of ``delivery``.

Every export leaves an ``export_jobs`` row (who, when, which filters, how many rows, outcome): it is the
audit trail of exports of children's data and the count behind the daily quota.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eduautismo.cache.cached import cached
from eduautismo.context import Context
from eduautismo.db.models import ExportJob
from eduautismo.domain import ExportFormat, ExportStatus, Priority
from eduautismo.errors import AppError, InvalidInput, NotFound
from eduautismo.exports import delivery, repository
from eduautismo.exports.copy_csv import copy_csv
from eduautismo.exports.dispatch import ExportDispatcher
from eduautismo.exports.labels import describe_filters
from eduautismo.exports.repository import PendingRows, csv_query
from eduautismo.exports.rows import MAX_EXPORT_ROWS, RowFormatter
from eduautismo.exports.schemas import (
    ExportAccepted,
    ExportJobFailed,
    ExportJobStatus,
    ExportJobSucceeded,
    ExportJobUnfinished,
    ExportLink,
    ExportSummary,
    RowRange,
)
from eduautismo.exports.storage import CONTENT_TYPES
from eduautismo.exports.writers import Delimiter, SummaryInfo, write_xlsx
from eduautismo.observability import logger, record_export
from eduautismo.organizations import service as organizations
from eduautismo.organizations.schemas import LocalDay
from eduautismo.plans.schemas import PendingReviewFilters, pending_review_namespace

JOB_STATUS_PATH = "/api/v1/export/jobs/{job_id}"
# A worker killed by its timeout or memory limit cannot mark its job failed. Past Lambda's asynchronous
# queue (MaximumEventAgeInSeconds 3600) plus the worker's timeout (900 s), an unfinished job never will.
STALE_JOB_AFTER = timedelta(seconds=3600 + 900 + 300)


@dataclass(frozen=True)
class ExportRequest:
    export_format: ExportFormat
    filters: PendingReviewFilters
    include_student: bool = False
    delimiter: Delimiter = ","
    row_range: RowRange = field(default_factory=RowRange)

    def audit_json(self) -> dict[str, Any]:
        """What the audit row records about the request (the worker rebuilds the request from it)."""
        return {
            "filters": self.filters.model_dump(mode="json", exclude_defaults=True),
            "include_student": self.include_student,
            "delimiter": self.delimiter,
            "skip": self.row_range.skip,
            "limit": self.row_range.limit,
        }

    @classmethod
    def from_job(cls, job: ExportJob) -> ExportRequest:
        return cls(
            export_format=ExportFormat(job.format),
            filters=PendingReviewFilters.model_validate(job.filters["filters"]),
            include_student=bool(job.filters["include_student"]),
            delimiter=job.filters["delimiter"],
            # Jobs recorded before exports took skip/limit held the whole list.
            row_range=RowRange(skip=job.filters.get("skip", 0), limit=job.filters.get("limit")),
        )


def _export_filename(export_format: ExportFormat, local_now: datetime) -> str:
    return f"planos_pendentes_{local_now:%Y%m%d_%H%M%S}.{export_format.value}"


def _pending_review_of_caller(ctx: Context) -> str:
    return pending_review_namespace(ctx.caller.organization_id)


# The counts are the pending-review list's, in the caller's scope, at the organization's local day: they
# change exactly when the list does, so they are cached under the list's generation, which every write
# that shows in the list bumps (plans.service.invalidate_pending_review), and for as long as its pages.
@cached(
    ttl=lambda settings: settings.pending_review_cache_ttl,
    key_prefix="export-summary",
    generation_of=_pending_review_of_caller,
)
def _counts_by_priority(
    ctx: Context, filters: PendingReviewFilters, day: LocalDay, row_range: RowRange
) -> dict[str, int]:
    """Rows by stored priority (JSON: the cached form)."""
    with ctx.uow() as session:
        counts = PendingRows(session, ctx.caller, filters, day, row_range).count_by_priority()
    return {priority.value: count for priority, count in counts.items()}


def summary(ctx: Context, filters: PendingReviewFilters, row_range: RowRange = RowRange()) -> ExportSummary:
    """What an export with these filters and range would hold (cached per caller, see above)."""
    principal = ctx.caller
    filters.authorize(principal)
    day = organizations.local_day(ctx, principal.organization_id)
    counts = _counts_by_priority(ctx, filters, day, row_range)
    total = sum(counts.values())
    return ExportSummary(
        total=total,
        high_priority=counts[Priority.HIGH.value],
        medium_priority=counts[Priority.MEDIUM.value],
        low_priority=counts[Priority.LOW.value],
        excel_available=total <= MAX_EXPORT_ROWS,
    )


def start(ctx: Context, request: ExportRequest, dispatcher: ExportDispatcher) -> ExportLink | ExportAccepted:
    """Record the export (after the quota check); run it now when small, else hand it to the worker."""
    principal = ctx.caller
    request.filters.authorize(principal)
    day = organizations.local_day(ctx, principal.organization_id)
    with ctx.uow() as session:
        delivery.claim_quota(ctx, session, day.timezone)
        total = PendingRows(session, principal, request.filters, day, request.row_range).count()
        if total > MAX_EXPORT_ROWS:
            raise InvalidInput.for_field(
                "limit",
                f"{total} rows exceed the {MAX_EXPORT_ROWS} an export can hold; narrow the filters "
                "or pass skip and limit",
            )
        inline = total <= ctx.settings.export_sync_max_rows
        if not inline:
            now = ctx.clock.now()
            repository.enforce_one_asynchronous_export(session, principal.user_id, now - STALE_JOB_AFTER)
        job_id = delivery.record_job(
            ctx,
            session,
            request.export_format,
            request.audit_json(),
            ExportStatus.RUNNING if inline else ExportStatus.PENDING,
            asynchronous=not inline,
        )
    logger.info(
        "export requested",
        extra={"job_id": str(job_id), "format": request.export_format.value, "rows": total, "inline": inline},
    )
    if inline:
        return _produce(ctx, job_id, request, day.timezone)
    try:
        dispatcher.dispatch(job_id)
    except AppError as exc:
        delivery.record_failure(ctx, job_id, exc)
        raise
    return ExportAccepted(status="pending", job_id=job_id, status_url=JOB_STATUS_PATH.format(job_id=job_id))


def run_job(ctx: Context, job_id: uuid.UUID) -> ExportStatus | None:
    """The worker's entry (a context without a caller): produce a pending job once, with the scope its
    requester had. None when there was nothing to do (a duplicate delivery finds the job claimed)."""
    with ctx.uow() as session:
        job = repository.claim_pending(session, job_id)
        if job is None:
            logger.info("export job not pending, skipped", extra={"job_id": str(job_id)})
            return None
        requester = repository.job_requester(session, job)
        request = ExportRequest.from_job(job)
    timezone = organizations.timezone(ctx, requester.organization_id)
    try:
        _produce(dataclasses.replace(ctx, principal=requester), job_id, request, timezone)
    except Exception:
        return ExportStatus.FAILED
    return ExportStatus.SUCCEEDED


def _produce(ctx: Context, job_id: uuid.UUID, request: ExportRequest, timezone: str) -> ExportLink:
    """Write the rows, store the file, and record the outcome; any failure marks the job failed.
    A produced export is measured: ``export_generation_time`` (ms, query to link), ``export_rows``."""
    started = time.perf_counter()
    with delivery.failure_recorded(ctx, job_id):
        local_now = ctx.clock.now().astimezone(ZoneInfo(timezone))
        filename = _export_filename(request.export_format, local_now)
        day = LocalDay.at(local_now, timezone, ctx.settings.review_due_soon_days)
        if request.export_format is ExportFormat.CSV:
            link = _copy_csv(ctx, job_id, request, day, filename)
        else:
            writer = _xlsx_writer(ctx, request, day, local_now)
            link = delivery.write_and_store(ctx, job_id, request.export_format, filename, writer)
    record_export((time.perf_counter() - started) * 1000, link.row_count)
    return link


def _copy_csv(
    ctx: Context, job_id: uuid.UUID, request: ExportRequest, day: LocalDay, filename: str
) -> ExportLink:
    """PostgreSQL writes the CSV (COPY), streamed into S3 as it comes: no file, bounded memory."""
    query = csv_query(ctx.caller, request.filters, day, request.include_student, request.row_range)
    with ctx.uow() as session, ctx.storage.streamed_upload(ExportFormat.CSV, filename) as upload:
        row_count = copy_csv(session, query, request.delimiter, upload)
    return delivery.record_stored(
        ctx, job_id, upload.key, ExportFormat.CSV, filename, row_count, upload.size_bytes
    )


def _xlsx_writer(
    ctx: Context, request: ExportRequest, day: LocalDay, local_now: datetime
) -> delivery.FileWriter:
    formatter = RowFormatter(day.timezone, request.include_student)
    info = SummaryInfo(
        filters=describe_filters(request.filters),
        exported_at=f"{local_now:%d/%m/%Y %H:%M} ({day.timezone})",
    )

    def write(path: Path) -> int:
        with ctx.uow() as session:
            source = PendingRows(session, ctx.caller, request.filters, day, request.row_range)
            return write_xlsx(source.rows(request.include_student), path, formatter, info).total

    return write


def job_status(ctx: Context, job_id: uuid.UUID) -> ExportJobStatus:
    """The requester's job, while their scope now covers the one it was made with. A link is minted only
    within ``EXPORT_RELINK_WINDOW_SECONDS`` of its success and never for an expired job (its file was
    deleted with erased data): otherwise the job is answered as missing."""
    principal = ctx.caller
    now = ctx.clock.now()
    with ctx.uow() as session:
        job = repository.requester_job(session, job_id, principal.user_id, principal.organization_id)
        if (
            job is None
            or job.status == ExportStatus.EXPIRED.value
            or not repository.scope_covers(principal.role, job)
        ):
            raise NotFound("export job")
        unfinished = job.status in (ExportStatus.PENDING.value, ExportStatus.RUNNING.value)
        if unfinished and now - job.created_at > STALE_JOB_AFTER:
            repository.mark_failed(session, job.id, "the export worker did not finish", now)
            session.refresh(job)
    common = {"job_id": job.id, "format": ExportFormat(job.format), "created_at": job.created_at}
    if job.status == ExportStatus.SUCCEEDED.value:
        return ExportJobStatus(
            ExportJobSucceeded(**common, **_relink(ctx, job, now).model_dump(), completed_at=job.completed_at)
        )
    if job.status in (ExportStatus.PENDING.value, ExportStatus.RUNNING.value):
        return ExportJobStatus(ExportJobUnfinished(**common, status=job.status))
    return ExportJobStatus(
        ExportJobFailed(
            **common, status="failed", completed_at=job.completed_at, error=job.error or "the export failed"
        )
    )


def _relink(ctx: Context, job: ExportJob, now: datetime) -> ExportLink:
    window = timedelta(seconds=ctx.settings.export_relink_window_seconds)
    if not (job.s3_key and job.filename and job.completed_at) or now - job.completed_at > window:
        raise NotFound("export job")
    link = ctx.storage.link(job.s3_key, now)
    return ExportLink(
        status="succeeded",
        download_url=link.url,
        expires_at=link.expires_at,
        filename=job.filename,
        content_type=CONTENT_TYPES[ExportFormat(job.format)],
        row_count=job.row_count or 0,
        size_bytes=job.size_bytes or 0,
    )
