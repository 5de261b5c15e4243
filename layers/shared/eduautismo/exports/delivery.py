"""The end of every export handed over as a presigned link (pending-review exports, the compliance
report): the file stored, its audit row completed and the link made; or the audit row marked failed."""

from __future__ import annotations

import uuid
from pathlib import Path

from eduautismo.clock import Clock
from eduautismo.db.engine import SessionScope
from eduautismo.domain import ExportFormat
from eduautismo.errors import AppError
from eduautismo.exports import audit
from eduautismo.exports.schemas import ExportLink
from eduautismo.exports.storage import CONTENT_TYPES, ExportStorage
from eduautismo.observability import logger


def store_and_record(
    session_scope: SessionScope,
    storage: ExportStorage,
    clock: Clock,
    job_id: uuid.UUID,
    path: Path,
    export_format: ExportFormat,
    filename: str,
    row_count: int,
) -> ExportLink:
    """Upload the finished file, link it, mark its job succeeded, and answer the link envelope."""
    size_bytes = path.stat().st_size
    key = storage.upload(path, export_format, filename)
    return record_stored(
        session_scope, storage, clock, job_id, key, export_format, filename, row_count, size_bytes
    )


def record_stored(
    session_scope: SessionScope,
    storage: ExportStorage,
    clock: Clock,
    job_id: uuid.UUID,
    key: str,
    export_format: ExportFormat,
    filename: str,
    row_count: int,
    size_bytes: int,
) -> ExportLink:
    """Link the stored object ``key``, mark its job succeeded, and answer the link envelope."""
    link = storage.link(key, clock.now())
    with session_scope() as session:
        audit.mark_succeeded(
            session,
            job_id,
            row_count=row_count,
            size_bytes=size_bytes,
            s3_key=key,
            filename=filename,
            now=clock.now(),
        )
    logger.info("export stored", extra={"job_id": str(job_id), "rows": row_count, "size_bytes": size_bytes})
    return ExportLink(
        download_url=link.url,
        expires_at=link.expires_at,
        filename=filename,
        content_type=CONTENT_TYPES[export_format],
        row_count=row_count,
        size_bytes=size_bytes,
    )


def record_failure(session_scope: SessionScope, clock: Clock, job_id: uuid.UUID, exc: BaseException) -> None:
    """Mark the job failed with a reason fit for its requester (never an exception's raw text)."""
    reason = exc.message if isinstance(exc, AppError) else type(exc).__name__
    with session_scope() as session:
        audit.mark_failed(session, job_id, reason, clock.now())
    logger.warning("export failed", extra={"job_id": str(job_id), "error_type": type(exc).__name__})
