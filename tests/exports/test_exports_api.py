"""The exports API end to end: real handler, real PostgreSQL, S3 in moto."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import openpyxl
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.db.models import ExportJob
from eduautismo.domain import ExportStatus, Role
from eduautismo.exports.writers import DATA_SHEET_TITLE
from tests.exports.conftest import (
    BUCKET,
    LINK_FIELDS,
    REGION,
    export,
    jobs_of,
    read_csv,
    read_summary,
    stored_bytes,
    wait_for_job,
)
from tests.support.api import call_api
from tests.support.factories import Actor, Factory

OVERDUE_START = datetime.now(UTC).date() - timedelta(days=30)


def _team(factory: Factory) -> tuple[Actor, Actor, Actor]:
    organization = factory.organization()
    return (
        factory.user(organization, Role.COORDINATOR, name="Coordenação"),
        factory.user(organization, Role.PROFESSIONAL, name="Ana Souza"),
        factory.user(organization, Role.PROFESSIONAL, name="Bruno Lima"),
    )


def _overdue_plan(factory: Factory, professional: Actor, **fields: Any) -> str:
    return str(factory.plan(professional, start_date=OVERDUE_START, **fields).id)


def test_csv_export_is_stored_encrypted_under_a_random_key_and_linked(
    factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a coordinator and two pending plans of the organization
    coordinator, ana, bruno = _team(factory)
    expected = {_overdue_plan(factory, ana, priority="high"), _overdue_plan(factory, bruno, priority="low")}
    # When the coordinator exports CSV
    response = export(coordinator, "csv")
    # Then the answer is the link with the file's description
    assert response.status == 200, response.json
    body = response.json
    assert set(body) == LINK_FIELDS
    assert re.fullmatch(r"planos_pendentes_\d{8}_\d{6}\.csv", body["filename"])
    assert body["content_type"] == "text/csv; charset=utf-8"
    assert body["row_count"] == 2
    # And the object is encrypted, typed, named for download, under a random key without names
    job = jobs_of(db, coordinator)[-1]
    assert re.fullmatch(r"exports/[0-9a-f-]{36}\.csv", job.s3_key or "")
    head = s3.head_object(Bucket=BUCKET, Key=job.s3_key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "text/csv; charset=utf-8"
    assert head["ContentDisposition"] == f'attachment; filename="{body["filename"]}"'
    assert head["ContentLength"] == body["size_bytes"]
    # And the file holds exactly the pending plans, in priority order
    lines = read_csv(stored_bytes(s3, db, coordinator))
    assert {line[1] for line in lines[1:]} == expected
    assert [line[0] for line in lines[1:]] == ["Alta", "Baixa"]
    assert [line[9] for line in lines[1:]] == ["Ana Souza", "Bruno Lima"]
    # And the audit row records who exported what
    assert job.status == ExportStatus.SUCCEEDED.value
    assert job.row_count == 2 and job.format == "csv" and job.filters["filters"] == {}


def test_link_is_sigv4_and_expires_within_the_configured_ttl(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, ana, _ = _team(factory)
    _overdue_plan(factory, ana)
    response = export(coordinator, "csv")
    query = parse_qs(urlsplit(response.json["download_url"]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert int(query["X-Amz-Expires"][0]) == 900
    assert "Signature" not in query and "AWSAccessKeyId" not in query  # no SigV2
    expires_at = datetime.fromisoformat(response.json["expires_at"])
    assert timedelta(0) < expires_at - datetime.now(UTC) <= timedelta(seconds=900)


def test_redirect_answers_303_to_the_link(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, ana, _ = _team(factory)
    _overdue_plan(factory, ana)
    response = export(coordinator, "excel", redirect=True)
    assert response.status == 303
    location = response.header("Location") or ""
    assert "X-Amz-Signature=" in location and "/exports/" in location


def test_professional_export_holds_only_their_own_plans(factory: Factory, db: Engine, s3: Any) -> None:
    # Given plans of Ana, of Bruno (same organization) and of another organization
    _, ana, bruno = _team(factory)
    own = {_overdue_plan(factory, ana), _overdue_plan(factory, ana, priority="high")}
    _overdue_plan(factory, bruno)
    other_org_professional = factory.user(factory.organization("Outra"), Role.PROFESSIONAL)
    _overdue_plan(factory, other_org_professional)
    # When Ana exports, with the student column
    response = export(ana, "csv", include_student=True, delimiter=";")
    # Then the file holds only Ana's plans
    assert response.status == 200, response.json
    lines = read_csv(stored_bytes(s3, db, ana), ";")
    assert lines[0][-1] == "Aluno"
    assert {line[1] for line in lines[1:]} == own
    assert {line[9] for line in lines[1:]} == {"Ana Souza"}


def test_professional_asking_for_another_professional_is_forbidden_and_nothing_is_recorded(
    factory: Factory, db: Engine, s3: Any
) -> None:
    _, ana, bruno = _team(factory)
    _overdue_plan(factory, bruno)
    response = export(ana, "csv", professional_id=bruno.user_id)
    assert response.status == 403
    assert response.json["error"]["code"] == "forbidden"
    assert jobs_of(db, ana) == []


def test_filters_apply_and_bad_filters_are_422(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, ana, _ = _team(factory)
    high = _overdue_plan(factory, ana, priority="high")
    _overdue_plan(factory, ana, priority="low")
    response = export(coordinator, "csv", priority="high", overdue_only=True)
    assert response.status == 200
    assert [line[1] for line in read_csv(stored_bytes(s3, db, coordinator))[1:]] == [high]
    assert jobs_of(db, coordinator)[-1].filters["filters"] == {"priority": "high", "overdue_only": True}
    for bad in ({"priority": "urgent"}, {"student_id": "not-a-uuid"}, {"delimiter": "|"}):
        rejected = export(coordinator, "csv", **bad)
        assert rejected.status == 422, bad
        assert rejected.json["error"]["code"] == "validation_error"
    reversed_dates = export(coordinator, "csv", date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    assert reversed_dates.status == 422
    assert len(jobs_of(db, coordinator)) == 1


def test_summary_counts_by_priority(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, ana, bruno = _team(factory)
    _overdue_plan(factory, ana, priority="high")
    _overdue_plan(factory, ana, priority="medium")
    _overdue_plan(factory, bruno, priority="medium")
    factory.plan(ana, priority="low", start_date=OVERDUE_START, status="paused")  # not pending
    response = export(coordinator, "summary")
    assert response.status == 200
    assert response.json == {
        "total": 3,
        "high_priority": 1,
        "medium_priority": 2,
        "low_priority": 0,
        "excel_available": True,
    }
    assert export(ana, "summary", priority="medium").json["total"] == 1
    assert jobs_of(db, coordinator) == []  # a preview is not an export


def test_excel_export_reads_back_with_summary_equal_to_rows(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, ana, bruno = _team(factory)
    _overdue_plan(factory, ana, priority="high", title='=HYPERLINK("http://x")')
    _overdue_plan(factory, bruno, priority="medium")
    response = export(coordinator, "excel", include_student=True)
    assert response.status == 200, response.json
    assert response.json["content_type"].endswith("spreadsheetml.sheet")
    assert response.json["filename"].endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(stored_bytes(s3, db, coordinator)))
    data = list(workbook[DATA_SHEET_TITLE].iter_rows(min_row=2, values_only=True))
    assert [line[0] for line in data] == ["Alta", "Média"]
    assert data[0][2] == '\'=HYPERLINK("http://x")'
    summary = read_summary(workbook)
    assert summary["Total de Planos:"] == len(data) == response.json["row_count"]
    assert (summary["Alta Prioridade:"], summary["Média Prioridade:"], summary["Baixa Prioridade:"]) == (
        1,
        1,
        0,
    )
    assert summary["Data da Exportação:"].endswith("(America/Sao_Paulo)")


def test_empty_export_is_a_valid_file_with_headers(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, _, _ = _team(factory)
    response = export(coordinator, "csv")
    assert response.status == 200
    assert response.json["row_count"] == 0
    assert read_csv(stored_bytes(s3, db, coordinator))[0][:2] == ["Prioridade", "ID"]


def test_storage_failure_is_503_and_the_job_is_marked_failed(
    factory: Factory, db: Engine, s3: Any, override_settings: Any
) -> None:
    # Given S3 answers but the bucket is gone
    coordinator, ana, _ = _team(factory)
    _overdue_plan(factory, ana)
    override_settings(export_bucket="bucket-that-does-not-exist")
    # When the coordinator exports
    response = export(coordinator, "csv")
    # Then the answer is the 503 envelope and the audit row says failed
    assert response.status == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert "download_url" not in response.body.decode()
    job = jobs_of(db, coordinator)[-1]
    assert job.status == ExportStatus.FAILED.value
    assert job.s3_key is None and job.completed_at is not None


def test_daily_quota_is_429_and_failed_exports_do_not_count(
    factory: Factory, db: Engine, s3: Any, override_settings: Any
) -> None:
    coordinator, _, _ = _team(factory)
    override_settings(exports_per_user_per_day="2", export_bucket="bucket-that-does-not-exist")
    assert export(coordinator, "csv").status == 503  # failed: not counted
    override_settings(export_bucket=BUCKET)
    assert export(coordinator, "csv").status == 200
    assert export(coordinator, "excel").status == 200
    refused = export(coordinator, "csv")
    assert refused.status == 429
    assert refused.json["error"]["code"] == "quota_exceeded"
    assert len(jobs_of(db, coordinator)) == 3


def test_large_export_is_asynchronous_and_its_job_ends_with_a_link(
    factory: Factory, db: Engine, s3: Any, override_settings: Any
) -> None:
    # Given more pending plans than the inline limit
    coordinator, ana, bruno = _team(factory)
    for professional in (ana, bruno, ana):
        _overdue_plan(factory, professional)
    override_settings(export_sync_max_rows="2")
    # When the coordinator exports
    response = export(coordinator, "excel")
    # Then the export is accepted with a job to follow
    assert response.status == 202, response.json
    job_id = response.json["job_id"]
    assert response.json == {
        "job_id": job_id,
        "status": "pending",
        "status_url": f"/api/v1/export/jobs/{job_id}",
    }
    assert response.header("Location") == response.json["status_url"]
    # And the job ends succeeded with the link, for the requester only
    done = wait_for_job(coordinator, response.json["status_url"])
    assert done.json["status"] == "succeeded", done.json
    assert done.json["row_count"] == 3
    assert "X-Amz-Signature=" in done.json["download_url"]
    workbook = openpyxl.load_workbook(io.BytesIO(stored_bytes(s3, db, coordinator)))
    assert workbook[DATA_SHEET_TITLE].max_row == 4
    assert call_api("GET", response.json["status_url"], claims=ana.claims).status == 404


def test_job_of_another_user_or_unknown_is_404(factory: Factory, db: Engine, s3: Any) -> None:
    coordinator, ana, _ = _team(factory)
    export(coordinator, "csv")
    job_id = jobs_of(db, coordinator)[-1].id
    other_coordinator = factory.user(factory.organization("Outra"), Role.COORDINATOR)
    for actor, target in ((ana, job_id), (other_coordinator, job_id), (coordinator, uuid.uuid4())):
        response = call_api("GET", f"/api/v1/export/jobs/{target}", claims=actor.claims)
        assert response.status == 404
        assert response.json["error"]["code"] == "not_found"
    own = call_api("GET", f"/api/v1/export/jobs/{job_id}", claims=coordinator.claims)
    assert own.status == 200 and own.json["status"] == "succeeded"
    assert call_api("GET", "/api/v1/export/jobs/not-a-uuid", claims=coordinator.claims).status == 422


def test_presigned_links_and_names_never_reach_the_logs(
    factory: Factory, db: Engine, s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a plan whose student and professional have names
    coordinator, ana, _ = _team(factory)
    _overdue_plan(factory, ana, student_id=factory.student(ana.organization_id, "Joana Pereira"))
    # When exports run, inline and by link
    links = [export(coordinator, "csv", include_student=True).json["download_url"]]
    links.append(export(coordinator, "excel", include_student=True).json["download_url"])
    # Then nothing logged holds a link, a signature or a name
    output = "\n".join(str(record.__dict__) for record in caplog.records)
    assert "export stored" in output  # the logs were captured, with their extra keys
    for secret in (*links, "X-Amz-Signature", "Joana Pereira", "Ana Souza"):
        assert secret not in output


def test_job_whose_worker_never_finished_is_reported_failed(factory: Factory, db: Engine, s3: Any) -> None:
    # Given a job still "running" long after any worker could have finished it (killed by a timeout)
    coordinator, _, _ = _team(factory)
    job_id = uuid.uuid4()
    with Session(db) as session:
        session.add(
            ExportJob(
                id=job_id,
                organization_id=coordinator.organization_id,
                user_id=coordinator.user_id,
                format="xlsx",
                filters={"filters": {}, "include_student": False, "delimiter": ","},
                status=ExportStatus.RUNNING.value,
                created_at=datetime.now(UTC) - timedelta(hours=3),
            )
        )
        session.commit()
    # When the requester asks for its status
    response = call_api("GET", f"/api/v1/export/jobs/{job_id}", claims=coordinator.claims)
    # Then it is failed, and stays so
    assert response.status == 200
    assert response.json["status"] == "failed"
    assert response.json["error"] == "the export worker did not finish"
    assert jobs_of(db, coordinator)[-1].status == ExportStatus.FAILED.value


@pytest.mark.parametrize("kind", ["csv", "excel"])
def test_with_a_kms_key_exports_are_encrypted_with_it(
    factory: Factory, db: Engine, s3: Any, override_settings: Any, kind: str
) -> None:
    # Given the stack's KMS key configured (as template.yaml does in AWS)
    key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    override_settings(export_kms_key_id=key_id)
    coordinator, ana, _ = _team(factory)
    _overdue_plan(factory, ana)
    # When the coordinator exports
    assert export(coordinator, kind).status == 200
    # Then the object is encrypted with that key
    head = s3.head_object(Bucket=BUCKET, Key=jobs_of(db, coordinator)[-1].s3_key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_id
