"""Students: creation and reading in scope, and the LGPD correction (PATCH) with its effect on the cached
pending-review pages and the next export."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import Student
from eduautismo.domain import Role
from tests.exports.conftest import export, read_csv, stored_bytes
from tests.students.conftest import PENDING_REVIEW, STUDENTS, enrol, ok, school, student_path
from tests.support.api import call_api
from tests.support.factories import Factory


def _count(db: Engine, model: Any) -> int:
    with Session(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _stored(db: Engine, student_id: uuid.UUID) -> tuple[str, Any]:
    with Session(db) as session:
        student = session.get_one(Student, student_id)
        return student.full_name, student.birth_date


def test_only_coordinators_create_students(factory: Factory, db: Engine) -> None:
    # Given a coordinator and a professional of one organization
    org = factory.organization()
    coordinator, professional = factory.user(org, Role.COORDINATOR), factory.user(org)
    # When each creates a student
    created = call_api("POST", STUDENTS, claims=coordinator.claims, json_body={"full_name": " Ana Souza "})
    refused = call_api("POST", STUDENTS, claims=professional.claims, json_body={"full_name": "Caio Lima"})
    # Then the coordinator's is created in their organization and the professional gets 403
    assert created.status == 201
    assert created.json["full_name"] == "Ana Souza"
    assert refused.status == 403
    with Session(db) as session:
        stored = session.scalars(select(Student)).all()
    assert [(s.full_name, s.organization_id) for s in stored] == [("Ana Souza", org)]


@pytest.mark.parametrize(
    "body",
    [
        {"full_name": ""},
        {"full_name": "   "},
        {},
        {"full_name": "Ana", "organization_id": str(uuid.uuid4())},
        {"full_name": "Ana", "birth_date": "not-a-date"},
    ],
)
def test_bad_student_bodies_are_422_and_create_nothing(
    factory: Factory, db: Engine, body: dict[str, Any]
) -> None:
    # Given a coordinator
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    # When they post an invalid student
    response = call_api("POST", STUDENTS, claims=coordinator.claims, json_body=body)
    # Then 422 names the problem and nothing is stored
    assert response.status == 422
    assert response.json["error"]["details"]
    assert _count(db, Student) == 0


def test_professionals_list_only_the_students_of_their_plans(factory: Factory) -> None:
    # Given two professionals with one student each and a student with no plan
    org = factory.organization()
    coordinator, mine, other = factory.user(org, Role.COORDINATOR), factory.user(org), factory.user(org)
    my_plan = factory.plan(mine)
    other_plan = factory.plan(other)
    unplanned = factory.student(org)
    # When each lists students
    seen_by_me = call_api("GET", STUDENTS, claims=mine.claims).json
    seen_by_coordinator = call_api("GET", STUDENTS, claims=coordinator.claims).json
    # Then the professional sees only their plan's student; the coordinator sees all three
    assert [item["id"] for item in seen_by_me["items"]] == [str(my_plan.student_id)]
    assert seen_by_me["total"] == 1
    assert {item["id"] for item in seen_by_coordinator["items"]} == {
        str(my_plan.student_id),
        str(other_plan.student_id),
        str(unplanned),
    }


def test_student_list_pages(factory: Factory) -> None:
    # Given five students
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    for number in range(5):
        factory.student(org, full_name=f"Aluno {number}")
    # When the coordinator reads pages of two
    pages = [
        call_api("GET", STUDENTS, claims=coordinator.claims, query={"skip": s, "limit": 2}).json
        for s in (0, 2, 4)
    ]
    # Then every student appears once, in name order, and has_more is right
    assert [item["full_name"] for page in pages for item in page["items"]] == [f"Aluno {n}" for n in range(5)]
    assert [page["has_more"] for page in pages] == [True, True, False]


def test_a_coordinator_corrects_name_and_birth_date_and_gets_the_whole_student(
    factory: Factory, db: Engine
) -> None:
    # Given a student with a misspelt name
    place = school(factory)
    pupil = enrol(place, "Helena Csota", plans=0)
    # When the coordinator corrects the name and the birth date
    response = call_api(
        "PATCH",
        student_path(pupil.id),
        claims=place.coordinator.claims,
        json_body={"full_name": " Helena Costa ", "birth_date": "2018-06-04"},
    )
    # Then 200 answers the whole corrected student, and it is stored
    body = ok(response)
    assert body == {
        "id": str(pupil.id),
        "full_name": "Helena Costa",
        "birth_date": "2018-06-04",
        "created_at": body["created_at"],
    }
    assert response.header("Cache-Control") == "no-store"
    assert _stored(db, pupil.id) == ("Helena Costa", date(2018, 6, 4))


def test_only_the_fields_sent_change_and_a_null_birth_date_clears_it(factory: Factory, db: Engine) -> None:
    # Given a student with a birth date
    place = school(factory)
    pupil = enrol(place, "Caio Lima", plans=0)
    # When the coordinator sends only birth_date: null
    body = ok(
        call_api(
            "PATCH", student_path(pupil.id), claims=place.coordinator.claims, json_body={"birth_date": None}
        )
    )
    # Then the birth date is cleared and the name kept
    assert (body["full_name"], body["birth_date"]) == ("Caio Lima", None)
    assert _stored(db, pupil.id) == ("Caio Lima", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": None}, "full_name"),
        ({"full_name": "  "}, "full_name"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"birth_date": "2101-01-01"}, "birth_date"),
        ({"birth_date": "1899-12-31"}, "birth_date"),
        ({"birth_date": "ontem"}, "birth_date"),
        ({"organization_id": str(uuid.uuid4())}, "organization_id"),
        ({"full_name": "Ana", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_bad_corrections_are_422_naming_the_field_and_change_nothing(
    factory: Factory, db: Engine, body: dict[str, Any], field: str
) -> None:
    # Given a student
    place = school(factory)
    pupil = enrol(place, "Caio Lima", plans=0)
    # When the coordinator sends a bad correction
    response = call_api("PATCH", student_path(pupil.id), claims=place.coordinator.claims, json_body=body)
    # Then 422 names the field and the student is unchanged
    assert response.status == 422, response.body
    assert field in {detail["field"] for detail in response.json["error"]["details"]}
    assert _stored(db, pupil.id) == ("Caio Lima", date(2018, 5, 4))


def test_professionals_may_not_correct_and_other_organizations_get_404(factory: Factory, db: Engine) -> None:
    # Given a student in a professional's caseload, and a coordinator of another organization
    place = school(factory)
    pupil = enrol(place, "Caio Lima", plans=1)
    outsider = school(factory, "Outra Escola").coordinator
    patch = {"full_name": "Outro Nome"}
    # When the professional, the outsider, and the coordinator with an unknown id try to correct
    by_professional = call_api(
        "PATCH", student_path(pupil.id), claims=place.professional.claims, json_body=patch
    )
    by_outsider = call_api("PATCH", student_path(pupil.id), claims=outsider.claims, json_body=patch)
    unknown = call_api("PATCH", student_path(uuid.uuid4()), claims=place.coordinator.claims, json_body=patch)
    # Then 403 for the role, 404 outside the organization or for a missing id, and nothing changed
    assert (by_professional.status, by_outsider.status, unknown.status) == (403, 404, 404)
    assert by_outsider.json == unknown.json
    assert _stored(db, pupil.id)[0] == "Caio Lima"


def test_a_correction_shows_at_once_in_the_cached_pending_review_page_and_the_next_export(
    factory: Factory, db: Engine, s3: Any
) -> None:
    # Given a student whose plan is pending review, and the page naming students already cached
    place = school(factory)
    pupil = enrol(place, "Helena Csota", plans=1, start_date="2026-01-05")
    query = {"include_student": "true"}
    first = call_api("GET", PENDING_REVIEW, claims=place.coordinator.claims, query=query)
    cached = call_api("GET", PENDING_REVIEW, claims=place.coordinator.claims, query=query)
    assert [first.header("X-Cache"), cached.header("X-Cache")] == ["MISS", "HIT"]
    assert cached.json["items"][0]["student"]["full_name"] == "Helena Csota"
    # When the coordinator corrects the name
    ok(
        call_api(
            "PATCH",
            student_path(pupil.id),
            claims=place.coordinator.claims,
            json_body={"full_name": "Helena Costa"},
        )
    )
    # Then the next page is rebuilt with the new name (the organization's cache generation moved on)
    after = call_api("GET", PENDING_REVIEW, claims=place.coordinator.claims, query=query)
    assert after.header("X-Cache") == "MISS"
    assert [item["student"]["full_name"] for item in after.json["items"]] == ["Helena Costa"]
    # And the next CSV export with the student column names the student correctly
    ok(export(place.coordinator, "csv", include_student=True))
    rows = read_csv(stored_bytes(s3, db, place.coordinator))
    column = rows[0].index("Aluno")
    assert [row[column] for row in rows[1:]] == ["Helena Costa"]
