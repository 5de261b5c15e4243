"""Use cases of exports: summary, export (inline or handed to the worker), the worker's run, job status.

Every export leaves an ``export_jobs`` row (who, when, which filters, how many rows, outcome): it is the
audit trail of exports of children's data and the count behind the daily quota.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from eduautismo.clock import Clock
from eduautismo.db.engine import SessionScope
from eduautismo.db.models import ExportJob, User
from eduautismo.domain import ExportFormat, ExportStatus, Priority
from eduautismo.errors import AppError, InvalidInput, NotFound
from eduautismo.exports import audit, delivery
from eduautismo.exports.copy_csv import copy_csv, csv_query
from eduautismo.exports.dispatch import ExportDispatcher
from eduautismo.exports.labels import FREQUENCY_LABELS, PRIORITY_LABELS
from eduautismo.exports.rows import MAX_EXPORT_ROWS, RowFormatter
from eduautismo.exports.schemas import ExportAccepted, ExportJobStatus, ExportLink, ExportSummary
from eduautismo.exports.source import PendingRows, RowRange
from eduautismo.exports.storage import CONTENT_TYPES, ExportStorage
from eduautismo.exports.writers import Delimiter, SummaryInfo, write_xlsx
from eduautismo.identity.principal import Principal
from eduautismo.observability import logger, record_export
from eduautismo.plans.pending_review import PendingReviewFilters, PendingReviewWindow, authorize_filters
from eduautismo.plans.service import organization_timezone, organization_window
from eduautismo.settings import get_settings

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


def describe_filters(filters: PendingReviewFilters) -> list[tuple[str, str]]:
    """The filters actually set, labelled in pt-BR for the summary sheet."""
    shown: list[tuple[str, str]] = []
    if filters.priority:
        shown.append(("Prioridade", PRIORITY_LABELS[filters.priority]))
    if filters.professional_id:
        shown.append(("Profissional (ID)", str(filters.professional_id)))
    if filters.student_id:
        shown.append(("Aluno (ID)", str(filters.student_id)))
    if filters.review_frequency:
        shown.append(("Frequência de revisão", FREQUENCY_LABELS[filters.review_frequency]))
    if filters.date_from:
        shown.append(("Criado a partir de", filters.date_from.strftime("%d/%m/%Y")))
    if filters.date_to:
        shown.append(("Criado até", filters.date_to.strftime("%d/%m/%Y")))
    if filters.overdue_only:
        shown.append(("Apenas atrasados", "Sim"))
    return shown


def export_filename(export_format: ExportFormat, local_now: datetime) -> str:
    return f"planos_pendentes_{local_now:%Y%m%d_%H%M%S}.{export_format.value}"


class ExportService:
    def __init__(
        self,
        session_scope: SessionScope,
        storage: ExportStorage,
        clock: Clock,
    ) -> None:
        self.session_scope = session_scope
        self.storage = storage
        self.clock = clock

    def summary(
        self, principal: Principal, filters: PendingReviewFilters, row_range: RowRange = RowRange()
    ) -> ExportSummary:
        """Seed §4.3: what an export with these filters and range would hold."""
        authorize_filters(principal, filters)
        window = organization_window(self.session_scope, principal, self.clock)
        with self.session_scope() as session:
            counts = PendingRows(session, principal, filters, window, row_range).count_by_priority()
        total = sum(counts.values())
        return ExportSummary(
            total=total,
            high_priority=counts[Priority.HIGH],
            medium_priority=counts[Priority.MEDIUM],
            low_priority=counts[Priority.LOW],
            excel_available=total <= MAX_EXPORT_ROWS,
        )

    def start(
        self, principal: Principal, request: ExportRequest, dispatcher: ExportDispatcher
    ) -> ExportLink | ExportAccepted:
        """Record the export (after the quota check); run it now when small, else hand it to the worker."""
        authorize_filters(principal, request.filters)
        settings = get_settings()
        now = self.clock.now()
        window = organization_window(self.session_scope, principal, self.clock)
        with self.session_scope() as session:
            audit.enforce_daily_quota(
                session, principal.user_id, now, window.timezone, settings.exports_per_user_per_day
            )
            total = PendingRows(session, principal, request.filters, window, request.row_range).count()
            if total > MAX_EXPORT_ROWS:
                raise InvalidInput.for_field(
                    "limit",
                    f"{total} rows exceed the {MAX_EXPORT_ROWS} an export can hold; narrow the filters "
                    "or pass skip and limit",
                )
            inline = total <= settings.export_sync_max_rows
            if not inline:
                audit.enforce_one_asynchronous_export(session, principal.user_id, now - STALE_JOB_AFTER)
            job = audit.create_job(
                session,
                organization_id=principal.organization_id,
                user_id=principal.user_id,
                export_format=request.export_format,
                request=request.audit_json() | audit.job_scope(principal.role, asynchronous=not inline),
                status=ExportStatus.RUNNING if inline else ExportStatus.PENDING,
                now=now,
            )
            job_id = job.id
        logger.info(
            "export requested",
            extra={
                "job_id": str(job_id),
                "format": request.export_format.value,
                "rows": total,
                "inline": inline,
            },
        )
        if inline:
            return self._produce(job_id, principal, request, window.timezone)
        try:
            dispatcher.dispatch(job_id)
        except AppError as exc:
            self._fail(job_id, exc)
            raise
        return ExportAccepted(job_id=job_id, status_url=JOB_STATUS_PATH.format(job_id=job_id))

    def run_job(self, job_id: uuid.UUID) -> ExportStatus | None:
        """The worker's entry: produce a pending job once. None when there was nothing to do (a duplicate
        delivery finds the job already claimed)."""
        with self.session_scope() as session:
            job = audit.claim_pending(session, job_id)
            if job is None:
                logger.info("export job not pending, skipped", extra={"job_id": str(job_id)})
                return None
            user = session.get_one(User, job.user_id)  # deleting a user deletes their jobs
            request = ExportRequest.from_job(job)
            # The scope captured when the export was asked, narrowed if the user has been demoted since.
            role = audit.narrower_role(audit.requested_role(job), user.role)
        timezone = organization_timezone(self.session_scope, user.organization_id)
        principal = Principal(
            user_id=user.id,
            organization_id=user.organization_id,
            email=user.email,
            name=user.name,
            role=role,
        )
        try:
            self._produce(job_id, principal, request, timezone)
        except Exception:
            return ExportStatus.FAILED
        return ExportStatus.SUCCEEDED

    def _fail(self, job_id: uuid.UUID, exc: BaseException) -> None:
        delivery.record_failure(self.session_scope, self.clock, job_id, exc)

    def _produce(
        self, job_id: uuid.UUID, principal: Principal, request: ExportRequest, timezone: str
    ) -> ExportLink:
        """Stream the rows into a file, store it, and record the outcome; any failure marks the job failed.
        A produced export is measured: ``export_generation_time`` (ms, query to link), ``export_rows``."""
        started = time.perf_counter()
        try:
            link = self._write_and_store(job_id, principal, request, timezone)
        except BaseException as exc:
            self._fail(job_id, exc)
            raise
        record_export((time.perf_counter() - started) * 1000, link.row_count)
        return link

    def _write_and_store(
        self, job_id: uuid.UUID, principal: Principal, request: ExportRequest, timezone: str
    ) -> ExportLink:
        local_now = self.clock.now().astimezone(ZoneInfo(timezone))
        filename = export_filename(request.export_format, local_now)
        window = PendingReviewWindow(today=local_now.date(), timezone=timezone)
        if request.export_format is ExportFormat.CSV:
            return self._copy_csv(job_id, principal, request, window, filename)
        return self._write_xlsx(job_id, principal, request, window, filename, local_now)

    def _copy_csv(
        self,
        job_id: uuid.UUID,
        principal: Principal,
        request: ExportRequest,
        window: PendingReviewWindow,
        filename: str,
    ) -> ExportLink:
        """PostgreSQL writes the CSV (COPY), streamed into S3 as it comes: no file, bounded memory."""
        query = csv_query(principal, request.filters, window, request.include_student, request.row_range)
        with (
            self.session_scope() as session,
            self.storage.streamed_upload(ExportFormat.CSV, filename) as upload,
        ):
            row_count = copy_csv(session, query, request.delimiter, upload)
        return delivery.record_stored(
            self.session_scope,
            self.storage,
            self.clock,
            job_id,
            upload.key,
            ExportFormat.CSV,
            filename,
            row_count,
            upload.size_bytes,
        )

    def _write_xlsx(
        self,
        job_id: uuid.UUID,
        principal: Principal,
        request: ExportRequest,
        window: PendingReviewWindow,
        filename: str,
        local_now: datetime,
    ) -> ExportLink:
        formatter = RowFormatter(window.timezone, request.include_student)
        info = SummaryInfo(
            filters=describe_filters(request.filters),
            exported_at=f"{local_now:%d/%m/%Y %H:%M} ({window.timezone})",
        )
        with tempfile.TemporaryDirectory(prefix="export-") as directory:
            path = Path(directory) / filename
            with self.session_scope() as session:
                source = PendingRows(session, principal, request.filters, window, request.row_range)
                tally = write_xlsx(source.rows(request.include_student), path, formatter, info)
            return delivery.store_and_record(
                self.session_scope,
                self.storage,
                self.clock,
                job_id,
                path,
                request.export_format,
                filename,
                tally.total,
            )

    def job_status(self, principal: Principal, job_id: uuid.UUID) -> ExportJobStatus:
        with self.session_scope() as session:
            job = audit.requester_job(session, job_id, principal.user_id, principal.organization_id)
            if job is None:
                raise NotFound("export job")
            now = self.clock.now()
            unfinished = job.status in (ExportStatus.PENDING.value, ExportStatus.RUNNING.value)
            if unfinished and now - job.created_at > STALE_JOB_AFTER:
                audit.mark_failed(session, job.id, "the export worker did not finish", now)
                session.refresh(job)
        status = ExportJobStatus(
            job_id=job.id,
            status=ExportStatus(job.status),
            format=ExportFormat(job.format),
            created_at=job.created_at,
            completed_at=job.completed_at,
        )
        if status.status is ExportStatus.FAILED:
            return status.model_copy(update={"error": job.error})
        if status.status is ExportStatus.SUCCEEDED and job.s3_key and job.filename:
            link = self.storage.link(job.s3_key, self.clock.now())
            stored = ExportLink(
                download_url=link.url,
                expires_at=link.expires_at,
                filename=job.filename,
                content_type=CONTENT_TYPES[status.format],
                row_count=job.row_count or 0,
                size_bytes=job.size_bytes or 0,
            )
            return status.model_copy(update=stored.model_dump())
        return status
