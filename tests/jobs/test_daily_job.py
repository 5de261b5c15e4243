"""The daily job with controlled times: reminders, escalation, idempotence, concurrency and cleanup."""

from __future__ import annotations

import dataclasses
import json
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Role
from eduautismo.jobs.schemas import DailyJobRequest, OrganizationDay, event_time
from eduautismo.jobs.service import remind_organization, run_daily_job
from eduautismo.notifications.service import NotificationService
from eduautismo.settings import get_settings
from eduautismo_local.cli import scheduled_event
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.template_routes import load_handler, scheduled_function
from tests.notifications.support import add_notification, count_notifications, notification_rows
from tests.support.concurrency import run_at_once
from tests.support.factories import Actor, Factory
from tests.support.jobs import job_context, run_daily_job_at

# 09:00 UTC is 06:00 in São Paulo (UTC-3, no daylight saving time since 2019): local date 2026-11-25.
EVENT_TIME = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def _plan_due(factory: Factory, professional: Actor, due: date, **overrides: Any) -> InterventionPlan:
    """A weekly plan never reviewed, so next_review_due = start_date + 7 days."""
    return factory.plan(professional, start_date=due - timedelta(days=7), **overrides)


def _run(now: datetime = EVENT_TIME, **settings: Any) -> dict[str, Any]:
    return run_daily_job_at(now, **settings).as_dict()


def _received(db: Engine, actor: Actor) -> list[tuple[str, str, str]]:
    return [(row.type, row.priority, row.title) for row in notification_rows(db, user_id=actor.user_id)]


def _school(factory: Factory, timezone: str = "America/Sao_Paulo") -> tuple[Actor, Actor, Actor]:
    org = factory.organization(timezone=timezone)
    return factory.user(org), factory.user(org, Role.COORDINATOR), factory.user(org, Role.COORDINATOR)


def test_a_review_due_within_three_days_is_a_medium_reminder(factory: Factory) -> None:
    # Given plans due today, in three days and in four days
    professional, coordinator, _ = _school(factory)
    for days_ahead in (0, 3, 4):
        _plan_due(factory, professional, TODAY + timedelta(days=days_ahead), title=f"Plano +{days_ahead}")
    # When the job runs
    summary = _run()
    # Then the first two are reminded to the professional only
    rows = notification_rows(factory.engine, user_id=professional.user_id)
    assert sorted(row.message for row in rows) == [
        'A revisão do plano de intervenção "Plano +0" vence em 25/11/2026.',
        'A revisão do plano de intervenção "Plano +3" vence em 28/11/2026.',
    ]
    assert {(row.type, row.priority, row.title) for row in rows} == {
        ("review_due_soon", "medium", "Revisão Próxima")
    }
    assert _received(factory.engine, coordinator) == []
    assert summary["plans_scanned"] == 2
    assert summary["created_by_type"] == {"review_due_soon": 2, "review_overdue": 0}


def test_overdue_by_one_day_is_high_to_the_professional_only(factory: Factory) -> None:
    # Given a medium plan due yesterday
    professional, coordinator, _ = _school(factory)
    plan = _plan_due(factory, professional, TODAY - timedelta(days=1), title="Rotina visual")
    # When the job runs
    _run()
    # Then the professional gets a high review_overdue in pt-BR with a link; no escalation yet
    [row] = notification_rows(factory.engine, user_id=professional.user_id)
    assert (row.type, row.priority, row.title) == ("review_overdue", "high", "Revisão Atrasada: 1 dia")
    assert row.message == (
        'O plano de intervenção "Rotina visual" está com a revisão atrasada há 1 dia. '
        "Revise-o assim que possível."
    )
    assert row.action_url == f"/intervention-plans/{plan.id}" and row.intervention_plan_id == plan.id
    assert row.created_at == EVENT_TIME and row.expires_at == EVENT_TIME + timedelta(days=30)
    assert _received(factory.engine, coordinator) == []


