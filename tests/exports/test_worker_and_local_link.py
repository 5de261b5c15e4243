"""The AWS path of large exports (async Lambda invoke -> worker function) and local mode's S3 server,
whose presigned links really download."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from sqlalchemy import Engine

from eduautismo.domain import ExportStatus, Role
from eduautismo.exports.dispatch import get_lambda_client, worker_event
from eduautismo_local.embedded import LOCAL_BUCKET, start_s3_server
from eduautismo_local.events import LocalLambdaContext
from tests.exports.conftest import REGION, export, jobs_of, read_csv
from tests.support.api import call_api
from tests.support.factories import Actor, Factory

OVERDUE_START = datetime.now(UTC).date() - timedelta(days=30)


def _coordinator_with_two_pending_plans(factory: Factory) -> Actor:
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    professional = factory.user(organization, Role.PROFESSIONAL)
    factory.plan(professional, start_date=OVERDUE_START)
    factory.plan(professional, start_date=OVERDUE_START, priority="high")
    return coordinator


def test_large_export_invokes_the_worker_asynchronously_and_the_worker_produces_it(
    factory: Factory, db: Engine, aws: None
) -> None:
    # Given two pending plans, above the inline limit of one row, and the invoke calls observed
    from export_worker_handler import lambda_handler as worker_handler

    coordinator = _coordinator_with_two_pending_plans(factory)
    invocations: list[dict[str, Any]] = []
    get_lambda_client().meta.events.register(
        "before-call.lambda.Invoke", lambda params, **_: invocations.append(params)
    )
    # When the coordinator exports CSV
    accepted = export(coordinator, "csv")
    # Then the export is accepted and the worker was invoked asynchronously with the job id
    assert accepted.status == 202, accepted.json
    assert len(invocations) == 1
    assert invocations[0]["headers"]["X-Amz-Invocation-Type"] == "Event"
    event = json.loads(invocations[0]["body"])
    assert event == worker_event(uuid.UUID(accepted.json["job_id"]))
    assert jobs_of(db, coordinator)[-1].status == ExportStatus.PENDING.value
    # When Lambda runs the worker function with that event
    context = LocalLambdaContext(function_name="ExportWorkerFunction")
    result = worker_handler(event, context)
    # Then the job succeeded, and a second delivery of the same event changes nothing
    assert result == {"job_id": accepted.json["job_id"], "status": "succeeded"}
    assert worker_handler(event, context)["status"] == "skipped"
    status = call_api("GET", accepted.json["status_url"], claims=coordinator.claims)
    assert status.json["status"] == "succeeded" and status.json["row_count"] == 2


def test_unconfigured_worker_is_503_and_the_job_is_marked_failed(
    factory: Factory, db: Engine, aws: None, override_settings: Any
) -> None:
    coordinator = _coordinator_with_two_pending_plans(factory)
    override_settings(export_worker_function_name="")
    response = export(coordinator, "excel")
    assert response.status == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert jobs_of(db, coordinator)[-1].status == ExportStatus.FAILED.value


def test_worker_failure_marks_the_job_failed_and_fails_the_invocation(
    factory: Factory, db: Engine, aws: None, override_settings: Any
) -> None:
    # Given a job accepted for the worker, and S3 losing the bucket before the worker runs
    from export_worker_handler import lambda_handler as worker_handler

    from eduautismo.exports.worker import ExportJobFailed

    coordinator = _coordinator_with_two_pending_plans(factory)
    accepted = export(coordinator, "csv")
    override_settings(export_bucket="bucket-that-does-not-exist")
    # When the worker runs, it raises (so Lambda sends the event to the on-failure destination)
    with pytest.raises(ExportJobFailed):
        worker_handler(
            worker_event(uuid.UUID(accepted.json["job_id"])), LocalLambdaContext("ExportWorkerFunction")
        )
    # Then the requester sees the job failed
    status = call_api("GET", accepted.json["status_url"], claims=coordinator.claims)
    assert status.json["status"] == "failed"
    assert "download_url" not in status.json


def test_local_presigned_link_downloads_exactly_the_bytes_written(
    factory: Factory, db: Engine, override_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Given local mode's S3 server (moto on loopback)
    server, endpoint = start_s3_server()
    try:
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
        override_settings(s3_endpoint_url=endpoint, export_bucket=LOCAL_BUCKET, export_dispatch="thread")
        organization = factory.organization()
        coordinator = factory.user(organization, Role.COORDINATOR)
        professional = factory.user(organization, Role.PROFESSIONAL, name="Ana Souza")
        plan = factory.plan(professional, start_date=OVERDUE_START, title="Plano de rotina")
        # When the coordinator exports and downloads the link over HTTP
        response = export(coordinator, "csv")
        with urllib.request.urlopen(response.json["download_url"], timeout=10) as download:
            downloaded = download.read()
            disposition = download.headers["Content-Disposition"]
        # Then the bytes are exactly those stored, and they are the export
        stored = s3.get_object(Bucket=LOCAL_BUCKET, Key=jobs_of(db, coordinator)[-1].s3_key)["Body"].read()
        assert downloaded == stored
        assert len(downloaded) == response.json["size_bytes"]
        assert f'filename="{response.json["filename"]}"' in disposition
        lines = read_csv(downloaded)
        assert [line[1:3] for line in lines[1:]] == [[str(plan.id), "Plano de rotina"]]
        # And the local S3 server did not print the link it served
        assert "X-Amz-Signature" not in caplog.text
    finally:
        server.stop()
