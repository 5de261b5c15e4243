"""Bounded reminders: per user and type at most REMINDER_DIGEST_THRESHOLD individual rows a run, else one
summary; one escalation summary per coordinator and local day; muted types create nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.context import build_context
from eduautismo.db.models import User
from eduautismo.digests import service
from eduautismo.digests.senders import OutboxSender
from eduautismo.domain import Role
from eduautismo.settings import get_settings
from tests.notifications.support import notification_rows
from tests.support.concurrency import run_at_once
from tests.support.factories import Actor, Factory
from tests.support.jobs import run_daily_job_at

EVENT_TIME = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 06:00 in São Paulo
TODAY = date(2026, 11, 25)


def _due(factory: Factory, professional: Actor, days_overdue: int, count: int, **overrides: Any) -> None:
    for index in range(count):
        start = TODAY - timedelta(days=7 + days_overdue)
        factory.plan(professional, start_date=start, title=f"Plano {days_overdue}/{index}", **overrides)


def _run(now: datetime = EVENT_TIME, **settings: Any) -> dict[str, Any]:
    return run_daily_job_at(now, **settings).as_dict()


def _rows(db: Engine, actor: Actor) -> list[tuple[str, str, str, str | None]]:
    return sorted(
        (row.type, row.priority, row.title, row.action_url)
        for row in notification_rows(db, user_id=actor.user_id)
    )


def test_at_the_threshold_each_plan_is_reminded_and_above_it_one_summary(factory: Factory) -> None:
    # Given (threshold 5) one professional with exactly 5 due-soon plans and another with 6 overdue plans
    org = factory.organization()
    at_threshold, above = factory.user(org), factory.user(org)
    _due(factory, at_threshold, -2, 5)
    _due(factory, above, 2, 6)
    # When the job runs
    summary = _run()
    # Then the first gets five individual rows, the second one summary linking to the overdue list
    assert [kind for kind, *_ in _rows(factory.engine, at_threshold)] == ["review_due_soon"] * 5
    assert _rows(factory.engine, above) == [
        (
            "review_overdue",
            "high",
            "6 planos com revisão atrasada",
            "/intervention-plans/pending-review?overdue_only=true",
        )
    ]
    [row] = notification_rows(factory.engine, user_id=above.user_id)
    assert row.intervention_plan_id is None and row.dedupe_key == "review_overdue:summary:2026-11-25"
    assert row.message == (
        "Você tem 6 planos de intervenção com a revisão atrasada. Veja a lista e revise-os."
    )
    assert row.expires_at == EVENT_TIME + timedelta(days=30)
    assert summary["created_by_type"] == {"review_due_soon": 5, "review_overdue": 1}


def test_each_type_is_bounded_on_its_own_and_the_summary_is_urgent_when_one_plan_is(
    factory: Factory,
) -> None:
    # Given a professional with 7 due-soon plans, 5 overdue by a day and 1 high-priority overdue
    professional = factory.user(factory.organization())
    _due(factory, professional, -1, 7)
    _due(factory, professional, 1, 5)
    _due(factory, professional, 1, 1, priority="high")
    # When the job runs
    _run()
    # Then one summary of each type; the overdue one is urgent (a high-priority plan is late)
    assert _rows(factory.engine, professional) == [
        ("review_due_soon", "medium", "7 planos com revisão próxima", "/intervention-plans/pending-review"),
        (
            "review_overdue",
            "urgent",
            "6 planos com revisão atrasada",
            "/intervention-plans/pending-review?overdue_only=true",
        ),
    ]


def test_the_threshold_follows_its_setting(factory: Factory) -> None:
    # Given a threshold of 2 and three overdue plans
    professional = factory.user(factory.organization())
    _due(factory, professional, 1, 3)
    # When the job runs
    _run(reminder_digest_threshold=2)
    # Then one summary instead of three reminders
    assert [title for _, _, title, _ in _rows(factory.engine, professional)] == [
        "3 planos com revisão atrasada"
    ]


def test_one_escalation_summary_per_coordinator_and_local_day_naming_the_three_with_most(
    factory: Factory,
) -> None:
    # Given four professionals with 4, 3, 2 and 1 plans overdue 7+ days, one 6 days late, two coordinators
    org = factory.organization()
    professionals = [factory.user(org, name=name) for name in ("Ana", "Bia", "Caio", "Duda")]
    for professional, count in zip(professionals, (4, 3, 2, 1), strict=True):
        _due(factory, professional, 9, count)
    _due(factory, professionals[3], 6, 1)
    coordinators = [factory.user(org, Role.COORDINATOR), factory.user(org, Role.COORDINATOR)]
    # When the job runs, again the same day, and the next day
    _run()
    _run(EVENT_TIME + timedelta(hours=3))
    _run(EVENT_TIME + timedelta(days=1))
    # Then each coordinator has exactly one escalation per local day, counting the 7+ days plans only
    for coordinator in coordinators:
        rows = notification_rows(factory.engine, user_id=coordinator.user_id)
        assert [row.dedupe_key for row in rows] == [
            "review_overdue:escalation:2026-11-25",
            "review_overdue:escalation:2026-11-26",
        ]
        assert rows[0].message == (
            "A organização tem 10 planos com a revisão atrasada há 7 dias ou mais. "
            "Profissionais com mais atrasos: Ana (4), Bia (3), Caio (2)."
        )
        # the next day the 6-days-late plan reached 7
        assert rows[1].title == "Revisões atrasadas há 7 dias ou mais: 11 planos"


def test_no_escalation_when_nothing_is_late_enough(factory: Factory) -> None:
    org = factory.organization()
    _due(factory, factory.user(org), 6, 3)
    coordinator = factory.user(org, Role.COORDINATOR)
    _run()
    assert _rows(factory.engine, coordinator) == []


def test_muted_types_create_nothing_for_that_user_only(factory: Factory) -> None:
    # Given two professionals with overdue and due-soon plans; one muted review_overdue; a coordinator
    # muted review_overdue too (so no escalation for them)
    org = factory.organization()
    muting, other = factory.user(org), factory.user(org)
    coordinator = factory.user(org, Role.COORDINATOR)
    factory.preferences(muting, muted_types=["review_overdue"])
    factory.preferences(coordinator, muted_types=["review_overdue"])
    for professional in (muting, other):
        _due(factory, professional, 8, 7)
        _due(factory, professional, -1, 1)
    # When the job runs
    _run()
    # Then the muting professional gets only the due-soon reminder; the other gets both; no escalation
    assert [kind for kind, *_ in _rows(factory.engine, muting)] == ["review_due_soon"]
    assert [kind for kind, *_ in _rows(factory.engine, other)] == ["review_due_soon", "review_overdue"]
    assert _rows(factory.engine, coordinator) == []


def test_concurrent_runs_create_each_summary_once_and_bound_every_user(factory: Factory) -> None:
    # Given a school with many overdue plans spread over professionals, and coordinators
    org = factory.organization()
    professionals = [factory.user(org) for _ in range(4)]
    for index, professional in enumerate(professionals):
        _due(factory, professional, 8, 3 + 3 * index)
        _due(factory, professional, -1, 2 + 2 * index)
    coordinators = [factory.user(org, Role.COORDINATOR) for _ in range(2)]

    # When three runs start at once
    run_at_once([lambda: _run()] * 3)
    # Then nobody has more than 5 rows of a type, and each coordinator exactly one escalation
    per_user_type = Counter((row.user_id, row.type) for row in notification_rows(factory.engine))
    assert max(per_user_type.values()) <= get_settings().reminder_digest_threshold
    for coordinator in coordinators:
        assert len(_rows(factory.engine, coordinator)) == 1
    assert _run()["created_by_type"] == {"review_due_soon": 0, "review_overdue": 0}


def test_a_user_cognito_disabled_gets_no_reminder_escalation_or_digest(
    factory: Factory, tmp_path: Any
) -> None:
    # Given a professional and a coordinator, both disabled by Cognito, with late plans in the organization
    org = factory.organization()
    professional, coordinator = factory.user(org), factory.user(org, Role.COORDINATOR)
    _due(factory, professional, 9, 2)
    with Session(factory.engine) as session:
        session.execute(
            update(User)
            .where(User.id.in_([professional.user_id, coordinator.user_id]))
            .values(status="disabled")
        )
        session.commit()
    # When the daily job and the digest tick of 07:00 São Paulo run
    _run()
    tick = service.run_tick(
        build_context(clock=FixedClock(EVENT_TIME)),
        service.Tick(EVENT_TIME + timedelta(hours=1)),
        OutboxSender(tmp_path),
    )
    # Then neither got anything
    assert _rows(factory.engine, professional) == [] and _rows(factory.engine, coordinator) == []
    assert tick.selected == 0 and list(tmp_path.iterdir()) == []
