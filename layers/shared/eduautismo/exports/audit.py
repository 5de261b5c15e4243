"""The export_jobs table: the audit trail of every export, the daily quota, and async job state."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eduautismo.db.models import ExportJob, User
from eduautismo.domain import ExportFormat, ExportStatus
from eduautismo.errors import QuotaExceeded

MAX_ERROR_CHARS = 500


def enforce_daily_quota(
    session: Session, user_id: uuid.UUID, now: datetime, timezone: str, quota: int
) -> None:
    """At most ``quota`` exports per user per local day (failed ones do not count). The user's row is
    locked so that concurrent requests of one user are counted one after the other."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    start_of_day = datetime.combine(now.astimezone(ZoneInfo(timezone)).date(), time.min, ZoneInfo(timezone))
    used = session.scalar(
        select(func.count())
        .select_from(ExportJob)
        .where(
            ExportJob.user_id == user_id,
            ExportJob.created_at >= start_of_day,
            ExportJob.status != ExportStatus.FAILED.value,
        )
    )
    if (used or 0) >= quota:
        raise QuotaExceeded(f"daily export quota of {quota} reached, try again tomorrow")


def create_job(
    session: Session,
    *,
    organization_id: uuid.UUID,
    user_id: uuid.UUID,
    export_format: ExportFormat,
    request: dict[str, Any],
    status: ExportStatus,
    now: datetime,
) -> ExportJob:
    job = ExportJob(
        organization_id=organization_id,
        user_id=user_id,
        format=export_format.value,
        filters=request,
        status=status.value,
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim_pending(session: Session, job_id: uuid.UUID) -> ExportJob | None:
    """Pending -> running, once: a duplicate delivery of the same job finds nothing to claim."""
    claimed = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.PENDING.value)
        .values(status=ExportStatus.RUNNING.value)
        .returning(ExportJob.id)
    ).scalar_one_or_none()
    return None if claimed is None else session.get(ExportJob, job_id)


def mark_succeeded(
    session: Session,
    job_id: uuid.UUID,
    *,
    row_count: int,
    size_bytes: int,
    s3_key: str,
    filename: str,
    now: datetime,
) -> None:
    session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(
            status=ExportStatus.SUCCEEDED.value,
            row_count=row_count,
            size_bytes=size_bytes,
            s3_key=s3_key,
            filename=filename,
            completed_at=now,
        )
    )


def mark_failed(session: Session, job_id: uuid.UUID, error: str, now: datetime) -> None:
    session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(status=ExportStatus.FAILED.value, error=error[:MAX_ERROR_CHARS], completed_at=now)
    )


def requester_job(
    session: Session, job_id: uuid.UUID, user_id: uuid.UUID, organization_id: uuid.UUID
) -> ExportJob | None:
    """The job if the caller requested it; anyone else's job is indistinguishable from a missing one."""
    return session.scalar(
        select(ExportJob).where(
            ExportJob.id == job_id,
            ExportJob.user_id == user_id,
            ExportJob.organization_id == organization_id,
        )
    )
