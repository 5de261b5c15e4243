"""The pending-review list: the review rules, every filter against an independent oracle, order,
pagination, include_student, and every bad input."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduautismo.clock import FixedClock
from eduautismo.domain import Role
from tests.plans.conftest import item_ids, pending
from tests.support.api import BAD_PAGE_PARAMETERS
from tests.support.factories import Actor, Factory

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
# 10 March 2026, 12:00 in São Paulo.
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Generated:
    """What the test asked for, kept apart from what the API stores: the oracle's input."""

    id: str
    professional_id: uuid.UUID
    student_id: uuid.UUID
    status: str
    priority: str
    review_frequency: str
    due: date
    created_local: date


def _interval_due(frequency: str, start: date) -> date:
    if frequency in ("daily", "weekly", "biweekly"):
        return start + timedelta(days={"daily": 1, "weekly": 7, "biweekly": 14}[frequency])
    months = 1 if frequency == "monthly" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, start.day)  # starts are on day <= 28 here


def oracle(plans: list[Generated], caller: Actor, query: dict[str, Any], today: date) -> list[str]:
    """A plain-Python reading of the review rules and filters, independent of the query builder."""
    selected = []
    for plan in plans:
        if caller.role is Role.PROFESSIONAL and plan.professional_id != caller.user_id:
            continue
        if plan.status != "active" or plan.due > today + timedelta(days=3):
            continue
        if query.get("overdue_only") and not plan.due < today:
            continue
        checks = {
            "priority": plan.priority,
            "professional_id": plan.professional_id,
            "student_id": plan.student_id,
            "review_frequency": plan.review_frequency,
        }
        if any(name in query and query[name] != value for name, value in checks.items()):
            continue
        if "date_from" in query and plan.created_local < query["date_from"]:
            continue
        if "date_to" in query and plan.created_local > query["date_to"]:
            continue
        selected.append(plan)
    selected.sort(key=lambda plan: (RANK[plan.priority], plan.due, uuid.UUID(plan.id)))
    return [plan.id for plan in selected]


@dataclass
class Caseload:
    coordinator: Actor
    professionals: list[Actor]
    students: list[uuid.UUID]
    plans: list[Generated]


def _generate(factory: Factory, count: int, seed: int) -> Caseload:
    rng = random.Random(seed)
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR)
    professionals = [factory.user(org) for _ in range(3)]
    students = [factory.student(org, full_name=f"Aluno {n}") for n in range(4)]
    plans = []
    for _ in range(count):
        frequency = rng.choice(["daily", "weekly", "biweekly", "monthly", "quarterly"])
        start = TODAY - timedelta(days=rng.randint(-2, 120))
        start = start.replace(day=min(start.day, 28))
        # Creation instants around local midnights, so date_from/date_to must use the org's timezone.
        created_local = TODAY - timedelta(days=rng.randint(0, 6))
        created = datetime.combine(created_local, datetime.min.time(), SAO_PAULO) + timedelta(
            minutes=rng.choice([0, 1, 30, 23 * 60 + 59])
        )
        professional = rng.choice(professionals)
        stored = factory.plan(
            professional,
            student_id=rng.choice(students),
            status=rng.choice(["active", "active", "active", "paused", "completed", "archived"]),
            priority=rng.choice(["low", "medium", "high"]),
            review_frequency=frequency,
            start_date=start,
            created_at=created,
        )
        plans.append(
            Generated(
                id=str(stored.id),
                professional_id=professional.user_id,
                student_id=stored.student_id,
                status=stored.status,
                priority=stored.priority,
                review_frequency=frequency,
                due=_interval_due(frequency, start),
                created_local=created.astimezone(SAO_PAULO).date(),
            )
        )
    return Caseload(coordinator, professionals, students, plans)


def _all_pages(caller: Actor, query: dict[str, Any], limit: int, use_cache: bool) -> tuple[list[str], int]:
    ids: list[str] = []
    skip = 0
    while True:
        response = pending(caller, **query, skip=skip, limit=limit, use_cache=use_cache)
        ids += item_ids(response)
        body = response.json
        assert body["skip"] == skip and body["limit"] == limit
        if not body["has_more"]:
            return ids, body["total"]
        skip += limit


def _filter_strategy(caseload: Caseload) -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "priority": st.sampled_from(["low", "medium", "high"]),
        "professional_id": st.sampled_from([p.user_id for p in caseload.professionals]),
        "student_id": st.sampled_from(caseload.students),
        "review_frequency": st.sampled_from(["daily", "weekly", "biweekly", "monthly", "quarterly"]),
        "date_from": st.dates(TODAY - timedelta(days=7), TODAY),
        "date_to": st.dates(TODAY - timedelta(days=7), TODAY),
        "overdue_only": st.booleans(),
    }
    return st.fixed_dictionaries({}, optional=optional).filter(
        lambda q: not ("date_from" in q and "date_to" in q and q["date_from"] > q["date_to"])
    )


