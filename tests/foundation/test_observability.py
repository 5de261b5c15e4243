"""Observability kept while imports got cheaper: the correlation id in the logs, the operations metrics in
EMF (names and units of the seed's README), and X-Ray tracing built on first use, patching only botocore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.domain import NotificationType
from eduautismo.notifications.service import NotificationService
from eduautismo.observability import logger, metrics
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import PROJECT_ROOT, load_handler, match_route
from tests.support.factories import Factory, notification_for

PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"


@pytest.fixture(autouse=True)
def no_pending_metrics() -> None:
    metrics.clear_metrics()


def emitted(output: str) -> dict[str, tuple[str, list[float]]]:
    """{metric name: (unit, values)} from the EMF documents printed to stdout."""
    found: dict[str, tuple[str, list[float]]] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            assert directive["Namespace"] == "EduAutismo" and directive["Dimensions"] == [["service"]]
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                found[metric["Name"]] = (metric["Unit"], values if isinstance(values, list) else [values])
    return found


def test_a_request_logs_under_the_api_gateway_request_id(factory: Factory) -> None:
    # Given an API Gateway event with its request id
    professional = factory.user(factory.organization())
    route, _ = match_route("GET", PENDING_REVIEW) or (None, {})
    assert route is not None
    event = http_api_event("GET", PENDING_REVIEW, route_key=route.route_key, claims=professional.claims)
    # When the plans function serves it
    result = load_handler(route.code_uri, route.handler)(event, LocalLambdaContext(function_name="plans"))
    # Then the logger's correlation id is that request id
    assert result["statusCode"] == 200
    assert logger.get_correlation_id() == event["requestContext"]["requestId"]


def test_creating_a_notification_emits_its_time_in_milliseconds(
    factory: Factory, db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a user and a plan-created notification for them
    professional = factory.user(factory.organization())
    plan_created = notification_for(
        professional, type=NotificationType.PLAN_CREATED, dedupe_key=f"test:{uuid.uuid4()}"
    )
    capsys.readouterr()
    # When the notification is created and the invocation's metrics are flushed
    with Session(db) as session:
        clock = FixedClock(datetime(2026, 3, 10, tzinfo=UTC))
        NotificationService(session, clock).create_notification(plan_created)
        session.commit()
    metrics.flush_metrics()
    # Then the EMF document carries notification_creation_time in ms
    unit, values = emitted(capsys.readouterr().out)["notification_creation_time"]
    assert unit == "Milliseconds" and len(values) == 1 and values[0] > 0


def _fresh_interpreter(code: str) -> str:
    """Run ``code`` as Lambda would import the plans handler: tracing enabled (not disabled)."""
    directory = PROJECT_ROOT / "functions" / "plans"
    environment = {name: value for name, value in os.environ.items() if name != "POWERTOOLS_TRACE_DISABLED"}
    environment.update({"PYTHONPATH": str(directory), "LAMBDA_TASK_ROOT": str(directory)})
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(directory), env=environment, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().splitlines()[-1]


def test_tracing_is_built_on_first_use_and_patches_only_botocore() -> None:
    probe = """
import json, sys
import plans_handler
imported = "aws_xray_sdk.core" in sys.modules
from eduautismo.observability import get_tracer, trace_aws_sdk
tracer = get_tracer()
enabled = not tracer.disabled
import botocore.client
before = getattr(botocore.client, "_xray_enabled", False)  # the X-Ray SDK's mark on what it patched
trace_aws_sdk()
after = getattr(botocore.client, "_xray_enabled", False)
others = sorted(
    name.split(".")[2] for name in sys.modules
    if name.startswith("aws_xray_sdk.ext.") and name.endswith(".patch") and "botocore" not in name
)
print(json.dumps([imported, enabled, before, after, others]))
"""
    # Given the plans handler imported as in Lambda, with tracing on
    imported_at_import, enabled, patched_before, patched_after, other_patches = json.loads(
        _fresh_interpreter(probe)
    )
    # Then importing it loaded no X-Ray SDK; the tracer, once built, is enabled and patched nothing
    assert (imported_at_import, enabled, patched_before) == (False, True, False)
    # And tracing the AWS SDK patches botocore, and only botocore
    assert (patched_after, other_patches) == (True, [])


def test_the_plans_handler_imports_neither_boto3_nor_openpyxl() -> None:
    # Given a fresh interpreter, as a Lambda container starts
    # When it imports the plans handler (students' data export included, which uploads to S3 on demand)
    probe = (
        "import json, sys\nimport plans_handler\n"
        "print(json.dumps(sorted({'boto3', 'openpyxl'} & {*sys.modules})))"
    )
    loaded = _fresh_interpreter(probe)
    # Then neither is loaded: they cost the cold start about half a second and only a data export uses boto3
    assert json.loads(loaded) == []
