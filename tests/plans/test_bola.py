"""Object-level authorization over every plan and student route: two organizations; two professionals
and a coordinator in one. Out of scope answers exactly like missing (404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from eduautismo.domain import Role
from tests.plans.conftest import PLANS, STUDENTS, item_ids, pending
from tests.support.api import call_api
from tests.support.factories import Actor, Factory


@dataclass
class World:
    coordinator: Actor
    alice: Actor  # professional of organization A
    bruno: Actor  # professional of organization A
    outsider: Actor  # coordinator of organization B
    outsider_professional: Actor
    plans: dict[str, uuid.UUID]  # owner name -> plan id
    students: dict[str, uuid.UUID]  # owner name -> student of that owner's plan


@pytest.fixture
def world(factory: Factory) -> World:
    org_a, org_b = factory.organization("Escola A"), factory.organization("Escola B")
    actors = {
        "coordinator": factory.user(org_a, Role.COORDINATOR),
        "alice": factory.user(org_a),
        "bruno": factory.user(org_a),
        "outsider": factory.user(org_b, Role.COORDINATOR),
        "outsider_professional": factory.user(org_b),
    }
    plans = {
        name: factory.plan(actors[name], priority="high", review_frequency="daily")
        for name in ("alice", "bruno", "outsider_professional")
    }
    return World(
        **actors,
        plans={name: plan.id for name, plan in plans.items()},
        students={name: plan.student_id for name, plan in plans.items()},
    )


# Who may reach whose objects: everything else must be 404.
VISIBLE = {
    "coordinator": {"alice", "bruno"},
    "alice": {"alice"},
    "bruno": {"bruno"},
    "outsider": {"outsider_professional"},
    "outsider_professional": {"outsider_professional"},
}
CALLERS = tuple(VISIBLE)
OWNERS = ("alice", "bruno", "outsider_professional")


def _plan_call(kind: str, caller: Actor, plan_id: uuid.UUID) -> Any:
    path = f"{PLANS}/{plan_id}"
    if kind == "get":
        return call_api("GET", path, claims=caller.claims)
    if kind == "patch":
        return call_api("PATCH", path, claims=caller.claims, json_body={"description": "alterado"})
    return call_api("POST", f"{path}/reviews", claims=caller.claims, json_body={"notes": "revisão"})


@pytest.mark.parametrize("kind", ["get", "patch", "review"])
@pytest.mark.parametrize("caller", CALLERS)
def test_plan_routes_reach_only_plans_in_scope(world: World, caller: str, kind: str) -> None:
    # Given the two-organization world
    actor = getattr(world, caller)
    for owner in OWNERS:
        # When the caller reads or writes each owner's plan
        response = _plan_call(kind, actor, world.plans[owner])
        # Then it succeeds only in scope, and out of scope looks exactly like a missing plan
        if owner in VISIBLE[caller]:
            assert response.status in (200, 201), (caller, owner, kind)
        else:
            assert response.status == 404, (caller, owner, kind)
            assert response.json == _plan_call(kind, actor, uuid.uuid4()).json


@pytest.mark.parametrize("caller", CALLERS)
def test_student_routes_reach_only_students_in_scope(world: World, caller: str) -> None:
    # Given the two-organization world
    actor = getattr(world, caller)
    # When the caller reads each student and lists students
    listed = {item["id"] for item in call_api("GET", STUDENTS, claims=actor.claims).json["items"]}
    for owner in OWNERS:
        response = call_api("GET", f"{STUDENTS}/{world.students[owner]}", claims=actor.claims)
        # Then only students in scope are readable or listed; the rest are 404 like a missing id
        visible = owner in VISIBLE[caller]
        assert response.status == (200 if visible else 404), (caller, owner)
        assert (str(world.students[owner]) in listed) is visible
        if not visible:
            missing = call_api("GET", f"{STUDENTS}/{uuid.uuid4()}", claims=actor.claims)
            assert response.json == missing.json


@pytest.mark.parametrize("caller", CALLERS)
def test_pending_review_lists_only_plans_in_scope(world: World, caller: str) -> None:
    # Given the world's plans, all due
    actor = getattr(world, caller)
    expected = {str(world.plans[owner]) for owner in VISIBLE[caller]}
    # When the caller lists pending reviews, from the database and then from the cache
    bypass, first, cached = (
        pending(actor, use_cache=False),
        pending(actor),
        pending(actor),
    )
    # Then each answer holds exactly the caller's scope
    assert set(item_ids(bypass)) == set(item_ids(first)) == set(item_ids(cached)) == expected
    assert cached.header("X-Cache") == "HIT"


def test_a_professional_filtering_by_another_professional_gets_403(world: World) -> None:
    # Given Alice and her colleague Bruno
    # When Alice filters by Bruno, by herself, and the coordinator filters by Bruno
    foreign = pending(world.alice, professional_id=world.bruno.user_id)
    own = pending(world.alice, professional_id=world.alice.user_id)
    coordinator = pending(world.coordinator, professional_id=world.bruno.user_id)
    # Then only Alice's request for Bruno's plans is refused
    assert foreign.status == 403
    assert item_ids(own) == [str(world.plans["alice"])]
    assert item_ids(coordinator) == [str(world.plans["bruno"])]


def test_a_coordinator_filtering_by_another_organizations_professional_sees_nothing(world: World) -> None:
    # Given a professional of organization B
    # When organization A's coordinator filters by them
    response = pending(world.coordinator, professional_id=world.outsider_professional.user_id)
    # Then the page is empty
    assert item_ids(response) == []
    assert response.json["total"] == 0


def test_a_coordinator_cannot_create_plans_for_another_organizations_student(world: World) -> None:
    # Given organization B's student
    body = {
        "student_id": str(world.students["outsider_professional"]),
        "title": "x",
        "review_frequency": "daily",
    }
    # When organization A's coordinator creates a plan for them
    response = call_api("POST", PLANS, claims=world.coordinator.claims, json_body=body)
    # Then it is refused as an unknown student
    assert response.status == 404
