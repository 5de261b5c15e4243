"""Notifications caused by plan writes, written in the caller's transaction.

The plans feature calls these inside the same session as the write; the notifications feature owns
what they create. Nobody is notified of their own act.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from eduautismo.clock import Clock
from eduautismo.db.models import InterventionPlan
from eduautismo.domain import Priority
from eduautismo.identity.principal import Principal
from eduautismo.notifications import repository
from eduautismo.notifications.service import NotificationService
from eduautismo.organizations import repository as organizations_repository


def _service(session: Session, clock: Clock) -> NotificationService:
    # The write's server-side timestamps (updated_at) key the notifications: make sure they exist.
    session.flush()
    return NotificationService(session, clock)


# One plan write's notifications, as (recipient, what to send).
Sends = list[tuple[uuid.UUID, Callable[[uuid.UUID, InterventionPlan], object]]]


def _high_priority_sends(service: NotificationService, plan: InterventionPlan, actor: Principal) -> Sends:
    recipients = {
        plan.professional_id,
        *organizations_repository.coordinators(service.session, plan.organization_id),
    }
    return [(user_id, service.notify_high_priority) for user_id in recipients - {actor.user_id}]


def _send(service: NotificationService, plan: InterventionPlan, sends: Sends) -> None:
    """In recipient order: each insert raises the recipient's inbox version (a row lock held until the
    commit), and one order for every writer keeps concurrent plan writes from deadlocking. Users Cognito
    disabled are skipped."""
    active = repository.active_users(service.session, {user_id for user_id, _ in sends})
    for user_id, send in sorted(sends, key=lambda pair: pair[0]):
        if user_id in active:
            send(user_id, plan)


def plan_created(session: Session, clock: Clock, plan: InterventionPlan, actor: Principal) -> None:
    """`plan_created` to the responsible professional (if someone else acted); `high_priority` when high."""
    service = _service(session, clock)
    sends: Sends = []
    if plan.professional_id != actor.user_id:
        sends.append((plan.professional_id, service.notify_plan_created))
    if plan.priority == Priority.HIGH.value:
        sends.extend(_high_priority_sends(service, plan, actor))
    _send(service, plan, sends)


def plan_updated(
    session: Session, clock: Clock, plan: InterventionPlan, actor: Principal, previous_priority: str
) -> None:
    """`plan_updated` to the responsible professional (if someone else acted); `high_priority` when the
    priority changed to high."""
    service = _service(session, clock)
    sends: Sends = []
    if plan.professional_id != actor.user_id:
        sends.append((plan.professional_id, service.notify_plan_updated))
    if plan.priority == Priority.HIGH.value and previous_priority != Priority.HIGH.value:
        sends.extend(_high_priority_sends(service, plan, actor))
    _send(service, plan, sends)


def plan_reviewed(session: Session, clock: Clock, plan: InterventionPlan, reviewer: Principal) -> None:
    """`plan_reviewed` to the plan's creator when someone else reviewed."""
    if plan.created_by_id != reviewer.user_id:
        service = _service(session, clock)
        _send(service, plan, [(plan.created_by_id, service.notify_plan_reviewed)])
