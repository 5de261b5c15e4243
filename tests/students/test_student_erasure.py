"""DELETE /students/{id} (LGPD deletion): the student, their plans, reviews and notifications go in one
transaction; an audit row without personal data remains; nothing in any table still points at them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from eduautismo.db.models import StudentErasure
from eduautismo_local.cli import scheduled_event
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.template_routes import load_handler, scheduled_function
from tests.exports.conftest import export
from tests.notifications.support import notification_rows
from tests.students.conftest import PENDING_REVIEW, Pupil, enrol, ok, rows_of, school, student_path
from tests.support.api import call_api
from tests.support.factories import Factory

# Kept on purpose (documented in the README and the operation): the erasure's own audit row, and the
# export audit rows whose filters name the student id (ids and filters only, no name).
KEPT = {("student_erasures", "student_id"), ("export_jobs", "filters")}


def _erase(claims: dict[str, Any], student_id: uuid.UUID) -> Any:
    return call_api("DELETE", student_path(student_id), claims=claims)


def _references(db: Engine, needles: set[str]) -> set[tuple[str, str]]:
    """(table, column) of every value, in every table of the database, that contains one of ``needles``."""
    found: set[tuple[str, str]] = set()
    with db.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    shown = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
                    if any(needle in shown for needle in needles):
                        found.add((table, column))
    return found


def _traces(pupil: Pupil) -> set[str]:
    return {str(pupil.id), pupil.full_name, *(str(plan_id) for plan_id in pupil.plan_ids)}


def _erasures(db: Engine) -> list[StudentErasure]:
    with Session(db) as session:
        return list(session.scalars(select(StudentErasure)))


def test_erasure_leaves_no_row_about_the_student_and_an_audit_row_with_the_counts(
    factory: Factory, db: Engine, s3: Any
) -> None:
    # Given two students with plans, reviews and notifications, and an export filtered by the first
    place = school(factory)
    helena, caio = enrol(place, "Helena Costa"), enrol(place, "Caio Lima")
    ok(export(place.coordinator, "csv", student_id=helena.id))
    before = rows_of(db, helena)
    caio_before = rows_of(db, caio)
    assert before["plans"] == 2 and before["reviews"] == 2 and before["notifications"] > 0
    # When the coordinator erases Helena
    response = _erase(place.coordinator.claims, helena.id)
    # Then 204 with no body
    assert (response.status, response.body) == (204, b"")
    # And no table holds her id, her name or her plans' ids, except the two audit trails kept on purpose
    assert _references(db, _traces(helena)) == KEPT
    # And the audit row says who, when and how many rows of each kind, and nothing personal
    [erasure] = _erasures(db)
    assert (erasure.organization_id, erasure.student_id, erasure.erased_by_id) == (
        place.org_id,
        helena.id,
        place.coordinator.user_id,
    )
    assert (erasure.plans_deleted, erasure.reviews_deleted, erasure.notifications_deleted) == (
        before["plans"],
        before["reviews"],
        before["notifications"],
    )
    # And the other student is untouched
    assert rows_of(db, caio) == caio_before
    assert (
        ok(call_api("GET", student_path(caio.id), claims=place.coordinator.claims))["full_name"]
        == "Caio Lima"
    )


def test_a_second_delete_and_any_read_after_erasure_are_404(factory: Factory, db: Engine) -> None:
    # Given an erased student
    place = school(factory)
    helena = enrol(place, "Helena Costa", plans=1)
    assert _erase(place.coordinator.claims, helena.id).status == 204
    # When the coordinator deletes, reads, corrects and exports them again
    again = _erase(place.coordinator.claims, helena.id)
    read = call_api("GET", student_path(helena.id), claims=place.coordinator.claims)
    plan = call_api(
        "GET", f"/api/v1/intervention-plans/{helena.plan_ids[0]}", claims=place.coordinator.claims
    )
    # Then every one is 404 and there is still one audit row
    assert (again.status, read.status, plan.status) == (404, 404, 404)
    assert len(_erasures(db)) == 1


def test_professionals_get_403_and_other_organizations_404_and_nothing_is_erased(
    factory: Factory, db: Engine
) -> None:
    # Given a student in a professional's caseload and a coordinator of another organization
    place, elsewhere = school(factory), school(factory, "Outra Escola")
    helena = enrol(place, "Helena Costa", plans=1)
    before = rows_of(db, helena)
    # When the professional, the outsider and the coordinator (unknown id) try to erase
    by_professional = _erase(place.professional.claims, helena.id)
    by_outsider = _erase(elsewhere.coordinator.claims, helena.id)
    unknown = _erase(place.coordinator.claims, uuid.uuid4())
    # Then 403 for the role, 404 outside the organization or missing, and everything is still there
    assert (by_professional.status, by_outsider.status, unknown.status) == (403, 404, 404)
    assert rows_of(db, helena) == before
    assert _erasures(db) == []


def test_the_cached_pending_review_page_forgets_the_erased_student(factory: Factory, db: Engine) -> None:
    # Given a cached pending-review page naming two students
    place = school(factory)
    helena = enrol(place, "Helena Costa", plans=1, start_date="2026-01-05")
    enrol(place, "Caio Lima", plans=1, start_date="2026-01-05")
    query = {"include_student": "true"}
    call_api("GET", PENDING_REVIEW, claims=place.coordinator.claims, query=query)
    cached = call_api("GET", PENDING_REVIEW, claims=place.coordinator.claims, query=query)
    assert cached.header("X-Cache") == "HIT" and cached.json["total"] == 2
    # When Helena is erased
    assert _erase(place.coordinator.claims, helena.id).status == 204
    # Then the next page is rebuilt without her
    after = call_api("GET", PENDING_REVIEW, claims=place.coordinator.claims, query=query)
    assert after.header("X-Cache") == "MISS"
    assert [item["student"]["full_name"] for item in after.json["items"]] == ["Caio Lima"]


def test_the_daily_job_after_erasure_creates_nothing_for_the_erased_plans(
    factory: Factory, db: Engine
) -> None:
    # Given two students whose plans are long overdue, and the first one erased
    place = school(factory)
    helena = enrol(place, "Helena Costa", plans=2, start_date="2026-01-05")
    caio = enrol(place, "Caio Lima", plans=1, start_date="2026-01-05")
    assert _erase(place.coordinator.claims, helena.id).status == 204
    existing = {row.id for row in notification_rows(db)}
    # When the scheduled handler of the template runs
    handler = load_handler(*scheduled_function())  # type: ignore[misc]
    summary = handler(
        scheduled_event("2026-11-25T09:00:00Z"), LocalLambdaContext(function_name="DailyJobFunction")
    )
    # Then it reminds the professional of Caio's plan only, and the coordinator's escalation counts one plan
    created = [row for row in notification_rows(db) if row.id not in existing]
    assert summary["plans_scanned"] == 1
    assert {row.type for row in created} == {"review_overdue"}
    [reminder] = [row for row in created if row.user_id == place.professional.user_id]
    [escalation] = [row for row in created if row.user_id == place.coordinator.user_id]
    assert reminder.intervention_plan_id in caio.plan_ids and len(created) == 2
    assert escalation.intervention_plan_id is None and "1 plano com a revisão atrasada" in escalation.message
    # And still nothing but her erasure's audit row points at Helena
    assert _references(db, _traces(helena)) == {("student_erasures", "student_id")}
