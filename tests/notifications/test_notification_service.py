"""NotificationService: idempotent creation, the per-type helpers and their pt-BR text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from eduautismo.clock import FixedClock
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import NotificationPriority, NotificationType
from eduautismo.notifications import texts
from eduautismo.notifications.service import NotificationService
from tests.notifications.support import add_notification, count_notifications
from tests.support.factories import Actor, Factory

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _plan(factory: Factory, **overrides: Any) -> tuple[InterventionPlan, Actor]:
    org = factory.organization()
    professional = factory.user(org)
    student = factory.student(org, full_name="Joana Segredo da Silva")
    plan = factory.plan(professional, student_id=student, title="Comunicação alternativa", **overrides)
    return plan, professional


def test_creating_the_same_notification_twice_returns_the_first(factory: Factory) -> None:
    # Given a notification with a dedupe key
    user = factory.user(factory.organization())
    first = add_notification(factory.engine, user, dedupe_key="system:aviso-1")
    # When it is created again
    second = add_notification(factory.engine, user, dedupe_key="system:aviso-1")
    # Then the first row comes back and only one exists
    assert second.id == first.id and second.created_at == first.created_at
    assert count_notifications(factory.engine) == 1


def test_the_same_dedupe_key_for_another_user_is_another_notification(factory: Factory) -> None:
    org = factory.organization()
    first = add_notification(factory.engine, factory.user(org), dedupe_key="system:aviso-1")
    second = add_notification(factory.engine, factory.user(org), dedupe_key="system:aviso-1")
    assert first.id != second.id and count_notifications(factory.engine) == 2


@pytest.mark.parametrize(
    ("days", "plan_priority", "expected_title", "expected_priority"),
    [
        (1, "medium", "Revisão Atrasada: 1 dia", NotificationPriority.HIGH),
        (5, "low", "Revisão Atrasada: 5 dias", NotificationPriority.HIGH),
        (7, "medium", "Revisão Atrasada: 7 dias", NotificationPriority.URGENT),
        (2, "high", "Revisão Atrasada: 2 dias", NotificationPriority.URGENT),
    ],
)
def test_review_overdue_text_priority_link_and_expiry(
    factory: Factory,
    days: int,
    plan_priority: str,
    expected_title: str,
    expected_priority: NotificationPriority,
) -> None:
    # Given a plan of a student whose name must never appear in a notification
    plan, professional = _plan(factory, priority=plan_priority)
    # When the professional is notified that its review is overdue
    with Session(factory.engine, expire_on_commit=False) as session:
        notification = NotificationService(session, FixedClock(NOW)).notify_review_overdue(
            professional.user_id, plan, days, escalate_after_days=7
        )
        session.commit()
    # Then the pt-BR text names only the plan, links to it, and expires after the type's default
    assert notification is not None
    assert notification.type == NotificationType.REVIEW_OVERDUE
    assert notification.title == expected_title
    assert notification.message == (
        f'O plano de intervenção "Comunicação alternativa" está com a revisão atrasada há '
        f"{expected_title.split(': ')[1]}. Revise-o assim que possível."
    )
    assert notification.priority == expected_priority
    assert "Joana" not in notification.title + notification.message
    assert notification.action_url == f"/intervention-plans/{plan.id}"
    assert notification.intervention_plan_id == plan.id
    assert notification.expires_at == NOW + timedelta(days=30)
    assert notification.dedupe_key == f"review_overdue:{plan.id}:{plan.next_review_due.isoformat()}"


def test_review_due_soon_names_the_due_date_in_brazilian_format(factory: Factory) -> None:
    # Given a weekly plan started on 2026-11-20 (due 2026-11-27)
    plan, professional = _plan(factory, start_date=date(2026, 11, 20))
    # When the professional is reminded
    with Session(factory.engine, expire_on_commit=False) as session:
        notification = NotificationService(session, FixedClock(NOW)).notify_review_due_soon(
            professional.user_id, plan
        )
        session.commit()
    # Then the message carries dd/mm/yyyy, medium priority and a 7-day expiry
    assert notification.title == "Revisão Próxima"
    assert (
        notification.message
        == 'A revisão do plano de intervenção "Comunicação alternativa" vence em 27/11/2026.'
    )
    assert notification.priority == NotificationPriority.MEDIUM
    assert notification.expires_at == NOW + timedelta(days=7)


def test_placeholder_text_inside_a_plan_title_is_kept_verbatim() -> None:
    rendered = texts.render(texts.REVIEW_OVERDUE.message, plan_title="Plano {days} {due_date}", days=3)
    assert '"Plano {days} {due_date}"' in rendered and "há 3 dias" in rendered