def test_every_filter_combination_matches_the_oracle(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given 80 generated plans of three professionals, and "now" at noon in São Paulo
    caseload = _generate(factory, 80, seed=7)
    set_now(NOW)
    callers = [caseload.coordinator, *caseload.professionals]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        query=_filter_strategy(caseload),
        caller=st.sampled_from(callers),
        limit=st.integers(1, 30),
        use_cache=st.booleans(),
    )
    def check(query: dict[str, Any], caller: Actor, limit: int, use_cache: bool) -> None:
        if caller.role is Role.PROFESSIONAL and query.get("professional_id") not in (None, caller.user_id):
            # When a professional filters by a colleague / Then 403
            assert pending(caller, **query).status == 403
            return
        # When the caller pages through the list with random filters, from the cache or not
        ids, total = _all_pages(caller, query, limit, use_cache)
        # Then the pages concatenate to exactly the oracle's list, in its order
        expected = oracle(caseload.plans, caller, query, TODAY)
        assert ids == expected
        assert total == len(expected)

    check()


def test_due_soon_window_and_overdue_boundaries(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given daily plans due 2 days ago, yesterday, today, in 3 days and in 4 days
    professional = factory.user(factory.organization())
    plans = {
        offset: factory.plan(
            professional, review_frequency="daily", start_date=TODAY + timedelta(days=offset - 1)
        )
        for offset in (-2, -1, 0, 3, 4)
    }
    set_now(NOW)
    # When the professional lists all pending plans and then only the overdue ones
    listed = {item["id"]: item for item in pending(professional, use_cache=False).json["items"]}
    overdue = item_ids(pending(professional, overdue_only=True, use_cache=False))
    # Then the window ends at today + 3, and only plans due before today are overdue, with their day counts
    assert set(listed) == {str(plans[offset].id) for offset in (-2, -1, 0, 3)}
    assert [listed[str(plans[o].id)]["days_overdue"] for o in (-2, -1, 0, 3)] == [2, 1, 0, 0]
    assert [listed[str(plans[o].id)]["is_overdue"] for o in (-2, -1, 0, 3)] == [True, True, False, False]
    assert overdue == [str(plans[-2].id), str(plans[-1].id)]


def test_the_due_soon_window_follows_the_setting(
    factory: Factory, set_now: Callable[[datetime], FixedClock], override_settings: Callable[..., None]
) -> None:
    # Given REVIEW_DUE_SOON_DAYS=0 and plans due today and tomorrow
    override_settings(review_due_soon_days="0")
    professional = factory.user(factory.organization())
    due_today = factory.plan(professional, review_frequency="daily", start_date=TODAY - timedelta(days=1))
    factory.plan(professional, review_frequency="daily", start_date=TODAY)
    set_now(NOW)
    # When the list is read / Then only today's plan is pending
    assert item_ids(pending(professional)) == [str(due_today.id)]


def test_order_is_priority_then_due_date_then_id_and_include_student_adds_the_student(
    factory: Factory, set_now: Callable[[datetime], FixedClock]
) -> None:
    # Given plans of each priority with equal and different due dates
    org = factory.organization()
    professional = factory.user(org)
    student = factory.student(org, full_name="Helena Costa")
    made = [
        factory.plan(
            professional, student_id=student, priority=priority, review_frequency="daily", start_date=start
        )
        for priority in ("low", "high", "medium", "high")
        for start in (TODAY - timedelta(days=3), TODAY - timedelta(days=1), TODAY - timedelta(days=1))
    ]
    set_now(NOW)
    # When the list is read with the student
    response = pending(professional, include_student=True)
    # Then the order is high -> low, due date ascending, id ascending; each item names its student
    expected = sorted(made, key=lambda plan: (RANK[plan.priority], plan.next_review_due, plan.id))
    assert item_ids(response) == [str(plan.id) for plan in expected]
    assert {str(item["student"]["id"]) for item in response.json["items"]} == {str(student)}
    assert {item["student"]["full_name"] for item in response.json["items"]} == {"Helena Costa"}
    assert pending(professional).json["items"][0]["student"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        *BAD_PAGE_PARAMETERS,
        ({"priority": "urgent"}, "priority"),
        ({"review_frequency": "yearly"}, "review_frequency"),
        ({"professional_id": "not-a-uuid"}, "professional_id"),
        ({"student_id": "123"}, "student_id"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "date_to"),
        ({"overdue_only": "maybe"}, "overdue_only"),
        ({"use_cache": "perhaps"}, "use_cache"),
    ],
)
def test_bad_input_is_422_naming_the_field(factory: Factory, query: dict[str, str], field: str) -> None:
    # Given a professional
    professional = factory.user(factory.organization())
    # When the list is asked with a bad parameter
    response = pending(professional, **query)
    # Then 422 with the field named
    assert response.status == 422
    assert response.json["error"]["code"] == "validation_error"
    assert field in {detail["field"] for detail in response.json["error"]["details"]}


def test_limits_at_the_edges_are_accepted(factory: Factory) -> None:
    # Given a professional / When limit is 1 and 200 / Then both are answered
    professional = factory.user(factory.organization())
    assert pending(professional, limit=1).status == 200
    assert pending(professional, limit=200).status == 200
