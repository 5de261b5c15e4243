"""Every query of the exports feature: the export_jobs table (the audit trail of every export, the daily
quota, async job state) and the pending-review rows an export holds (see ``source`` and ``copy_csv``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from eduautismo.clock import local_today, start_of
from eduautismo.db.models import ExportJob, User
from eduautismo.domain import ExportFormat, ExportStatus, Role
from eduautismo.errors import QuotaExceeded
from eduautismo.identity.principal import Principal

MAX_ERROR_CHARS = 500
# Keys of export_jobs.filters that record the requester's scope at request time (beside the request).
SCOPE_KEY = "scope"
ASYNCHRONOUS_KEY = "asynchronous"
UNFINISHED = (ExportStatus.PENDING.value, ExportStatus.RUNNING.value)


def job_scope(role: Role, *, asynchronous: bool) -> dict[str, Any]:
    """What a job records about its requester's scope, for work done later on their behalf."""
    return {SCOPE_KEY: {"role": role.value}, ASYNCHRONOUS_KEY: asynchronous}


def requested_role(job: ExportJob) -> Role:
    """The role captured when the job was asked; a job without one gets the least privilege."""
    scope = job.filters.get(SCOPE_KEY)
    raw = scope.get("role") if isinstance(scope, dict) else None
    return Role(raw) if raw in tuple(Role) else Role.PROFESSIONAL


def narrower_role(requested: Role, current: str) -> Role:
    """Never wider than either: the requested scope, or the user's role now (an unknown one is the least)."""
    if requested is Role.COORDINATOR and current == Role.COORDINATOR.value:
        return Role.COORDINATOR
    return Role.PROFESSIONAL


def enforce_one_asynchronous_export(session: Session, user_id: uuid.UUID, started_after: datetime) -> None:
    """One unfinished asynchronous export per user, so that one user cannot hold every export worker.
    Called under the user's row lock taken by ``enforce_daily_quota``; jobs older than
    ``started_after`` are stale (their worker died) and do not count."""
    running = session.scalar(
        select(func.count())
        .select_from(ExportJob)
        .where(
            ExportJob.user_id == user_id,
            ExportJob.status.in_(UNFINISHED),
            ExportJob.created_at >= started_after,
            ExportJob.filters[ASYNCHRONOUS_KEY].as_boolean().is_(True),
        )
    )
    if running:
        raise QuotaExceeded("an export of yours is still running; wait for it to finish")


def enforce_daily_quota(
    session: Session, user_id: uuid.UUID, now: datetime, timezone: str, quota: int
) -> None:
    """At most ``quota`` exports per user per local day (failed ones do not count). The user's row is
    locked so that concurrent requests of one user are counted one after the other."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    start_of_day = start_of(local_today(now, timezone), timezone)
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


def job_requester(session: Session, job: ExportJob) -> Principal:
    """Who asked for ``job``, with the scope captured then, narrowed if they have been demoted since
    (deleting a user deletes their jobs, so they exist)."""
    user = session.get_one(User, job.user_id)
    return Principal(
        user_id=user.id,
        organization_id=user.organization_id,
        email=user.email,
        name=user.name,
        role=narrower_role(requested_role(job), user.role),
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