def test_a_high_priority_plan_overdue_is_urgent(factory: Factory) -> None:
    professional, _, _ = _school(factory)
    _plan_due(factory, professional, TODAY - timedelta(days=2), priority="high")
    _run()
    assert _received(factory.engine, professional) == [
        ("review_overdue", "urgent", "Revisão Atrasada: 2 dias")
    ]


def test_seven_days_overdue_is_urgent_and_escalated_to_every_coordinator(factory: Factory) -> None:
    # Given a plan 7 days overdue and one 6 days overdue, two coordinators, and a coordinator of another org
    professional, coordinator, other_coordinator = _school(factory)
    foreign_coordinator = factory.user(factory.organization(name="Outra"), Role.COORDINATOR)
    _plan_due(factory, professional, TODAY - timedelta(days=7), title="Sete")
    _plan_due(factory, professional, TODAY - timedelta(days=6), title="Seis")
    # When the job runs
    _run()
    # Then the professional gets urgent (7) and high (6); each coordinator one urgent escalation summary
    assert sorted(_received(factory.engine, professional)) == [
        ("review_overdue", "high", "Revisão Atrasada: 6 dias"),
        ("review_overdue", "urgent", "Revisão Atrasada: 7 dias"),
    ]
    for boss in (coordinator, other_coordinator):
        [row] = notification_rows(factory.engine, user_id=boss.user_id)
        assert (row.type, row.priority, row.intervention_plan_id) == ("review_overdue", "urgent", None)
        assert row.title == "Revisões atrasadas há 7 dias ou mais: 1 plano"
        assert row.message == (
            "A organização tem 1 plano com a revisão atrasada há 7 dias ou mais. "
            f"Profissionais com mais atrasos: {professional.name} (1)."
        )
        assert row.action_url == "/intervention-plans/pending-review?overdue_only=true"
        assert row.dedupe_key == "review_overdue:escalation:2026-11-25"
    assert _received(factory.engine, foreign_coordinator) == []


def test_escalation_threshold_follows_the_setting(factory: Factory) -> None:
    # Given escalation after 3 days and a plan 3 days overdue
    professional, coordinator, _ = _school(factory)
    _plan_due(factory, professional, TODAY - timedelta(days=3))
    # When the job runs
    _run(escalate_after_days=3)
    # Then the coordinator is told already
    assert [kind for kind, *_ in _received(factory.engine, coordinator)] == ["review_overdue"]


def test_paused_completed_and_archived_plans_are_skipped(factory: Factory) -> None:
    professional, _, _ = _school(factory)
    for status in ("paused", "completed", "archived"):
        _plan_due(factory, professional, TODAY - timedelta(days=10), status=status)
    summary = _run()
    assert count_notifications(factory.engine) == 0 and summary["plans_scanned"] == 0


def test_the_same_event_twice_creates_nothing_the_second_time(factory: Factory) -> None:
    # Given due-soon, overdue and escalated plans
    professional, _, _ = _school(factory)
    for offset in (2, -1, -9):
        _plan_due(factory, professional, TODAY + timedelta(days=offset))
    first = _run()
    # When the same event is delivered again (and once more the next day)
    second = _run()
    next_day = _run(EVENT_TIME + timedelta(days=1))
    # Then nothing new is created the same day (one notification per user, plan, cycle and type); the next
    # day only the two coordinators' escalation summaries of that day
    assert first["created_by_type"] == {"review_due_soon": 1, "review_overdue": 4}
    assert second["created_by_type"] == {"review_due_soon": 0, "review_overdue": 0}
    assert next_day["created_by_type"] == {"review_due_soon": 0, "review_overdue": 2}
    assert count_notifications(factory.engine) == 7


