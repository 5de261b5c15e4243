"""Hands a large export to the worker: an asynchronous Lambda invoke in AWS, a thread in local mode."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from eduautismo import resettable
from eduautismo.errors import DependencyUnavailable
from eduautismo.observability import logger, trace_aws_sdk
from eduautismo.settings import Settings, get_settings

JobRunner = Callable[[uuid.UUID], object]


class ExportDispatcher(Protocol):
    def dispatch(self, job_id: uuid.UUID) -> None: ...


def worker_event(job_id: uuid.UUID) -> dict[str, str]:
    """The event the export worker function receives."""
    return {"job_id": str(job_id)}


@resettable.once()
def get_lambda_client() -> Any:
    trace_aws_sdk()
    settings = get_settings()
    return boto3.client(
        "lambda",
        region_name=settings.aws_region,
        config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}),
    )


class LambdaDispatcher:
    """Asynchronous invoke (InvocationType=Event): Lambda queues the event, the worker's on-failure
    destination receives it if the worker fails."""

    def __init__(self, client: Any, function_name: str | None) -> None:
        self.client = client
        self.function_name = function_name

    def dispatch(self, job_id: uuid.UUID) -> None:
        if not self.function_name:
            raise DependencyUnavailable("export worker is not configured")
        try:
            self.client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps(worker_event(job_id)).encode(),
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("export dispatch failed", extra={"error_type": type(exc).__name__})
            raise DependencyUnavailable("export worker unavailable, try again shortly") from exc


class ThreadDispatcher:
    """Local mode: the same job runner on a background thread of this process."""

    def __init__(self, run: JobRunner) -> None:
        self.run = run

    def dispatch(self, job_id: uuid.UUID) -> None:
        threading.Thread(target=self.run, args=(job_id,), name=f"export-{job_id}", daemon=True).start()


def dispatcher_from_settings(settings: Settings, run: JobRunner) -> ExportDispatcher:
    if settings.export_dispatch == "thread":
        return ThreadDispatcher(run)
    return LambdaDispatcher(get_lambda_client(), settings.export_worker_function_name)
