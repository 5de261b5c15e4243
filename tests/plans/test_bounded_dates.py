"""Dates the plans API takes lie in 1900-01-01 … 2100-12-31: outside is a 422 naming the field
and changes nothing; inside, every review interval gives a due date (no overflow, never a 500)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from tests.plans.conftest import PLANS, pending
from tests.support.api import call_api
from tests.support.factories import Factory

OUT_OF_RANGE = ["9999-12-31", "9999-12-15", "2101-01-01", "1899-12-31", "0001-01-01"]


def _plan_body(student_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {"student_id": str(student_id), "title": "Rotina", "review_frequency": "quarterly", **extra}


def _plans(db: Engine) -> int:
    with Session(db) as session:
        return int(session.scalar(select(func.count()).select_from(InterventionPlan)) or 0)


@pytest.mark.parametrize("start_date", OUT_OF_RANGE)
def test_a_plan_starting_outside_the_range_is_422_and_not_created(
    factory: Factory, db: Engine, start_date: str
) -> None:
    # Given a coordinator and a student
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    # When a plan is created with a start date outside 1900-2100
    body = _plan_body(factory.student(org), start_date=start_date)
    response = call_api("POST", PLANS, claims=coordinator.claims, json_body=body)
    # Then 422 names start_date and nothing is stored
    assert response.status == 422
    assert [detail["field"] for detail in response.json["error"]["details"]] == ["start_date"]
    assert _plans(db) == 0


@pytest.mark.parametrize("start_date", OUT_OF_RANGE)
def test_a_patch_moving_the_start_outside_the_range_is_422_and_changes_nothing(
    factory: Factory, start_date: str
) -> None:
    # Given a plan
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    plan = factory.plan(factory.user(org), review_frequency="quarterly")
    path = f"{PLANS}/{plan.id}"
    before = call_api("GET", path, claims=coordinator.claims).json
    # When its start date is moved outside 1900-2100
    response = call_api("PATCH", path, claims=coordinator.claims, json_body={"start_date": start_date})
    # Then 422 names start_date and the plan is unchanged
    assert response.status == 422
    assert [detail["field"] for detail in response.json["error"]["details"]] == ["start_date"]
    assert call_api("GET", path, claims=coordinator.claims).json == before


@pytest.mark.parametrize(
    ("frequency", "start_date", "due"),
    [
        ("daily", "2100-12-31", "2101-01-01"),
        ("weekly", "2100-12-31", "2101-01-07"),
        ("biweekly", "2100-12-31", "2101-01-14"),
        ("monthly", "2100-12-31", "2101-01-31"),
        ("quarterly", "2100-12-31", "2101-03-31"),
        ("quarterly", "2100-11-30", "2101-02-28"),
        ("quarterly", "1900-01-01", "1900-04-01"),
    ],
)
def test_the_range_edges_are_accepted_with_their_due_date(
    factory: Factory, frequency: str, start_date: str, due: str
) -> None:
    # Given a coordinator and a student
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    # When a plan starts at an edge of the range
    body = _plan_body(factory.student(org), start_date=start_date, review_frequency=frequency)
    response = call_api("POST", PLANS, claims=coordinator.claims, json_body=body)
    # Then it is created, due one interval later (calendar months clamped to the month's end)
    assert response.status == 201, response.json
    assert response.json["next_review_due"] == due
    assert date.fromisoformat(response.json["start_date"]) == date.fromisoformat(start_date)


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_pending_review_dates_outside_the_range_are_422_naming_the_field(
    factory: Factory, field: str, value: str
) -> None:
    # Given a professional
    professional = factory.user(factory.organization())
    # When the list is filtered by a creation date outside 1900-2100
    response = pending(professional, **{field: value})
    # Then 422 names that field
    assert response.status == 422
    assert field in {detail["field"] for detail in response.json["error"]["details"]}


def test_pending_review_dates_at_the_edges_are_answered(factory: Factory) -> None:
    # Given a professional / When the list spans the whole range / Then it is answered
    professional = factory.user(factory.organization())
    assert pending(professional, date_from="1900-01-01", date_to="2100-12-31").status == 200
