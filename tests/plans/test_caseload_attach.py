"""A professional creates plans only for students already in their caseload; any other
student answers exactly like one that does not exist. A coordinator attaches any student of the
organization, and only a coordinator hands a plan to another professional."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from tests.plans.conftest import PLANS
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory


def _create(actor: Actor, student_id: uuid.UUID, **extra: str) -> ApiResponse:
    body = {"student_id": str(student_id), "title": "Comunicação alternativa", "review_frequency": "weekly"}
    return call_api("POST", PLANS, claims=actor.claims, json_body=body | extra)


def _plans_of(db: Engine, actor: Actor) -> int:
    with Session(db) as session:
        statement = select(func.count()).where(InterventionPlan.professional_id == actor.user_id)
        return int(session.scalar(statement) or 0)


def test_a_professional_cannot_attach_a_student_outside_their_caseload(factory: Factory, db: Engine) -> None:
    # Given two professionals with a student each, and a student of the organization in no caseload
    organization = factory.organization()
    alice, bruno = factory.user(organization), factory.user(organization)
    brunos_student = factory.plan(bruno).student_id
    unassigned_student = factory.student(organization, "Sem Plano")
    unknown = _create(alice, uuid.uuid4())
    # When Alice attaches either of them to a plan of her own
    for student_id in (brunos_student, unassigned_student):
        response = _create(alice, student_id)
        # Then the answer is exactly the one for a student that does not exist, and nothing is stored
        assert (response.status, response.json) == (unknown.status, unknown.json)
        assert response.status == 404
    assert _plans_of(db, alice) == 0


def test_a_professional_attaches_a_student_already_in_their_caseload(factory: Factory, db: Engine) -> None:
    # Given a professional with one plan for a student
    alice = factory.user(factory.organization())
    student_id = factory.plan(alice).student_id
    # When she creates a second plan for that student
    response = _create(alice, student_id)
    # Then it is created
    assert response.status == 201, response.json
    assert response.json["student_id"] == str(student_id)


def test_a_coordinator_attaches_any_student_of_the_organization_which_enters_the_caseload(
    factory: Factory, db: Engine
) -> None:
    # Given a coordinator, a professional, and a student in no caseload
    organization = factory.organization()
    coordinator, alice = factory.user(organization, Role.COORDINATOR), factory.user(organization)
    student_id = factory.student(organization)
    # When the coordinator assigns a plan for that student to Alice
    assigned = _create(coordinator, student_id, professional_id=str(alice.user_id))
    # Then it is created, and the student is now Alice's to plan for
    assert assigned.status == 201, assigned.json
    assert _create(alice, student_id).status == 201
    # But a student of another organization stays unknown to the coordinator
    foreign_student = factory.student(factory.organization())
    assert _create(coordinator, foreign_student).status == 404


def test_only_a_coordinator_hands_a_plan_to_another_professional(factory: Factory, db: Engine) -> None:
    # Given a plan of Alice's, and Bruno in her organization
    organization = factory.organization()
    coordinator, alice, bruno = (
        factory.user(organization, Role.COORDINATOR),
        factory.user(organization),
        factory.user(organization),
    )
    plan_id = factory.plan(alice).id
    # When Alice hands it to Bruno, it is refused (403) and stays hers
    handover = {"professional_id": str(bruno.user_id)}
    refused = call_api("PATCH", f"{PLANS}/{plan_id}", claims=alice.claims, json_body=handover)
    assert refused.status == 403
    assert _plans_of(db, bruno) == 0
    # When the coordinator does, it moves
    moved = call_api(
        "PATCH",
        f"{PLANS}/{plan_id}",
        claims=coordinator.claims,
        json_body={"professional_id": str(bruno.user_id)},
    )
    assert moved.status == 200, moved.json
    assert moved.json["professional_id"] == str(bruno.user_id)
