"""Students and plans endpoints: roles, derived dates, reviews, mass assignment, bad input."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.db.models import InterventionPlan, PlanReview
from eduautismo.domain import Role
from eduautismo.notifications import plan_events
from tests.plans.conftest import PLANS
from tests.support.api import call_api
from tests.support.factories import Factory

NOON_SAO_PAULO = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
# Fields the server owns: a body that sets them is refused, never applied.
SERVER_OWNED = [
    ("organization_id", str(uuid.uuid4())),
    ("created_by_id", str(uuid.uuid4())),
    ("next_review_due", "2030-01-01"),
    ("last_reviewed_at", "2026-01-01T10:00:00Z"),
]


def _count(db: Engine, model: Any) -> int:
    with Session(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _plan_body(student_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "student_id": str(student_id),
        "title": "Comunicação alternativa",
        "review_frequency": "weekly",
        **extra,
    }


def test_a_professional_creates_a_plan_for_themself_with_the_due_date_derived(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a professional, a student already in their caseload and "now"
    org = factory.organization()
    professional = factory.user(org)
    student = factory.plan(professional).student_id
    set_now(NOON_SAO_PAULO)
    # When they create a monthly plan starting on 31 January without naming the professional
    response = call_api(
        "POST",
        PLANS,
        claims=professional.claims,
        json_body=_plan_body(student, review_frequency="monthly", start_date="2026-01-31", priority="high"),
    )
    # Then it is theirs, created by them, and due one calendar month later (clamped to February)
    assert response.status == 201
    plan = response.json
    assert plan["professional_id"] == plan["created_by_id"] == str(professional.user_id)
    assert plan["next_review_due"] == "2026-02-28"
    assert plan["is_overdue"] is True
    assert plan["days_overdue"] == (date(2026, 3, 10) - date(2026, 2, 28)).days
    assert plan["priority"] == "high"


def test_start_date_defaults_to_the_organizations_today(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given 01:00 UTC on 11 March, which is still 10 March in São Paulo
    org = factory.organization()
    professional = factory.user(org)
    set_now(datetime(2026, 3, 11, 1, 0, tzinfo=UTC))
    # When a daily plan is created without a start date
    plan = call_api(
        "POST",
        PLANS,
        claims=professional.claims,
        json_body=_plan_body(factory.plan(professional).student_id, review_frequency="daily"),
    ).json
    # Then it starts on the local date
    assert (plan["start_date"], plan["next_review_due"]) == ("2026-03-10", "2026-03-11")


def test_a_professional_cannot_create_a_plan_for_someone_else(factory: Factory, db: Engine) -> None:
    # Given two professionals
    org = factory.organization()
    professional, colleague = factory.user(org), factory.user(org)
    # When one creates a plan naming the other
    body = _plan_body(factory.student(org), professional_id=str(colleague.user_id))
    response = call_api("POST", PLANS, claims=professional.claims, json_body=body)
    # Then 403 and nothing is stored
    assert response.status == 403
    assert _count(db, InterventionPlan) == 0


def test_a_coordinator_assigns_a_professional_of_their_organization_only(
    factory: Factory, db: Engine
) -> None:
    # Given a coordinator, a professional of theirs and a professional of another organization
    org = factory.organization()
    coordinator, professional = factory.user(org, Role.COORDINATOR), factory.user(org)
    stranger = factory.user(factory.organization())
    student = factory.student(org)
    # When the coordinator assigns a plan to each
    assigned = call_api(
        "POST",
        PLANS,
        claims=coordinator.claims,
        json_body=_plan_body(student, professional_id=str(professional.user_id)),
    )
    refused = call_api(
        "POST",
        PLANS,
        claims=coordinator.claims,
        json_body=_plan_body(student, professional_id=str(stranger.user_id)),
    )
    # Then the first is the professional's, created by the coordinator; the second is 404 naming the field
    assert assigned.status == 201
    assert assigned.json["professional_id"] == str(professional.user_id)
    assert assigned.json["created_by_id"] == str(coordinator.user_id)
    assert refused.status == 404
    assert refused.json["error"]["details"][0]["field"] == "professional_id"
    assert _count(db, InterventionPlan) == 1


def test_a_student_of_another_organization_cannot_get_a_plan(factory: Factory, db: Engine) -> None:
    # Given a coordinator and a student of another organization
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    foreign_student = factory.student(factory.organization())
    # When the coordinator creates a plan for that student
    response = call_api("POST", PLANS, claims=coordinator.claims, json_body=_plan_body(foreign_student))
    # Then 404 naming student_id (like an unknown id), nothing stored
    assert response.status == 404
    assert response.json["error"]["details"][0]["field"] == "student_id"
    assert _count(db, InterventionPlan) == 0


@pytest.mark.parametrize(("field", "value"), [*SERVER_OWNED, ("id", str(uuid.uuid4())), ("priority_rank", 0)])
def test_mass_assignment_on_create_is_refused(factory: Factory, db: Engine, field: str, value: Any) -> None:
    # Given a coordinator and a student
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    # When the body also sets a server-owned field
    body = _plan_body(factory.student(org), **{field: value})
    response = call_api("POST", PLANS, claims=coordinator.claims, json_body=body)
    # Then 422 names that field and nothing is created
    assert response.status == 422
    assert field in {detail["field"] for detail in response.json["error"]["details"]}
    assert _count(db, InterventionPlan) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        *SERVER_OWNED,
        ("student_id", str(uuid.uuid4())),
        ("title", None),
        ("title", ""),
        ("priority", "urgent"),
        ("status", "deleted"),
        ("review_frequency", "yearly"),
        ("start_date", "31/01/2026"),
    ],
)
def test_bad_or_mass_assigning_patches_are_422_and_change_nothing(
    factory: Factory, field: str, value: Any
) -> None:
    # Given a plan of a coordinator's organization
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    plan = factory.plan(factory.user(org))
    before = call_api("GET", f"{PLANS}/{plan.id}", claims=coordinator.claims).json
    # When a PATCH carries the bad field next to a valid change
    response = call_api(
        "PATCH",
        f"{PLANS}/{plan.id}",
        claims=coordinator.claims,
        json_body={"description": "novo", field: value},
    )
    # Then 422 names the field and the plan is unchanged
    assert response.status == 422
    assert field in {detail["field"] for detail in response.json["error"]["details"]}
    assert call_api("GET", f"{PLANS}/{plan.id}", claims=coordinator.claims).json == before


def test_patch_recomputes_the_due_date_and_answers_the_whole_plan(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given a weekly plan started on 2 March
    org = factory.organization()
    professional = factory.user(org)
    plan = factory.plan(professional, review_frequency="weekly", start_date=date(2026, 3, 2))
    set_now(NOON_SAO_PAULO)
    # When its frequency becomes quarterly and its title changes
    response = call_api(
        "PATCH",
        f"{PLANS}/{plan.id}",
        claims=professional.claims,
        json_body={"review_frequency": "quarterly", "title": "Rotina matinal"},
    )
    # Then the whole plan comes back with the due date three calendar months after the start
    assert response.status == 200
    assert response.json["next_review_due"] == "2026-06-02"
    assert response.json["title"] == "Rotina matinal"
    assert response.json["created_by_id"] == str(professional.user_id)


def test_only_coordinators_reassign_a_plan(factory: Factory) -> None:
    # Given a professional's plan, a colleague and a coordinator
    org = factory.organization()
    coordinator, professional, colleague = (
        factory.user(org, Role.COORDINATOR),
        factory.user(org),
        factory.user(org),
    )
    plan = factory.plan(professional)
    path = f"{PLANS}/{plan.id}"
    # When the professional hands it to the colleague, keeps it explicitly, then the coordinator reassigns it
    handed = call_api(
        "PATCH", path, claims=professional.claims, json_body={"professional_id": str(colleague.user_id)}
    )
    kept = call_api(
        "PATCH", path, claims=professional.claims, json_body={"professional_id": str(professional.user_id)}
    )
    reassigned = call_api(
        "PATCH", path, claims=coordinator.claims, json_body={"professional_id": str(colleague.user_id)}
    )
    # Then only the coordinator's reassignment happens; afterwards the plan is out of the first one's scope
    assert handed.status == 403
    assert kept.status == 200
    assert reassigned.status == 200
    assert reassigned.json["professional_id"] == str(colleague.user_id)
    assert call_api("GET", path, claims=professional.claims).status == 404
    assert call_api("GET", path, claims=colleague.claims).status == 200


def test_a_review_is_recorded_and_moves_the_due_date(
    factory: Factory, db: Engine, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given an overdue biweekly plan and "now" at 23:30 in São Paulo (already the next day in UTC)
    org = factory.organization()
    professional = factory.user(org)
    plan = factory.plan(professional, review_frequency="biweekly", start_date=date(2026, 1, 1))
    now = set_now(datetime(2026, 3, 11, 2, 30, tzinfo=UTC)).instant
    # When the professional records a review with notes
    response = call_api(
        "POST", f"{PLANS}/{plan.id}/reviews", claims=professional.claims, json_body={"notes": "ok"}
    )
    # Then the review is stored and the plan is due 14 days after the local review date
    assert response.status == 201
    assert response.json["plan"]["next_review_due"] == "2026-03-24"
    assert response.json["plan"]["is_overdue"] is False
    with Session(db) as session:
        review = session.scalars(select(PlanReview)).one()
        stored = session.get(InterventionPlan, plan.id)
    assert (review.plan_id, review.reviewer_id, review.notes) == (plan.id, professional.user_id, "ok")
    assert review.reviewed_at == now
    assert stored is not None and stored.last_reviewed_at == now


def test_a_review_needs_no_body(factory: Factory, db: Engine) -> None:
    # Given a plan
    professional = factory.user(factory.organization())
    plan = factory.plan(professional)
    # When a review is posted without a body
    response = call_api("POST", f"{PLANS}/{plan.id}/reviews", claims=professional.claims)
    # Then it is recorded without notes
    assert response.status == 201
    assert response.json["notes"] is None
    assert _count(db, PlanReview) == 1


@pytest.mark.parametrize(
    ("hook", "method", "suffix", "body"),
    [
        ("plan_created", "POST", "", None),
        ("plan_updated", "PATCH", "/{id}", {"priority": "high"}),
        ("plan_reviewed", "POST", "/{id}/reviews", {"notes": "x"}),
    ],
)
def test_plan_writes_call_their_hook_inside_the_write_transaction(
    factory: Factory,
    db: Engine,
    monkeypatch: pytest.MonkeyPatch,
    hook: str,
    method: str,
    suffix: str,
    body: Any,
) -> None:
    # Given a plan, and a notification hook that fails after seeing the unsaved write in its session
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    plan = factory.plan(factory.user(org), priority="low")
    seen: list[tuple[str, bool]] = []

    def failing_hook(session: Session, clock: Any, written: InterventionPlan, actor: Any, *rest: Any) -> None:
        seen.append((written.priority, session.in_transaction()))
        raise RuntimeError("notification store failed")

    monkeypatch.setattr(plan_events, hook, failing_hook)
    payload = body if body is not None else _plan_body(plan.student_id, priority="high")
    # When the write runs
    response = call_api(
        method, PLANS + suffix.format(id=plan.id), claims=coordinator.claims, json_body=payload
    )
    # Then the hook ran inside the transaction and its failure undid the whole write
    assert response.status == 500
    assert seen == [("high" if hook != "plan_reviewed" else "low", True)]
    assert _count(db, InterventionPlan) == 1
    assert _count(db, PlanReview) == 0
    with Session(db) as session:
        assert session.get(InterventionPlan, plan.id).priority == "low"  # type: ignore[union-attr]


def test_plan_updated_hook_receives_the_previous_priority(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a low-priority plan and a recording hook
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    plan = factory.plan(factory.user(org), priority="low")
    calls: list[tuple[str, str, uuid.UUID]] = []
    monkeypatch.setattr(
        plan_events,
        "plan_updated",
        lambda session, clock, written, actor, previous: calls.append(
            (previous, written.priority, actor.user_id)
        ),
    )
    # When the coordinator raises it to high
    call_api("PATCH", f"{PLANS}/{plan.id}", claims=coordinator.claims, json_body={"priority": "high"})
    # Then the hook learns both priorities and the actor
    assert calls == [("low", "high", coordinator.user_id)]
