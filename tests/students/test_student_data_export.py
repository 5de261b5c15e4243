"""GET /students/{id}/data-export (LGPD access and portability): one JSON document with exactly the
student's rows, behind a presigned link, audited and counted in the daily export quota."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from eduautismo.db.models import Notification, PlanReview
from tests.exports.conftest import BUCKET, LINK_FIELDS, export
from tests.students.conftest import Pupil, School, enrol, export_jobs, ok, school, student_path
from tests.support.api import call_api
from tests.support.factories import Factory


def _data_export(actor_claims: dict[str, Any], student_id: uuid.UUID) -> Any:
    return call_api("GET", student_path(student_id, "/data-export"), claims=actor_claims)


def _document(s3: Any, db: Engine, place: School) -> dict[str, Any]:
    key = export_jobs(db, place.coordinator)[-1].s3_key
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())  # type: ignore[no-any-return]


def _ids_referencing(db: Engine, pupil: Pupil) -> tuple[set[str], set[str]]:
    with Session(db) as session:
        reviews = session.scalars(select(PlanReview.id).where(PlanReview.plan_id.in_(pupil.plan_ids)))
        notifications = session.scalars(
            select(Notification.id).where(Notification.intervention_plan_id.in_(pupil.plan_ids))
        )
        return {str(i) for i in reviews}, {str(i) for i in notifications}


def test_the_document_holds_exactly_the_students_rows(factory: Factory, db: Engine, s3: Any) -> None:
    # Given two students of one school and one of another school, each with plans, reviews and
    # notifications, and exports filtered by each student, unfiltered, and in the other school
    place, elsewhere = school(factory), school(factory, "Outra Escola")
    helena, caio = enrol(place, "Helena Costa"), enrol(place, "Caio Lima")
    outsider = enrol(elsewhere, "Bia Souza")
    ok(export(place.coordinator, "csv", student_id=helena.id))
    ok(export(place.coordinator, "csv", student_id=caio.id))
    ok(export(place.professional, "excel"))
    ok(export(elsewhere.coordinator, "csv"))
    # When the coordinator exports Helena's data
    response = _data_export(place.coordinator.claims, helena.id)
    # Then the answer is the exports' link envelope to a JSON file
    link = ok(response)
    assert set(link) == LINK_FIELDS
    assert link["content_type"] == "application/json"
    assert link["filename"].startswith(f"dados_aluno_{helena.id}_") and link["filename"].endswith(".json")
    assert response.header("Cache-Control") == "no-store"
    document = _document(s3, db, place)
    # And the document holds Helena, her plans with their reviews, and the notifications about them
    assert document["student"]["id"] == str(helena.id)
    assert document["student"]["full_name"] == "Helena Costa"
    assert document["student"]["birth_date"] == "2018-05-04"
    assert [plan["id"] for plan in document["plans"]] == [str(plan_id) for plan_id in helena.plan_ids]
    reviews, notifications = _ids_referencing(db, helena)
    assert {review["id"] for plan in document["plans"] for review in plan["reviews"]} == reviews
    assert {review["notes"] for plan in document["plans"] for review in plan["reviews"]} == {
        "Evolução de Helena Costa"
    }
    assert {item["id"] for item in document["notifications"]} == notifications
    assert {item["type"] for item in document["notifications"]} == {
        "plan_created",
        "high_priority",
        "plan_reviewed",
    }
    # And the exports that named her or could have held her rows, never one naming Caio or of elsewhere
    matches = sorted((job["format"], job["match"]) for job in document["export_jobs"])
    assert matches == [("csv", "student_filter"), ("xlsx", "organization_scope")]
    # And nothing of Caio, of the other school, nor any other person's name or e-mail
    text = json.dumps(document)
    for foreign in (
        caio.full_name,
        str(caio.id),
        *map(str, caio.plan_ids),
        outsider.full_name,
        str(outsider.id),
    ):
        assert foreign not in text
    for person in (place.coordinator, place.professional):
        assert person.name not in text and person.email not in text
    assert link["row_count"] == 1 + 2 + len(reviews) + len(notifications) + 2
    assert (
        link["size_bytes"]
        == s3.head_object(Bucket=BUCKET, Key=export_jobs(db, place.coordinator)[-1].s3_key)["ContentLength"]
    )


def test_the_file_is_encrypted_under_a_random_key_and_the_export_is_audited(
    factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student
    place = school(factory)
    helena = enrol(place, "Helena Costa", plans=1)
    # When the coordinator exports her data
    link = ok(_data_export(place.coordinator.claims, helena.id))
    # Then an export_jobs row records it (format json, the student's id, the outcome)
    [job] = export_jobs(db, place.coordinator)
    assert (job.format, job.status, job.row_count, job.size_bytes) == (
        "json",
        "succeeded",
        link["row_count"],
        link["size_bytes"],
    )
    assert job.filters == {
        "kind": "student_data",
        "filters": {"student_id": str(helena.id)},
        "scope": {"role": "coordinator"},
        "asynchronous": False,
    }
    # And the object is encrypted, under a key with no name in it, served as an attachment
    head = s3.head_object(Bucket=BUCKET, Key=job.s3_key)
    assert head["ServerSideEncryption"] in ("AES256", "aws:kms")
    assert job.s3_key.startswith("exports/") and "Helena" not in job.s3_key
    assert head["ContentDisposition"] == f'attachment; filename="{link["filename"]}"'
    assert link["download_url"].startswith("https://") and "X-Amz-Signature" in link["download_url"]


def test_data_exports_count_in_the_daily_quota(
    factory: Factory, db: Engine, s3: Any, override_settings: Any
) -> None:
    # Given a quota of one export a day
    place = school(factory)
    helena = enrol(place, "Helena Costa", plans=0)
    override_settings(export_bucket=BUCKET, exports_per_user_per_day="1")
    # When the coordinator exports twice
    first = _data_export(place.coordinator.claims, helena.id)
    second = _data_export(place.coordinator.claims, helena.id)
    # Then the second is 429 and leaves no audit row
    assert (first.status, second.status) == (200, 429)
    assert second.json["error"]["code"] == "quota_exceeded"
    assert len(export_jobs(db, place.coordinator)) == 1


def test_only_coordinators_of_the_students_organization_export(factory: Factory, db: Engine, s3: Any) -> None:
    # Given a student in a professional's caseload and a coordinator of another organization
    place, elsewhere = school(factory), school(factory, "Outra Escola")
    helena = enrol(place, "Helena Costa", plans=1)
    # When the professional, the outsider and the coordinator (unknown id) ask for a data export
    by_professional = _data_export(place.professional.claims, helena.id)
    by_outsider = _data_export(elsewhere.coordinator.claims, helena.id)
    unknown = _data_export(place.coordinator.claims, uuid.uuid4())
    # Then 403 for the role, 404 outside the organization or missing; nothing exported
    assert (by_professional.status, by_outsider.status, unknown.status) == (403, 404, 404)
    for actor in (place.professional, elsewhere.coordinator, place.coordinator):
        assert export_jobs(db, actor) == []
