"""Notifications caused by plan writes (DESIGN §6), written in the caller's transaction.

The plans feature calls these inside the same session as the write; the notifications feature owns
what they create. Nobody is notified of their own act.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from eduautismo.clock import Clock, SystemClock
from eduautismo.db.models import InterventionPlan, User
from eduautismo.domain import Priority, Role
from eduautismo.identity.principal import Principal
from eduautismo.notifications.service import NotificationService


def _service(session: Session, clock: Clock | None) -> NotificationService:
    # The write's server-side timestamps (updated_at) key the notifications: make sure they exist.
    session.flush()
    return NotificationService(session, clock or SystemClock())


def _coordinators(session: Session, organization_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(User.id)
            .where(User.organization_id == organization_id, User.role == Role.COORDINATOR.value)
            .order_by(User.id)
        )
    )


# One plan write's notifications, as (recipient, what to send).
Sends = list[tuple[uuid.UUID, Callable[[uuid.UUID, InterventionPlan], object]]]


def _high_priority_sends(service: NotificationService, plan: InterventionPlan, actor: Principal) -> Sends:
    recipients = {plan.professional_id, *_coordinators(service.session, plan.organization_id)}
    return [(user_id, service.notify_high_priority) for user_id in recipients - {actor.user_id}]


def _send(plan: InterventionPlan, sends: Sends) -> None:
    """In recipient order: each insert raises the recipient's inbox version (a row lock held until the
    commit), and one order for every writer keeps concurrent plan writes from deadlocking."""
    for user_id, send in sorted(sends, key=lambda pair: pair[0]):
        send(user_id, plan)


def plan_created(
    session: Session, plan: InterventionPlan, actor: Principal, clock: Clock | None = None
) -> None:
    """`plan_created` to the responsible professional (if someone else acted); `high_priority` when high."""
    service = _service(session, clock)
    sends: Sends = []
    if plan.professional_id != actor.user_id:
        sends.append((plan.professional_id, service.notify_plan_created))
    if plan.priority == Priority.HIGH.value:
        sends.extend(_high_priority_sends(service, plan, actor))
    _send(plan, sends)


def plan_updated(
    session: Session,
    plan: InterventionPlan,
    actor: Principal,
    previous_priority: str,
    clock: Clock | None = None,
) -> None:
    """`plan_updated` to the responsible professional (if someone else acted); `high_priority` when the
    priority changed to high."""
    service = _service(session, clock)
    sends: Sends = []
    if plan.professional_id != actor.user_id:
        sends.append((plan.professional_id, service.notify_plan_updated))
    if plan.priority == Priority.HIGH.value and previous_priority != Priority.HIGH.value:
        sends.extend(_high_priority_sends(service, plan, actor))
    _send(plan, sends)


def plan_reviewed(
    session: Session, plan: InterventionPlan, reviewer: Principal, clock: Clock | None = None
) -> None:
    """`plan_reviewed` to the plan's creator when someone else reviewed."""
    if plan.created_by_id != reviewer.user_id:
        _service(session, clock).notify_plan_reviewed(plan.created_by_id, plan)
