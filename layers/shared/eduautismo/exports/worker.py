"""The export worker: runs one large export handed over by the exports function."""

from __future__ import annotations

import uuid
from typing import Any

from eduautismo.clock import Clock
from eduautismo.context import build_context
from eduautismo.domain import ExportStatus
from eduautismo.exports import service


class ExportJobFailed(RuntimeError):
    """Raised so that Lambda counts the invocation as failed and sends it to the on-failure destination
    (the job itself is already marked failed)."""


def handle_worker_event(event: dict[str, Any], clock: Clock | None = None) -> dict[str, str]:
    job_id = uuid.UUID(str(event["job_id"]))
    # No caller: the job records who asked, and the worker acts with that requester's scope.
    status = service.run_job(build_context(clock=clock), job_id)
    if status is ExportStatus.FAILED:
        raise ExportJobFailed(f"export job {job_id} failed")
    return {"job_id": str(job_id), "status": status.value if status else "skipped"}
