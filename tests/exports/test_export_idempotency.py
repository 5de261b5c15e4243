"""Exports write an S3 object and an audit row: retried with the same Idempotency-Key, an export or a
student's data export answers its first link instead of writing again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.exports.conftest import BUCKET, EXPORT, jobs_of
from tests.support.api import call_api
from tests.support.factories import Factory


def test_a_retried_export_answers_the_first_link_and_writes_once(
    factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a coordinator with an overdue plan
    organization = factory.organization()
    coordinator = factory.user(organization, Role.COORDINATOR)
    professional = factory.user(organization, Role.PROFESSIONAL)
    factory.plan(professional, start_date=datetime.now(UTC).date() - timedelta(days=30))
    headers = {"Idempotency-Key": "export-1"}
    # When the CSV export is asked twice with the same key
    first = call_api("GET", f"{EXPORT}/csv", claims=coordinator.claims, headers=headers)
    retry = call_api("GET", f"{EXPORT}/csv", claims=coordinator.claims, headers=headers)
    # Then the retry is the first link, replayed; one file and one audit row were written
    assert first.status == 200
    assert retry.json == first.json and retry.header("Idempotent-Replayed") == "true"
    assert len(jobs_of(db, coordinator)) == 1
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1


def test_a_retried_data_export_answers_the_first_link(factory: Factory, db: Engine, s3: Any) -> None:
    # Given a student
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    student_id = factory.student(coordinator.organization_id)
    path = f"/api/v1/students/{student_id}/data-export"
    headers = {"Idempotency-Key": "lgpd-request-7"}
    # When the data export is asked twice with the same key
    first = call_api("GET", path, claims=coordinator.claims, headers=headers)
    retry = call_api("GET", path, claims=coordinator.claims, headers=headers)
    # Then one document and one audit row exist; the retry answers the same link
    assert first.status == 200
    assert retry.json == first.json and retry.header("Idempotent-Replayed") == "true"
    assert len(jobs_of(db, coordinator)) == 1
