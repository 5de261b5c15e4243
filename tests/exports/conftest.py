"""Fixtures of the exports feature: S3 (moto), the worker function (moto Lambda), rows and readers of the
stored files."""

from __future__ import annotations

import csv
import io
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from eduautismo.db.models import ExportJob
from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo.exports.rows import ExportRow, columns
from eduautismo.exports.writers import SUMMARY_SHEET_TITLE
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor

BUCKET = "eduautismo-exports-test"
REGION = "sa-east-1"
EXPORT = "/api/v1/export/pending-review"
# The link envelope every export answers (tagged by status).
LINK_FIELDS = {"status", "download_url", "expires_at", "filename", "content_type", "row_count", "size_bytes"}
WORKER = "eduautismo-export-worker-test"


def create_bucket(client: Any) -> None:
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})


@pytest.fixture
def s3(override_settings: Callable[..., None]) -> Iterator[Any]:
    """An S3 bucket in moto; the exports settings point at it (small exports run inline)."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        create_bucket(client)
        override_settings(export_bucket=BUCKET, export_dispatch="thread")
        yield client


def _worker_function(iam: Any, lambda_client: Any) -> None:
    role = iam.create_role(RoleName="export-worker", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("export_worker_handler.py", "def lambda_handler(event, context):\n    return event\n")
    lambda_client.create_function(
        FunctionName=WORKER,
        Runtime="python3.12",
        Role=role,
        Handler="export_worker_handler.lambda_handler",
        Code={"ZipFile": archive.getvalue()},
    )


@pytest.fixture
def aws(override_settings: Any) -> Iterator[None]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        create_bucket(boto3.client("s3", region_name=REGION))
        _worker_function(boto3.client("iam", region_name=REGION), boto3.client("lambda", region_name=REGION))
        override_settings(
            export_bucket=BUCKET,
            export_dispatch="lambda",
            export_worker_function_name=WORKER,
            export_sync_max_rows="1",
        )
        yield


def export(actor: Actor, kind: str, **query: object) -> ApiResponse:
    """GET an export endpoint (``summary``, ``csv``, ``excel``) as ``actor``."""
    encoded = {
        name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in query.items()
    }
    return call_api("GET", f"{EXPORT}/{kind}", claims=actor.claims, query=encoded)


def wait_for_job(actor: Actor, status_url: str) -> ApiResponse:
    """Poll the job until it leaves pending/running (the local worker is a background thread)."""
    deadline = time.monotonic() + 60
    while True:
        response = call_api("GET", status_url, claims=actor.claims)
        if response.json.get("status") not in ("pending", "running") or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def jobs_of(engine: Engine, actor: Actor) -> list[ExportJob]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(ExportJob).where(ExportJob.user_id == actor.user_id).order_by(ExportJob.created_at)
            )
        )


def stored_bytes(client: Any, engine: Engine, actor: Actor) -> bytes:
    """The file of the actor's latest export, as stored in S3."""
    key = jobs_of(engine, actor)[-1].s3_key
    return bytes(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def read_csv(content: bytes, delimiter: str = ",") -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def read_summary(workbook: Any) -> dict[str, Any]:
    """The "Resumo" sheet as {label: value}."""
    sheet = workbook[SUMMARY_SHEET_TITLE]
    return {line[0]: line[1] for line in sheet.iter_rows(values_only=True) if line[0]}


def export_row(priority: Priority = Priority.MEDIUM, **fields: Any) -> ExportRow:
    """An export row for the writer tests (no database involved): the values of the columns with the
    student's, in the table's order (a formatter without the student's column reads the others)."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "priority": priority,
        "title": "Plano de comunicação",
        "description": "Rotina visual",
        "status": PlanStatus.ACTIVE,
        "review_frequency": ReviewFrequency.WEEKLY,
        "last_reviewed_at": datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
        "next_review_due": date(2026, 11, 9),
        "days_overdue": 3,
        "professional_name": "Ana Souza",
        "created_at": datetime(2026, 10, 1, 12, 0, tzinfo=UTC),
        "student_name": None,
    }
    values.update(fields)
    return tuple(values[column.field] for column in columns(include_student=True))