def test_plans_are_reminded_in_bounded_batches(factory: Factory) -> None:
    # Given batches of two plans and five plans to remind (an exact multiple would end on an empty batch)
    professional, _, _ = _school(factory)
    for _ in range(5):
        _plan_due(factory, professional, TODAY - timedelta(days=1))
    _plan_due(factory, professional, TODAY + timedelta(days=30))
    # When the job runs, its units of work counted
    ctx = job_context(EVENT_TIME, daily_job_plan_batch_size=2)
    units: list[None] = []

    def counted_uow() -> AbstractContextManager[Session]:
        units.append(None)
        return ctx.uow()

    summary = run_daily_job(dataclasses.replace(ctx, uow=counted_uow), DailyJobRequest()).as_dict()
    # Then every due plan was scanned once and reminded once
    assert summary["plans_scanned"] == 5 and summary["created_by_type"]["review_overdue"] == 5
    assert len(_received(factory.engine, professional)) == 5
    # And each batch (2, 2, 1 plans) had a transaction of its own, besides the organizations list, the
    # summaries and the two cleanup statements
    assert len(units) == 1 + 1 + 3 + 2


def test_two_concurrent_runs_create_each_notification_once(factory: Factory) -> None:
    # Given forty plans to remind, many of them escalated to two coordinators
    professional, _, _ = _school(factory)
    for index in range(40):
        _plan_due(factory, professional, TODAY + timedelta(days=3 - index % 12))

    def run() -> int:
        return sum(_run()["created_by_type"].values())

    # When two runs start at once
    created = run_at_once([run, run])
    # Then both finish, and between them every notification was created exactly once
    total = count_notifications(factory.engine)
    assert sum(created) == total
    assert _run()["created_by_type"] == {"review_due_soon": 0, "review_overdue": 0}


def test_a_review_after_the_reminder_silences_this_cycle_and_the_next_cycle_reminds_again(
    factory: Factory,
) -> None:
    # Given a plan reminded as due soon (due 2026-11-27)
    professional, _, _ = _school(factory)
    plan = _plan_due(factory, professional, TODAY + timedelta(days=2))
    _run()
    # When it is reviewed that day (next due 2026-12-02) and the job runs again that day and the next
    reviewed_at = EVENT_TIME + timedelta(hours=2)
    with Session(factory.engine) as session:
        session.execute(
            update(InterventionPlan)
            .where(InterventionPlan.id == plan.id)
            .values(last_reviewed_at=reviewed_at, next_review_due=date(2026, 12, 2))
        )
        session.commit()
    same_cycle = [_run(EVENT_TIME + timedelta(days=days)) for days in (0, 1)]
    # Then nothing new until the new cycle comes within three days of its due date
    assert all(sum(run["created_by_type"].values()) == 0 for run in same_cycle)
    new_cycle = _run(EVENT_TIME + timedelta(days=4))
    assert new_cycle["created_by_type"]["review_due_soon"] == 1
    messages = [row.message for row in notification_rows(factory.engine, user_id=professional.user_id)]
    assert [message[-11:] for message in messages] == ["27/11/2026.", "02/12/2026."]


def test_the_day_boundary_is_midnight_in_the_organizations_timezone(factory: Factory) -> None:
    # Given the same due date (24/11) in a São Paulo organization and in a UTC one
    sao_paulo_professional, _, _ = _school(factory)
    utc_professional, _, _ = _school(factory, timezone="UTC")
    for professional in (sao_paulo_professional, utc_professional):
        _plan_due(factory, professional, date(2026, 11, 24))
    # When the job runs at 02:30 UTC on 25/11, still 23:30 on 24/11 in São Paulo
    _run(datetime(2026, 11, 25, 2, 30, tzinfo=UTC))
    # Then the review is due today in São Paulo and one day overdue in UTC
    assert [kind for kind, *_ in _received(factory.engine, sao_paulo_professional)] == ["review_due_soon"]
    assert _received(factory.engine, utc_professional) == [
        ("review_overdue", "high", "Revisão Atrasada: 1 dia")
    ]


def test_a_run_that_died_midway_is_completed_by_the_next(factory: Factory) -> None:
    # Given two organizations, of which a previous run reminded only the first before dying
    first_professional, _, _ = _school(factory)
    second_professional, _, _ = _school(factory)
    _plan_due(factory, first_professional, TODAY - timedelta(days=1))
    _plan_due(factory, second_professional, TODAY - timedelta(days=1))
    remind_organization(job_context(EVENT_TIME), OrganizationDay(first_professional.organization_id, TODAY))
    # When the next run comes
    summary = _run()
    # Then it creates only what the first one missed
    assert summary["created_by_type"]["review_overdue"] == 1 and summary["organizations"] == 2
    assert (
        len(_received(factory.engine, first_professional))
        == len(_received(factory.engine, second_professional))
        == 1
    )


