"""The one export pipeline every export kind goes through (pending-review CSV/XLSX, a student's data
export, the compliance report): quota -> job -> write -> store -> link.

- ``open_job``: the caller's daily quota, then the ``export_jobs`` audit row, in the caller's unit of
  work (``claim_quota`` and ``record_job`` when a kind checks more in between).
- ``deliver_file``: write the file into a private temporary folder, store it, mark the job succeeded and
  answer the link; any failure marks the job failed and is raised again (``failure_recorded``).
  ``record_stored`` is the end of an export streamed straight into storage (the COPY CSV).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from eduautismo.context import Context
from eduautismo.domain import ExportFormat, ExportStatus
from eduautismo.errors import AppError, Conflict
from eduautismo.exports import repository
from eduautismo.exports.schemas import ExportLink
from eduautismo.exports.storage import CONTENT_TYPES
from eduautismo.observability import logger

# Writes the export into the file it is given; answers how many records it holds.
FileWriter = Callable[[Path], int]


def claim_quota(ctx: Context, session: Session, timezone: str) -> None:
    """One more export of the caller today (local day), or 429."""
    quota = ctx.settings.exports_per_user_per_day
    repository.enforce_daily_quota(session, ctx.caller.user_id, ctx.clock.now(), timezone, quota)


def record_job(
    ctx: Context,
    session: Session,
    export_format: ExportFormat,
    request: dict[str, Any],
    status: ExportStatus = ExportStatus.RUNNING,
    *,
    asynchronous: bool = False,
) -> uuid.UUID:
    """The export's audit row: who, when, what was asked, and with which scope (every kind records it, so
    every later link follows it)."""
    principal = ctx.caller
    return repository.create_job(
        session,
        organization_id=principal.organization_id,
        user_id=principal.user_id,
        role=principal.role,
        export_format=export_format,
        request=request,
        status=status,
        now=ctx.clock.now(),
        asynchronous=asynchronous,
    ).id


def open_job(
    ctx: Context, session: Session, export_format: ExportFormat, request: dict[str, Any], timezone: str
) -> uuid.UUID:
    """Quota, then a running job."""
    claim_quota(ctx, session, timezone)
    return record_job(ctx, session, export_format, request)


@contextmanager
def failure_recorded(ctx: Context, job_id: uuid.UUID) -> Iterator[None]:
    """Whatever fails in the block marks the job failed, and is raised again."""
    try:
        yield
    except BaseException as exc:
        record_failure(ctx, job_id, exc)
        raise


def write_and_store(
    ctx: Context, job_id: uuid.UUID, export_format: ExportFormat, filename: str, write: FileWriter
) -> ExportLink:
    """Write the file in a private temporary folder, store it, link it."""
    with tempfile.TemporaryDirectory(prefix="export-") as directory:
        path = Path(directory) / filename
        row_count = write(path)
        size_bytes = path.stat().st_size
        key = ctx.storage.upload(path, export_format, filename)
        return record_stored(ctx, job_id, key, export_format, filename, row_count, size_bytes)


def deliver_file(
    ctx: Context, job_id: uuid.UUID, export_format: ExportFormat, filename: str, write: FileWriter
) -> ExportLink:
    """Write, store, link; a failure marks the job failed."""
    with failure_recorded(ctx, job_id):
        return write_and_store(ctx, job_id, export_format, filename, write)


def record_stored(
    ctx: Context,
    job_id: uuid.UUID,
    key: str,
    export_format: ExportFormat,
    filename: str,
    row_count: int,
    size_bytes: int,
) -> ExportLink:
    """Link the stored object ``key``, mark its job succeeded, and answer the link envelope. A job expired
    while its file was written (an erasure of data it may hold) has its file deleted and is answered 409."""
    link = ctx.storage.link(key, ctx.clock.now())
    with ctx.uow() as session:
        marked = repository.mark_succeeded(
            session,
            job_id,
            row_count=row_count,
            size_bytes=size_bytes,
            s3_key=key,
            filename=filename,
            now=ctx.clock.now(),
        )
    if not marked:
        ctx.storage.delete([key])
        logger.info("export expired while written, file deleted", extra={"job_id": str(job_id)})
        raise Conflict("data this export would hold was erased while it was written; export again")
    logger.info("export stored", extra={"job_id": str(job_id), "rows": row_count, "size_bytes": size_bytes})
    return ExportLink(
        status="succeeded",
        download_url=link.url,
        expires_at=link.expires_at,
        filename=filename,
        content_type=CONTENT_TYPES[export_format],
        row_count=row_count,
        size_bytes=size_bytes,
    )


def record_failure(ctx: Context, job_id: uuid.UUID, exc: BaseException) -> None:
    """Mark the job failed with a reason fit for its requester (never an exception's raw text)."""
    reason = exc.message if isinstance(exc, AppError) else type(exc).__name__
    with ctx.uow() as session:
        repository.mark_failed(session, job_id, reason, ctx.clock.now())
    logger.warning("export failed", extra={"job_id": str(job_id), "error_type": type(exc).__name__})
