"""GET/PATCH /users/me/preferences: defaults, partial changes, 422 for every bad field, and muted types
honoured by the plan events (the daily job's muting is in tests/jobs/test_bounded_reminders.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from eduautismo.clock import SystemClock
from eduautismo.domain import Role
from eduautismo.notifications import plan_events
from tests.notifications.support import notification_rows
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory

PREFERENCES = "/api/v1/users/me/preferences"
DEFAULTS = {"email_digest": "daily", "digest_hour": 7, "digest_weekday": 1, "muted_types": []}


def _get(caller: Actor) -> ApiResponse:
    return call_api("GET", PREFERENCES, claims=caller.claims)


def _patch(caller: Actor, body: Any) -> ApiResponse:
    return call_api("PATCH", PREFERENCES, claims=caller.claims, json_body=body)


def test_a_user_who_never_chose_gets_the_defaults(factory: Factory) -> None:
    professional = factory.user(factory.organization())
    response = _get(professional)
    assert (response.status, response.json) == (200, DEFAULTS)


def test_a_patch_changes_the_fields_sent_and_keeps_the_others(factory: Factory) -> None:
    # Given a professional and a colleague
    org = factory.organization()
    professional, colleague = factory.user(org), factory.user(org)
    # When the professional asks for a weekly digest on Friday, then mutes two types
    first = _patch(professional, {"email_digest": "weekly", "digest_weekday": 5.0})  # JSON Schema's integer
    second = _patch(professional, {"muted_types": ["plan_updated", "review_due_soon", "plan_updated"]})
    # Then each answer is the whole, merged set; the colleague keeps the defaults
    assert first.status == 200 and first.json == {**DEFAULTS, "email_digest": "weekly", "digest_weekday": 5}
    expected = {**first.json, "muted_types": ["plan_updated", "review_due_soon"]}
    assert (second.status, second.json) == (200, expected)
    assert _get(professional).json == expected
    assert _get(colleague).json == DEFAULTS


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email_digest": "hourly"}, "email_digest"),
        ({"email_digest": None}, "email_digest"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_hour": -1}, "digest_hour"),
        ({"digest_hour": "sete"}, "digest_hour"),
        ({"digest_hour": False}, "digest_hour"),
        ({"digest_weekday": "2"}, "digest_weekday"),
        ({"digest_weekday": 2.5}, "digest_weekday"),
        ({"digest_weekday": 0}, "digest_weekday"),
        ({"digest_weekday": 8}, "digest_weekday"),
        ({"muted_types": ["system"]}, "muted_types.0"),
        ({"muted_types": ["unknown"]}, "muted_types.0"),
        ({"muted_types": "plan_updated"}, "muted_types"),
        ({"theme": "dark"}, "theme"),
    ],
)
def test_every_bad_field_is_a_422_naming_it_and_changes_nothing(
    factory: Factory, body: dict[str, Any], field: str
) -> None:
    professional = factory.user(factory.organization())
    response = _patch(professional, body)
    assert response.status == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert field in {detail["field"] for detail in response.json["error"]["details"]}
    assert _get(professional).json == DEFAULTS


def test_an_empty_patch_is_a_422(factory: Factory) -> None:
    response = _patch(factory.user(factory.organization()), {})
    assert response.status == 422


def test_a_muted_type_creates_no_plan_event_for_that_user_only(factory: Factory) -> None:
    # Given a coordinator who muted plan_created and high_priority, and a professional who muted nothing
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    muting, listening = factory.user(org), factory.user(org)
    assert _patch(muting, {"muted_types": ["plan_created", "high_priority"]}).status == 200
    # When the coordinator creates a high-priority plan for each professional
    for professional in (muting, listening):
        plan = factory.plan(professional, created_by=coordinator, priority="high")
        with Session(factory.engine) as session:
            session.add(plan)
            plan_events.plan_created(session, SystemClock(), plan, coordinator.principal)
            session.commit()
    # Then the muting professional got nothing; the other got both notifications
    assert notification_rows(factory.engine, user_id=muting.user_id) == []
    assert sorted(row.type for row in notification_rows(factory.engine, user_id=listening.user_id)) == [
        "high_priority",
        "plan_created",
    ]
