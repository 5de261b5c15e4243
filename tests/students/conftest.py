"""Fixtures of the students feature: a school whose students have plans, reviews and notifications made
through the API (so every row is what production writes), and S3 in moto for the data exports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import ExportJob, InterventionPlan, Notification, PlanReview
from eduautismo.domain import Role
from tests.exports.conftest import s3 as s3  # the export bucket in moto, shared with the exports tests
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory

STUDENTS = "/api/v1/students"
PLANS = "/api/v1/intervention-plans"
PENDING_REVIEW = "/api/v1/intervention-plans/pending-review"


def student_path(student_id: uuid.UUID | str, suffix: str = "") -> str:
    return f"{STUDENTS}/{student_id}{suffix}"


def ok(response: ApiResponse, status: int = 200) -> Any:
    assert response.status == status, response.body
    return response.json if response.body else None


@dataclass
class Pupil:
    """A student with the plans, reviews and notifications the API made for them."""

    id: uuid.UUID
    full_name: str
    plan_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass
class School:
    coordinator: Actor
    professional: Actor
    org_id: uuid.UUID


def school(factory: Factory, name: str = "Escola Teste") -> School:
    org = factory.organization(name=name)
    return School(
        coordinator=factory.user(org, Role.COORDINATOR, name="Coordenadora Marta"),
        professional=factory.user(org, name="Terapeuta Paulo"),
        org_id=org,
    )


def enrol(place: School, full_name: str, plans: int = 2, start_date: str | None = None) -> Pupil:
    """The coordinator creates the student and ``plans`` plans (the first high priority) assigned to the
    professional, who reviews each once: plan_created, high_priority and plan_reviewed notifications."""
    created = ok(
        call_api(
            "POST",
            STUDENTS,
            claims=place.coordinator.claims,
            json_body={"full_name": full_name, "birth_date": "2018-05-04"},
        ),
        201,
    )
    pupil = Pupil(uuid.UUID(created["id"]), full_name)
    for number in range(plans):
        body: dict[str, Any] = {
            "student_id": str(pupil.id),
            "professional_id": str(place.professional.user_id),
            "title": f"Plano {number} de {full_name}",
            "review_frequency": "weekly",
            "priority": "high" if number == 0 else "medium",
        }
        if start_date is not None:
            body["start_date"] = start_date
        plan = ok(call_api("POST", PLANS, claims=place.coordinator.claims, json_body=body), 201)
        plan_id = uuid.UUID(plan["id"])
        if start_date is None:
            review = {"notes": f"Evolução de {full_name}"}
            ok(
                call_api(
                    "POST", f"{PLANS}/{plan_id}/reviews", claims=place.professional.claims, json_body=review
                ),
                201,
            )
        pupil.plan_ids.append(plan_id)
    return pupil


def rows_of(db: Engine, pupil: Pupil) -> dict[str, int]:
    """How many plans, reviews and notifications reference the pupil (or their plans)."""
    with Session(db) as session:

        def count(statement: Any) -> int:
            return int(session.scalar(statement) or 0)

        return {
            "plans": count(select(func.count()).where(InterventionPlan.student_id == pupil.id)),
            "reviews": count(select(func.count()).where(PlanReview.plan_id.in_(pupil.plan_ids))),
            "notifications": count(
                select(func.count()).where(Notification.intervention_plan_id.in_(pupil.plan_ids))
            ),
        }


def export_jobs(db: Engine, actor: Actor) -> list[ExportJob]:
    with Session(db) as session:
        statement = select(ExportJob).where(ExportJob.user_id == actor.user_id).order_by(ExportJob.created_at)
        return list(session.scalars(statement))
