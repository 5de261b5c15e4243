"""The export worker: runs one large export handed over by the exports function."""

from __future__ import annotations

import uuid
from typing import Any

from eduautismo.clock import Clock, SystemClock
from eduautismo.db.engine import session_scope
from eduautismo.domain import ExportStatus
from eduautismo.exports.service import ExportService
from eduautismo.exports.storage import get_export_storage


class ExportJobFailed(RuntimeError):
    """Raised so that Lambda counts the invocation as failed and sends it to the on-failure destination
    (the job itself is already marked failed)."""


def handle_worker_event(event: dict[str, Any], clock: Clock | None = None) -> dict[str, str]:
    job_id = uuid.UUID(str(event["job_id"]))
    status = ExportService(session_scope, get_export_storage(), clock or SystemClock()).run_job(job_id)
    if status is ExportStatus.FAILED:
        raise ExportJobFailed(f"export job {job_id} failed")
    return {"job_id": str(job_id), "status": status.value if status else "skipped"}