def test_the_job_and_the_service_write_the_same_notification(factory: Factory) -> None:
    # Given a plan 8 days overdue, reminded by the set-based job
    professional, _, _ = _school(factory)
    plan = _plan_due(factory, professional, TODAY - timedelta(days=8), title="Título com {days} e aspas \"'")
    _run()
    [job_row] = notification_rows(factory.engine, user_id=professional.user_id)
    # When the service is asked for the same notification
    with Session(factory.engine, expire_on_commit=False) as session:
        service = NotificationService(session, FixedClock(EVENT_TIME))
        own = service.notify_review_overdue(
            professional.user_id, plan, 8, escalate_after_days=get_settings().escalate_after_days
        )
        session.commit()
    # Then it returns the job's row, whose text and priority are exactly what the service renders
    assert own is not None and own.id == job_row.id
    assert (own.title, own.message, own.priority) == (job_row.title, job_row.message, job_row.priority)
    assert "Título com {days} e aspas \"'" in own.message and own.title == "Revisão Atrasada: 8 dias"
    assert count_notifications(factory.engine) == 3  # and the two coordinators' escalation summaries


def test_cleanup_deletes_expired_and_old_read_rows_in_batches(factory: Factory) -> None:
    # Given batches of two, and rows expired, read long ago, unread long ago, read recently and unexpired
    user = factory.user(factory.organization())
    long_ago = EVENT_TIME - timedelta(days=31)
    for _ in range(3):
        add_notification(factory.engine, user, expires_at=EVENT_TIME - timedelta(seconds=1))
    for _ in range(2):
        add_notification(factory.engine, user, created_at=long_ago, is_read=True)
    kept = [
        add_notification(factory.engine, user, created_at=long_ago),
        add_notification(factory.engine, user, created_at=EVENT_TIME - timedelta(days=29), is_read=True),
        add_notification(factory.engine, user, expires_at=EVENT_TIME + timedelta(seconds=1)),
    ]
    # When the job runs
    summary = _run(notification_cleanup_batch_size=2)
    # Then the five are gone and the three stay
    assert summary["deleted"] == 5
    assert {row.id for row in notification_rows(factory.engine)} == {row.id for row in kept}


def test_event_time_is_required_and_must_carry_a_timezone() -> None:
    assert event_time({"time": "2026-11-25T09:00:00Z"}) == EVENT_TIME
    for bad in ({}, {"time": ""}, {"time": "2026-11-25T09:00:00"}, {"time": "ontem"}):
        with pytest.raises(ValueError):
            event_time(bad)


def test_the_scheduled_handler_of_the_template_returns_and_logs_the_summary(
    factory: Factory, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given an overdue plan and the function template.yaml schedules
    professional, _, _ = _school(factory)
    _plan_due(factory, professional, TODAY - timedelta(days=1))
    handler = load_handler(*scheduled_function())  # type: ignore[misc]
    # When it receives the scheduled event the local CLI builds
    result = handler(
        scheduled_event("2026-11-25T09:00:00Z"), LocalLambdaContext(function_name="DailyJobFunction")
    )
    # Then it returns the summary, logs it and emits EMF metrics
    assert result["organizations"] == 1 and result["created_by_type"]["review_overdue"] == 1
    assert set(result) == {
        "organizations",
        "plans_scanned",
        "created_by_type",
        "already_expired",
        "deleted",
        "duration_ms",
    }
    [logged] = [record for record in caplog.records if record.getMessage() == "daily job finished"]
    assert logged.summary == result  # type: ignore[attr-defined]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any("DailyJobNotificationsCreated" in json.dumps(line.get("_aws", {})) for line in emf)
