"""Powertools logger, metrics and tracing shared by every function (service name from the env).

The X-Ray tracer is built on the first invocation, not at import: building it imports the X-Ray SDK, and
its default (patch everything X-Ray supports) imported and patched botocore in functions that never call
AWS, ~170 ms of every cold start. Only the AWS SDK is traced, and only where it is used: the code that
creates a boto3 client calls ``trace_aws_sdk()`` first.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from eduautismo import resettable

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="eduautismo")
metrics = Metrics(namespace="EduAutismo", service="eduautismo")

SERVICE = "eduautismo"
TRACED_LIBRARIES = ("botocore",)
# The operations view's metrics (namespace EduAutismo, dimension service): names of the seed's README.
NOTIFICATION_CREATION_TIME = "notification_creation_time"
EXPORT_GENERATION_TIME = "export_generation_time"
EXPORT_ROWS = "export_rows"

Handler = TypeVar("Handler", bound=Callable[..., Any])


# Built before a SnapStart snapshot and kept by every restored copy (it holds no connection).
@resettable.once(restore="keep")
def get_tracer() -> Tracer:
    """The function's tracer (disabled outside Lambda or with POWERTOOLS_TRACE_DISABLED); patches nothing."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, auto_patch=False)


@resettable.once(restore="keep")
def trace_aws_sdk() -> None:
    """Trace boto3 calls (S3, Lambda, Secrets Manager) from here on; once per container."""
    get_tracer().patch(TRACED_LIBRARIES)


def capture_lambda_handler(handler: Handler) -> Handler:
    """``Tracer.capture_lambda_handler(capture_response=False)`` with the tracer built on first use."""
    traced: list[Callable[..., Any]] = []

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not traced:
            traced.append(get_tracer().capture_lambda_handler(handler, capture_response=False))
        return traced[0](event, context)

    return run  # type: ignore[return-value]


def add_duration_metric(name: str, milliseconds: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=round(milliseconds, 3))


def record_export(milliseconds: float, rows: int) -> None:
    """One produced export: its time from query to download link, and its rows."""
    add_duration_metric(EXPORT_GENERATION_TIME, milliseconds)
    metrics.add_metric(name=EXPORT_ROWS, unit=MetricUnit.Count, value=rows)


@contextmanager
def timed_metric(name: str) -> Iterator[None]:
    """Emit how long the block took, in ms, as the EMF metric ``name`` (also when it raises)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        add_duration_metric(name, (time.perf_counter() - started) * 1000)
