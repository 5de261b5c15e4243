"""Erasing a student reaches the export files: every export that may hold the student (whatever its kind)
has its S3 object deleted in the erasure's request and its job marked expired, and GET /export/jobs/{id}
never links it again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.context import build_context
from eduautismo.db.models import ExportJob
from eduautismo.domain import ExportFormat, ExportStatus
from eduautismo.errors import Conflict
from eduautismo.exports import delivery
from tests.exports.conftest import BUCKET, export
from tests.students.conftest import School, enrol, export_jobs, ok, school, student_path
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Factory

JOBS = "/api/v1/export/jobs"


def _exists(s3: Any, key: str) -> bool:
    try:
        s3.head_object(Bucket=BUCKET, Key=key)
    except ClientError:
        return False
    return True


def _pending_csv(place: School, student_id: uuid.UUID) -> ApiResponse:
    return export(place.coordinator, "csv", include_student=True)


def _pending_csv_of_the_student(place: School, student_id: uuid.UUID) -> ApiResponse:
    return export(place.coordinator, "csv", student_id=student_id, include_student=True)


def _pending_excel(place: School, student_id: uuid.UUID) -> ApiResponse:
    return export(place.coordinator, "excel", include_student=True)


def _data_export(place: School, student_id: uuid.UUID) -> ApiResponse:
    return call_api("GET", student_path(student_id, "/data-export"), claims=place.coordinator.claims)


def _compliance_excel(place: School, student_id: uuid.UUID) -> ApiResponse:
    return call_api("GET", "/api/v1/export/review-compliance/excel", claims=place.coordinator.claims)


EXPORT_KINDS: dict[str, Callable[[School, uuid.UUID], ApiResponse]] = {
    "pending_csv": _pending_csv,
    "pending_csv_of_the_student": _pending_csv_of_the_student,
    "pending_excel": _pending_excel,
    "student_data_json": _data_export,
    "compliance_excel": _compliance_excel,
}


def _relink(place: School, job_id: uuid.UUID) -> ApiResponse:
    return call_api("GET", f"{JOBS}/{job_id}", claims=place.coordinator.claims)


@pytest.mark.parametrize("kind", sorted(EXPORT_KINDS))
def test_erase_then_relink_is_404_and_the_file_is_gone(
    kind: str, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given an export of this kind made while the student existed, which can be linked again
    place = school(factory)
    helena = enrol(place, "Helena Costa")
    ok(EXPORT_KINDS[kind](place, helena.id))
    [job] = export_jobs(db, place.coordinator)
    assert job.s3_key and _exists(s3, job.s3_key)
    assert ok(_relink(place, job.id))["download_url"]
    # When the coordinator erases the student
    assert call_api("DELETE", student_path(helena.id), claims=place.coordinator.claims).status == 204
    # Then the job answers like a missing one
    response = _relink(place, job.id)
    assert response.status == 404, response.body
    assert response.json["error"]["code"] == "not_found"
    # And its file is gone from the bucket (links minted earlier no longer download), the job expired
    assert not _exists(s3, job.s3_key)
    [after] = export_jobs(db, place.coordinator)
    assert after.status == ExportStatus.EXPIRED.value


def test_exports_that_cannot_hold_the_student_stay(factory: Factory, db: Engine, s3: Any) -> None:
    # Given an export filtered on another student, and one of another organization made afterwards
    place, elsewhere = school(factory), school(factory, "Outra Escola")
    helena, caio = enrol(place, "Helena Costa"), enrol(place, "Caio Lima")
    enrol(elsewhere, "Bia Nunes")
    ok(export(place.coordinator, "csv", student_id=caio.id))
    ok(export(elsewhere.coordinator, "csv"))
    [caio_job] = export_jobs(db, place.coordinator)
    [other_job] = export_jobs(db, elsewhere.coordinator)
    # When Helena is erased
    assert call_api("DELETE", student_path(helena.id), claims=place.coordinator.claims).status == 204
    # Then both files stay and both are still linked
    for owner, job in ((place, caio_job), (elsewhere, other_job)):
        assert job.s3_key and _exists(s3, job.s3_key)
        assert ok(_relink(owner, job.id))["download_url"]


def test_storage_down_fails_the_erasure_and_erases_nothing(
    factory: Factory, db: Engine, s3: Any, override_settings: Callable[..., None]
) -> None:
    # Given an export holding the student, and storage that cannot delete (the bucket is unknown)
    place = school(factory)
    helena = enrol(place, "Helena Costa")
    ok(export(place.coordinator, "csv", include_student=True))
    override_settings(export_bucket="eduautismo-no-such-bucket")
    # When the coordinator erases the student
    response = call_api("DELETE", student_path(helena.id), claims=place.coordinator.claims)
    # Then 503, the student is still there and the export still succeeded (to be erased on a retry)
    assert response.status == 503, response.body
    assert ok(call_api("GET", student_path(helena.id), claims=place.coordinator.claims))["id"]
    [job] = export_jobs(db, place.coordinator)
    assert job.status == ExportStatus.SUCCEEDED.value


def test_an_export_being_written_during_the_erasure_deletes_its_own_file(
    factory: Factory, db: Engine, s3: Any
) -> None:
    # Given an organization-wide export still running (its rows read before the erasure)
    place = school(factory)
    helena = enrol(place, "Helena Costa")
    ctx = build_context(place.coordinator.principal)
    with ctx.uow() as session:
        job_id = delivery.record_job(ctx, session, ExportFormat.CSV, {"filters": {}})
    key = "exports/running-during-erasure.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"Helena Costa")
    # When the student is erased, and then the writer records its file
    assert call_api("DELETE", student_path(helena.id), claims=place.coordinator.claims).status == 204
    with pytest.raises(Conflict):
        delivery.record_stored(ctx, job_id, key, ExportFormat.CSV, "x.csv", 1, 12)
    # Then the file is deleted and the job stays expired
    assert not _exists(s3, key)
    with Session(db) as session:
        assert session.get_one(ExportJob, job_id).status == ExportStatus.EXPIRED.value
