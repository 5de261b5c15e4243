"""Plan writes through the plans API notify the right people, seen through the notifications API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.notifications.support import count_notifications
from tests.support.api import call_api
from tests.support.factories import Actor, Factory


def _inbox(actor: Actor) -> list[tuple[str, str]]:
    response = call_api("GET", "/api/v1/notifications", claims=actor.claims)
    assert response.status == 200, response.body
    return sorted((item["type"], item["priority"]) for item in response.json["items"])


def _call(actor: Actor, method: str, path: str, body: Any = None, expected: int = 200) -> Any:
    response = call_api(method, path, claims=actor.claims, json_body=body)
    assert response.status == expected, response.body
    return response.json


def test_create_raise_priority_and_review_through_the_api(factory: Factory) -> None:
    # Given a school with a professional and two coordinators
    org = factory.organization()
    professional = factory.user(org, Role.PROFESSIONAL)
    coordinator, other_coordinator = factory.user(org, Role.COORDINATOR), factory.user(org, Role.COORDINATOR)
    student_id = factory.student(org)
    # When a coordinator creates a plan for the professional
    plan = _call(
        coordinator,
        "POST",
        "/api/v1/intervention-plans",
        {
            "student_id": str(student_id),
            "professional_id": str(professional.user_id),
            "title": "Habilidades sociais",
            "review_frequency": "weekly",
        },
        expected=201,
    )
    # Then the professional is told, the acting coordinator is not
    assert _inbox(professional) == [("plan_created", "medium")]
    assert _inbox(coordinator) == [] and _inbox(other_coordinator) == []
    # When the coordinator raises it to high priority
    _call(coordinator, "PATCH", f"/api/v1/intervention-plans/{plan['id']}", {"priority": "high"})
    # Then the professional hears of the update and the urgency, the other coordinator of the urgency
    assert _inbox(professional) == [
        ("high_priority", "urgent"),
        ("plan_created", "medium"),
        ("plan_updated", "low"),
    ]
    assert _inbox(other_coordinator) == [("high_priority", "urgent")]
    assert _inbox(coordinator) == []
    # When the professional reviews it
    _call(
        professional,
        "POST",
        f"/api/v1/intervention-plans/{plan['id']}/reviews",
        {"notes": "ok"},
        expected=201,
    )
    # Then its creator, the coordinator, is told
    assert _inbox(coordinator) == [("plan_reviewed", "medium")]
    items = call_api("GET", "/api/v1/notifications", claims=coordinator.claims).json["items"]
    assert items[0]["action_url"] == f"/intervention-plans/{plan['id']}"
    assert '"Habilidades sociais"' in items[0]["message"]


def test_a_refused_plan_write_notifies_nobody(factory: Factory, db: Engine) -> None:
    # Given a coordinator and a professional
    org = factory.organization()
    professional, coordinator = factory.user(org), factory.user(org, Role.COORDINATOR)
    # When the coordinator sends an invalid plan (unknown student)
    response = call_api(
        "POST",
        "/api/v1/intervention-plans",
        claims=coordinator.claims,
        json_body={
            "student_id": "00000000-0000-4000-8000-000000000000",
            "professional_id": str(professional.user_id),
            "title": "Plano",
            "review_frequency": "weekly",
            "priority": "high",
        },
    )
    # Then it is refused and no notification exists
    assert response.status == 404
    assert count_notifications(db) == 0
