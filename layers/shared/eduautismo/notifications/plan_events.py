"""Notifications caused by plan writes (DESIGN §6), written in the caller's transaction.

The plans feature calls these inside the same session as the write; the notifications feature owns
what they create. Nobody is notified of their own act.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from eduautismo.clock import SystemClock
from eduautismo.db.models import InterventionPlan, User
from eduautismo.domain import Priority, Role
from eduautismo.identity.principal import Principal
from eduautismo.notifications.service import NotificationService


def _service(session: Session) -> NotificationService:
    # The write's server-side timestamps (updated_at) key the notifications: make sure they exist.
    session.flush()
    return NotificationService(session, SystemClock())


def _coordinators(session: Session, organization_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(User.id)
            .where(User.organization_id == organization_id, User.role == Role.COORDINATOR.value)
            .order_by(User.id)
        )
    )


def _notify_high_priority(service: NotificationService, plan: InterventionPlan, actor: Principal) -> None:
    recipients = {plan.professional_id, *_coordinators(service.session, plan.organization_id)}
    for user_id in sorted(recipients - {actor.user_id}):
        service.notify_high_priority(user_id, plan)


def plan_created(session: Session, plan: InterventionPlan, actor: Principal) -> None:
    """`plan_created` to the responsible professional (if someone else acted); `high_priority` when high."""
    service = _service(session)
    if plan.professional_id != actor.user_id:
        service.notify_plan_created(plan.professional_id, plan)
    if plan.priority == Priority.HIGH.value:
        _notify_high_priority(service, plan, actor)


def plan_updated(session: Session, plan: InterventionPlan, actor: Principal, previous_priority: str) -> None:
    """`plan_updated` to the responsible professional (if someone else acted); `high_priority` when the
    priority changed to high."""
    service = _service(session)
    if plan.professional_id != actor.user_id:
        service.notify_plan_updated(plan.professional_id, plan)
    if plan.priority == Priority.HIGH.value and previous_priority != Priority.HIGH.value:
        _notify_high_priority(service, plan, actor)


def plan_reviewed(session: Session, plan: InterventionPlan, reviewer: Principal) -> None:
    """`plan_reviewed` to the plan's creator when someone else reviewed."""
    if plan.created_by_id != reviewer.user_id:
        _service(session).notify_plan_reviewed(plan.created_by_id, plan)
