"""GET /students/{id}/plan-document: who gets which plans, and the exports' path (quota, audit row, random
key, encryption, link envelope, redirect)."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from tests.exports.conftest import LINK_FIELDS
from tests.plan_document.conftest import (
    BUCKET,
    School,
    jobs_of,
    page_texts,
    plan_document,
    record_reviews,
    school,
    stored_pdf,
)
from tests.support.api import call_api
from tests.support.factories import Factory


@pytest.mark.usefixtures("clock_at_now")
def test_a_coordinator_gets_every_plan_of_the_student_and_nothing_else(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student with plans of two professionals (one archived, one paused) and a classmate's plan
    classmate = factory.student(place.org_id, "Caio Lima")
    communication = factory.plan(place.professional, student_id=helena, title="Comunicação alternativa")
    factory.plan(place.other_professional, student_id=helena, title="Coordenação motora", status="paused")
    factory.plan(place.professional, student_id=helena, title="Plano antigo arquivado", status="archived")
    factory.plan(place.professional, student_id=classmate, title="Plano do colega")
    record_reviews(
        db, communication, place.professional, [datetime(2026, 11, 30, 14, tzinfo=UTC)], "Evoluiu bem"
    )
    # When the coordinator asks for her plan document
    response = plan_document(place.coordinator, helena)
    # Then the answer is the exports' link envelope to a PDF named without the student
    assert response.status == 200, response.body
    link = response.json
    assert set(link) == LINK_FIELDS
    assert link["content_type"] == "application/pdf"
    assert re.fullmatch(r"plano_intervencao_20261204_120000\.pdf", link["filename"])
    assert link["row_count"] == 2
    assert response.header("Cache-Control") == "no-store"
    # And the PDF names the school, the student, her non-archived plans and the review's notes
    text = "\n".join(page_texts(stored_pdf(s3, db, place.coordinator)))
    for expected in (
        "Escola Raio de Sol",
        "Helena Costa",
        "Comunicação alternativa",
        "Coordenação motora",
        "Evoluiu bem",
        "Terapeuta Paulo",
        "Professora Lúcia",
    ):
        assert expected in text
    assert "Plano antigo arquivado" not in text and "Plano do colega" not in text and "Caio" not in text
    # And the active plan comes before the paused one
    assert text.index("Comunicação alternativa") < text.index("Coordenação motora")


def test_archived_plans_only_when_asked(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student with an active and an archived plan
    factory.plan(place.professional, student_id=helena, title="Plano ativo")
    factory.plan(place.professional, student_id=helena, title="Plano arquivado", status="archived")
    # When the coordinator asks with include_archived=true
    response = plan_document(place.coordinator, helena, include_archived=True)
    # Then both plans are in it, the archived one last
    assert response.status == 200, response.body
    assert response.json["row_count"] == 2
    text = "\n".join(page_texts(stored_pdf(s3, db, place.coordinator)))
    assert text.index("Plano ativo") < text.index("Plano arquivado")
    assert "Arquivado" in text


def test_a_professional_gets_only_their_own_plans_of_a_student_in_their_caseload(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student with a plan of each of two professionals, and a third professional without any
    factory.plan(place.professional, student_id=helena, title="Plano do Paulo")
    factory.plan(place.other_professional, student_id=helena, title="Plano da Lúcia")
    outsider = factory.user(place.org_id, name="Fono Rita")
    # When Paulo asks for her document
    response = plan_document(place.professional, helena)
    # Then it holds his plan only
    assert response.status == 200, response.body
    assert response.json["row_count"] == 1
    text = "\n".join(page_texts(stored_pdf(s3, db, place.professional)))
    assert "Plano do Paulo" in text and "Plano da Lúcia" not in text
    # And a professional without a plan of hers gets 404, and so does another school's coordinator
    assert plan_document(outsider, helena).status == 404
    elsewhere = school(factory, "Outra Escola")
    missing = plan_document(elsewhere.coordinator, helena)
    assert missing.status == 404
    assert missing.json["error"]["code"] == "not_found"
    assert jobs_of(db, outsider) == [] and jobs_of(db, elsewhere.coordinator) == []


def test_an_erased_student_is_404(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student the coordinator erased
    factory.plan(place.professional, student_id=helena)
    erased = call_api("DELETE", f"/api/v1/students/{helena}", claims=place.coordinator.claims)
    assert erased.status == 204
    # When the coordinator asks for her plan document
    response = plan_document(place.coordinator, helena)
    # Then the answer is 404 and no export was recorded
    assert response.status == 404
    assert response.json["error"]["code"] == "not_found"
    assert jobs_of(db, place.coordinator) == []


def test_the_file_is_encrypted_under_a_random_key_and_audited_with_the_student_and_scope(
    place: School, helena: uuid.UUID, factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student
    factory.plan(place.professional, student_id=helena)
    # When the professional asks for her plan document
    link = plan_document(place.professional, helena).json
    # Then an export_jobs row records it: format pdf, the student, the option and the scope
    [job] = jobs_of(db, place.professional)
    assert (job.format, job.status, job.row_count, job.size_bytes, job.filename) == (
        "pdf",
        "succeeded",
        1,
        link["size_bytes"],
        link["filename"],
    )
    assert job.filters == {
        "kind": "plan_document",
        "filters": {"student_id": str(helena)},
        "include_archived": False,
        "scope": {"role": "professional"},
        "asynchronous": False,
    }
    # And the object is encrypted, under a random key with no name in it, served as an attachment
    head = s3.head_object(Bucket=BUCKET, Key=job.s3_key)
    assert head["ServerSideEncryption"] in ("AES256", "aws:kms")
    assert re.fullmatch(r"exports/[0-9a-f-]{36}\.pdf", job.s3_key)
    assert head["ContentType"] == "application/pdf"
    assert head["ContentDisposition"] == f'attachment; filename="{link["filename"]}"'
    assert head["ContentLength"] == link["size_bytes"]
    assert link["download_url"].startswith("https://") and "X-Amz-Signature" in link["download_url"]


def test_redirect_answers_303_to_the_link(place: School, helena: uuid.UUID, db: Engine, s3: Any) -> None:
    # Given a student
    # When the coordinator asks with redirect=true
    response = plan_document(place.coordinator, helena, redirect=True)
    # Then the answer is 303, without a body, to the presigned link of the stored PDF
    assert response.status == 303, response.body
    location = response.header("Location") or ""
    assert location.startswith("https://") and "X-Amz-Signature" in location
    assert jobs_of(db, place.coordinator)[-1].s3_key in location
    assert response.body == b""


def test_the_daily_export_quota_counts_plan_documents(
    place: School, helena: uuid.UUID, db: Engine, s3: Any, override_settings: Callable[..., None]
) -> None:
    # Given a quota of one export a day, already used by a plan document
    override_settings(exports_per_user_per_day="1")
    assert plan_document(place.coordinator, helena).status == 200
    # When the coordinator asks again
    response = plan_document(place.coordinator, helena)
    # Then the answer is 429 and no second row is recorded
    assert response.status == 429
    assert response.json["error"]["code"] == "quota_exceeded"
    assert len(jobs_of(db, place.coordinator)) == 1


def test_a_malformed_student_id_is_422(place: School, db: Engine, s3: Any) -> None:
    response = plan_document(place.coordinator, "not-a-uuid")
    assert response.status == 422
    assert response.json["error"]["details"][0]["field"] == "student_id"


def test_the_document_metadata(place: School, helena: uuid.UUID, db: Engine, s3: Any) -> None:
    # Given a student
    # When the coordinator downloads her plan document
    assert plan_document(place.coordinator, helena).status == 200
    reader = PdfReader(io.BytesIO(stored_pdf(s3, db, place.coordinator)))
    # Then it is A4, titled, in pt-BR, made by the application, without the student's name in its metadata
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Plano de Intervenção Individual (PEI)"
    assert metadata.creator == "EduAutismo Planos"
    assert reader.trailer["/Root"]["/Lang"] == "pt-BR"
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    assert "Helena" not in str(dict(metadata))


@pytest.mark.usefixtures("clock_at_now")
def test_birth_date_and_age_are_shown(place: School, db: Engine, s3: Any) -> None:
    # Given a student born on 5 December 2018, on 4 December 2026
    created = call_api(
        "POST",
        "/api/v1/students",
        claims=place.coordinator.claims,
        json_body={"full_name": "Helena Costa", "birth_date": date(2018, 12, 5).isoformat()},
    )
    # When the coordinator downloads her plan document
    assert plan_document(place.coordinator, created.json["id"]).status == 200
    # Then it gives her birth date and her age (7: her eighth birthday is tomorrow)
    first_page = page_texts(stored_pdf(s3, db, place.coordinator))[0]
    assert "Data de nascimento: 05/12/2018 (7 anos)" in first_page
    assert "Gerado em 04/12/2026 às 12:00 (America/Sao_Paulo)" in first_page


def test_the_students_data_export_lists_the_plan_document_as_naming_the_student(
    place: School, helena: uuid.UUID, db: Engine, s3: Any
) -> None:
    # Given a student whose plan document was downloaded
    assert plan_document(place.coordinator, helena).status == 200
    # When the coordinator exports everything held about her (LGPD access)
    exported = call_api("GET", f"/api/v1/students/{helena}/data-export", claims=place.coordinator.claims)
    assert exported.status == 200, exported.body
    key = jobs_of(db, place.coordinator)[-1].s3_key
    document = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    # Then the plan document's export is listed as one that named her
    assert [(job["format"], job["match"]) for job in document["export_jobs"]] == [("pdf", "student_filter")]


def test_erasing_the_student_expires_her_plan_documents(
    place: School, helena: uuid.UUID, db: Engine, s3: Any
) -> None:
    # Given a student whose plan document was downloaded
    assert plan_document(place.coordinator, helena).status == 200
    [job] = jobs_of(db, place.coordinator)
    # When the coordinator erases her
    assert call_api("DELETE", f"/api/v1/students/{helena}", claims=place.coordinator.claims).status == 204
    # Then the document's job is expired, its file deleted, and its status no longer links to it
    [expired] = jobs_of(db, place.coordinator)
    assert expired.status == "expired"
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
    status = call_api("GET", f"/api/v1/export/jobs/{job.id}", claims=place.coordinator.claims)
    assert status.status == 404
