"""The plan-write hooks, called the way the plans feature calls them: inside the write's transaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eduautismo.clock import Clock, SystemClock
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from eduautismo.identity.principal import Principal
from eduautismo.notifications import plan_events
from tests.notifications.support import count_notifications, notification_rows
from tests.support.factories import Actor, Factory


def _received(db: Engine, actor: Actor) -> list[tuple[str, str]]:
    return [(row.type, row.priority) for row in notification_rows(db, user_id=actor.user_id)]


def _write(db: Engine, plan_id: object, change: Callable[[Session, InterventionPlan], None]) -> None:
    """One unit of work like the plans API: load, change, call the hook, commit."""
    with Session(db) as session:
        plan = session.get(InterventionPlan, plan_id)
        assert plan is not None
        change(session, plan)
        session.commit()


def _school(factory: Factory) -> tuple[Actor, Actor, Actor, Actor]:
    org = factory.organization()
    return (
        factory.user(org, Role.PROFESSIONAL),
        factory.user(org, Role.COORDINATOR),
        factory.user(org, Role.COORDINATOR),
        factory.user(factory.organization(name="Outra"), Role.COORDINATOR),
    )


def test_plan_created_by_a_coordinator_notifies_the_responsible_professional(factory: Factory) -> None:
    # Given a coordinator who creates a medium plan for a professional
    professional, coordinator, other_coordinator, _ = _school(factory)
    plan = factory.plan(professional, created_by=coordinator)
    # When the hook runs in the write's transaction
    _write(
        factory.engine,
        plan.id,
        lambda s, p: plan_events.plan_created(s, SystemClock(), p, coordinator.principal),
    )
    # Then only the professional hears of it, with a link to the plan
    assert _received(factory.engine, professional) == [("plan_created", "medium")]
    assert _received(factory.engine, coordinator) == [] and _received(factory.engine, other_coordinator) == []
    row = notification_rows(factory.engine, user_id=professional.user_id)[0]
    assert row.title == "Novo Plano de Intervenção" and row.action_url == f"/intervention-plans/{plan.id}"
    assert row.organization_id == professional.organization_id


@pytest.mark.parametrize("hook", [plan_events.plan_created, plan_events.plan_reviewed])
def test_a_professional_acting_on_their_own_plan_notifies_nobody(
    factory: Factory, hook: Callable[[Session, Clock, InterventionPlan, Principal], None]
) -> None:
    # Given a medium plan a professional created for themselves
    professional, *_ = _school(factory)
    plan = factory.plan(professional)
    # When they create or review it
    _write(factory.engine, plan.id, lambda s, p: hook(s, SystemClock(), p, professional.principal))
    # Then nobody is notified
    assert count_notifications(factory.engine) == 0


def test_plan_created_as_high_is_urgent_for_the_coordinators_not_the_actor(factory: Factory) -> None:
    # Given a professional who creates their own high-priority plan
    professional, coordinator, other_coordinator, foreign_coordinator = _school(factory)
    plan = factory.plan(professional, priority="high")
    # When the hook runs
    _write(
        factory.engine,
        plan.id,
        lambda s, p: plan_events.plan_created(s, SystemClock(), p, professional.principal),
    )
    # Then both coordinators of the organization get an urgent high_priority; the actor and other orgs nothing
    assert _received(factory.engine, coordinator) == [("high_priority", "urgent")]
    assert _received(factory.engine, other_coordinator) == [("high_priority", "urgent")]
    assert _received(factory.engine, professional) == []
    assert _received(factory.engine, foreign_coordinator) == []


def test_priority_raised_to_high_by_a_coordinator(factory: Factory) -> None:
    # Given a medium plan of a professional
    professional, coordinator, other_coordinator, _ = _school(factory)
    plan = factory.plan(professional, created_by=coordinator)

    def raise_priority(session: Session, stored: InterventionPlan) -> None:
        previous = stored.priority
        stored.priority = "high"
        plan_events.plan_updated(session, SystemClock(), stored, coordinator.principal, previous)

    # When a coordinator raises it to high
    _write(factory.engine, plan.id, raise_priority)
    # Then the professional gets plan_updated and high_priority, the other coordinator high_priority only
    assert sorted(_received(factory.engine, professional)) == [
        ("high_priority", "urgent"),
        ("plan_updated", "low"),
    ]
    assert _received(factory.engine, other_coordinator) == [("high_priority", "urgent")]
    assert _received(factory.engine, coordinator) == []


def test_an_update_that_keeps_high_priority_sends_no_new_high_priority(factory: Factory) -> None:
    # Given a plan that already is high
    professional, coordinator, _, _ = _school(factory)
    plan = factory.plan(professional, priority="high", created_by=coordinator)

    def retitle(session: Session, stored: InterventionPlan) -> None:
        stored.title = "Novo título"
        plan_events.plan_updated(session, SystemClock(), stored, coordinator.principal, "high")

    # When the coordinator changes its title
    _write(factory.engine, plan.id, retitle)
    # Then the professional gets plan_updated (with the new title) and nobody gets high_priority
    rows = notification_rows(factory.engine)
    assert [(row.user_id, row.type) for row in rows] == [(professional.user_id, "plan_updated")]
    assert '"Novo título"' in rows[0].message


def test_each_update_is_its_own_notification_but_a_repeated_hook_is_not(factory: Factory) -> None:
    # Given a plan updated by a coordinator twice in separate writes, the first hook called twice
    professional, coordinator, _, _ = _school(factory)
    plan = factory.plan(professional, created_by=coordinator)

    def update(title: str, repeat: int) -> Callable[[Session, InterventionPlan], None]:
        def change(session: Session, stored: InterventionPlan) -> None:
            stored.title = title
            for _ in range(repeat):
                plan_events.plan_updated(session, SystemClock(), stored, coordinator.principal, "medium")

        return change

    # When both writes commit
    _write(factory.engine, plan.id, update("Primeira", 2))
    _write(factory.engine, plan.id, update("Segunda", 1))
    # Then there is one plan_updated per write
    assert _received(factory.engine, professional) == [("plan_updated", "low"), ("plan_updated", "low")]


def test_plan_reviewed_by_someone_else_notifies_the_creator(factory: Factory) -> None:
    # Given a plan a coordinator created for a professional
    professional, coordinator, _, _ = _school(factory)
    plan = factory.plan(professional, created_by=coordinator)

    def review(session: Session, stored: InterventionPlan) -> None:
        stored.last_reviewed_at = stored.created_at
        plan_events.plan_reviewed(session, SystemClock(), stored, professional.principal)

    # When the professional reviews it
    _write(factory.engine, plan.id, review)
    # Then the creator is told; the reviewer is not
    assert _received(factory.engine, coordinator) == [("plan_reviewed", "medium")]
    assert _received(factory.engine, professional) == []


def test_a_write_that_rolls_back_leaves_no_notification(factory: Factory) -> None:
    # Given a hook called inside a write that then fails
    professional, coordinator, _, _ = _school(factory)
    plan = factory.plan(professional, created_by=coordinator, priority="high")
    with Session(factory.engine) as session:
        stored = session.get(InterventionPlan, plan.id)
        assert stored is not None
        plan_events.plan_created(session, SystemClock(), stored, coordinator.principal)
        # When the transaction rolls back
        session.rollback()
    # Then nothing was notified
    assert count_notifications(factory.engine) == 0
